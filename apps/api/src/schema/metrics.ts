/** Live metrics, time series and breakdowns, all read from per-minute roll-ups. */
import { builder } from './builder.js';
import type { ErrorTypeStat, IntentStat, MetricsSnapshot, TimeseriesPoint, ToolStat } from '../metrics/service.js';
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
    costUsd: t.exposeFloat('costUsd'),
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
