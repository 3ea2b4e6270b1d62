/** Live metrics, time series and breakdowns, all read from per-minute roll-ups. */
import { builder } from './builder.js';
import type { ErrorTypeStat, IntentStat, MetricsSnapshot, ModelStat, TimeseriesPoint, ToolStat, UnpricedModelStat } from '../metrics/service.js';
import { toBucket, toRange, windowArgs } from './range.js';
import { userInputError } from './errors.js';

const DEFAULT_WINDOW = '5m';

type StatShape = Omit<MetricsSnapshot, 'from' | 'to' | 'activeSessions'>;

const StatsRef = builder.interfaceRef<StatShape>('Stats').implement({
  description: 'Aggregates over a time range or bucket.',
  fields: (t) => ({
    count: t.exposeInt('count', { description: 'Interactions.' }),
    errors: t.exposeInt('errors', { description: 'Failed interactions.' }),
    errorRate: t.exposeFloat('errorRate', { description: 'Percent (0–100) of interactions that failed.' }),
    p50: t.exposeFloat('p50', { nullable: true, description: 'Median response time, ms.' }),
    p95: t.exposeFloat('p95', { nullable: true, description: '95th percentile response time, ms.' }),
    p99: t.exposeFloat('p99', { nullable: true, description: '99th percentile response time, ms.' }),
    meanResponseTimeMs: t.exposeFloat('meanResponseTimeMs', { nullable: true }),
    maxResponseTimeMs: t.exposeFloat('maxResponseTimeMs', { nullable: true }),
    throughputPerSecond: t.exposeFloat('throughputPerSecond'),
    throughputPerMinute: t.exposeFloat('throughputPerMinute'),
    inputTokens: t.exposeInt('inputTokens'),
    outputTokens: t.exposeInt('outputTokens'),
    costUsd: t.exposeFloat('costUsd', { description: 'Sum of the costs present; 0 when none. See totalCostUsd, which tells "no cost known" (null) from $0.' }),
    totalInputTokens: t.float({ description: 'Input tokens of the interactions that reported them.', resolve: (s) => s.inputTokens }),
    totalOutputTokens: t.float({ description: 'Output tokens of the interactions that reported them.', resolve: (s) => s.outputTokens }),
    totalCostUsd: t.exposeFloat('totalCostUsd', {
      nullable: true,
      description: 'USD: costs sent plus costs computed from the model price table; null when no interaction in the range has a cost.',
    }),
    costPerInteraction: t.exposeFloat('costPerInteraction', { nullable: true, description: 'Mean USD cost of the interactions that have a cost.' }),
    costedInteractions: t.exposeInt('costedInteractions', { description: 'Interactions with a cost (sent or computed).' }),
    unpricedInteractions: t.exposeInt('unpricedInteractions', { description: 'Interactions with a model but no cost (see unpricedModels): counted, never $0.' }),
  }),
});

export const MetricsRef = builder.objectRef<MetricsSnapshot>('Metrics').implement({
  description: 'Aggregates over a time range. Percentiles come from log-bucketed histograms (about 4 % relative error).',
  interfaces: [StatsRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'activeSessions' in v,
  fields: (t) => ({
    from: t.field({ type: 'DateTime', resolve: (m) => m.from }),
    to: t.field({ type: 'DateTime', resolve: (m) => m.to }),
    activeSessions: t.exposeInt('activeSessions', { description: 'Sessions with an interaction in the range.' }),
  }),
});

const PointRef = builder.objectRef<TimeseriesPoint>('TimeseriesPoint').implement({
  interfaces: [StatsRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'start' in v,
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (p) => p.start }),
    end: t.field({ type: 'DateTime', resolve: (p) => p.end }),
  }),
});

const IntentStatRef = builder.objectRef<IntentStat>('IntentStat').implement({
  fields: (t) => ({
    intent: t.exposeString('intent'),
    count: t.exposeInt('count'),
    errors: t.exposeInt('errors'),
    errorRate: t.exposeFloat('errorRate', { description: 'Percent.' }),
    meanResponseTimeMs: t.exposeFloat('meanResponseTimeMs', { nullable: true }),
  }),
});

const ToolStatRef = builder.objectRef<ToolStat>('ToolStat').implement({
  fields: (t) => ({
    tool: t.exposeString('tool'),
    calls: t.exposeInt('calls'),
    errors: t.exposeInt('errors'),
    errorRate: t.exposeFloat('errorRate', { description: 'Percent.' }),
    meanDurationMs: t.exposeFloat('meanDurationMs', { nullable: true }),
  }),
});

const ErrorTypeStatRef = builder.objectRef<ErrorTypeStat>('ErrorTypeStat').implement({
  fields: (t) => ({
    errorType: t.exposeString('errorType', { description: '"unknown" for failures without an error type.' }),
    count: t.exposeInt('count'),
    share: t.exposeFloat('share', { description: 'Fraction (0–1) of all failures in the range.' }),
  }),
});

const ModelStatRef = builder.objectRef<ModelStat>('ModelStat').implement({
  description: 'One model: calls, errors, latency, tokens and cost over a range.',
  fields: (t) => ({
    model: t.exposeString('model'),
    count: t.exposeInt('count', { description: 'Interactions of the model.' }),
    errors: t.exposeInt('errors'),
    errorRate: t.exposeFloat('errorRate', { description: 'Percent.' }),
    p50: t.exposeFloat('p50', { nullable: true, description: 'Median response time, ms.' }),
    p95: t.exposeFloat('p95', { nullable: true, description: '95th percentile response time, ms.' }),
    meanResponseTimeMs: t.exposeFloat('meanResponseTimeMs', { nullable: true }),
    inputTokens: t.float({ resolve: (m) => m.inputTokens }),
    outputTokens: t.float({ resolve: (m) => m.outputTokens }),
    totalCostUsd: t.exposeFloat('totalCostUsd', { nullable: true, description: 'Null when none of its interactions has a cost.' }),
    costPerInteraction: t.exposeFloat('costPerInteraction', { nullable: true }),
    costedInteractions: t.exposeInt('costedInteractions'),
    unpricedInteractions: t.exposeInt('unpricedInteractions', { description: 'Interactions without a cost.' }),
    priced: t.exposeBoolean('priced', { description: 'The model has a price in the table (packaged or the model price file).' }),
  }),
});

const UnpricedModelRef = builder.objectRef<UnpricedModelStat>('UnpricedModel').implement({
  description: 'A model whose interactions have no cost: not in the price table (priced false), or sent without token counts (priced true).',
  fields: (t) => ({
    model: t.exposeString('model'),
    interactions: t.exposeInt('interactions'),
    priced: t.exposeBoolean('priced'),
  }),
});

const limitArg = builder.args((t) => ({ limit: t.int({ required: false, defaultValue: 20 }) }));

function limitOf(limit: number | null | undefined): number {
  const n = limit ?? 20;
  if (n < 1 || n > 1000) throw userInputError('limit: must be between 1 and 1000');
  return n;
}

builder.queryFields((t) => ({
  metrics: t.field({
    type: MetricsRef,
    args: windowArgs(DEFAULT_WINDOW),
    resolve: (_root, args, ctx) => ctx.services.metrics.snapshot(toRange(args, DEFAULT_WINDOW)),
  }),
  timeseries: t.field({
    type: [PointRef],
    description: 'Bucketed metrics; only buckets with traffic are returned.',
    args: { ...windowArgs('1h'), bucket: t.arg.string({ required: false, description: 'Bucket size (whole minutes): 1m, 5m, 1h. Chosen from the range when absent.' }) },
    resolve: (_root, args, ctx) => {
      const range = toRange(args, '1h');
      return ctx.services.metrics.timeseries(range, toBucket(range, args.bucket));
    },
  }),
  intentBreakdown: t.field({
    type: [IntentStatRef],
    args: { ...windowArgs('1h'), ...limitArg },
    resolve: (_root, args, ctx) => ctx.services.metrics.intents(toRange(args, '1h'), limitOf(args.limit)),
  }),
  toolBreakdown: t.field({
    type: [ToolStatRef],
    args: { ...windowArgs('1h'), ...limitArg },
    resolve: (_root, args, ctx) => ctx.services.metrics.tools(toRange(args, '1h'), limitOf(args.limit)),
  }),
  modelBreakdown: t.field({
    type: [ModelStatRef],
    description: 'Per model (interactions that name one), most interactions first.',
    args: { ...windowArgs('1h'), ...limitArg },
    resolve: (_root, args, ctx) => ctx.services.metrics.models(toRange(args, '1h'), limitOf(args.limit)),
  }),
  unpricedModels: t.field({
    type: [UnpricedModelRef],
    description: 'Models with interactions that have no cost in the range, most first.',
    args: { ...windowArgs('1h'), ...limitArg },
    resolve: (_root, args, ctx) => ctx.services.metrics.unpricedModels(toRange(args, '1h'), limitOf(args.limit)),
  }),
  errorBreakdown: t.field({
    type: [ErrorTypeStatRef],
    args: { ...windowArgs('1h'), ...limitArg },
    resolve: (_root, args, ctx) => ctx.services.metrics.errorTypes(toRange(args, '1h'), limitOf(args.limit)),
  }),
}));

builder.subscriptionFields((t) => ({
  metricsUpdated: t.field({
    type: MetricsRef,
    description: 'Metrics over the window, pushed at most a few times per second while traffic arrives (from any replica).',
    args: windowArgs(DEFAULT_WINDOW),
    subscribe: (_root, _args, ctx) => ctx.services.local.subscribe('metricsTick'),
    resolve: (tick: number, args, ctx) =>
      ctx.services.metrics.snapshotForTick(tick, `${args.window ?? ''}|${args.from?.getTime() ?? ''}|${args.to?.getTime() ?? ''}`, () =>
        toRange(args, DEFAULT_WINDOW),
      ),
  }),
}));
