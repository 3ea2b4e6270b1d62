/** Releases (the record's `version` per `assistant`) and their comparison (PRODUCT.md §12). */
import { builder } from './builder.js';
import type { Context } from './context.js';
import type { ComparisonRow, ReleaseStats } from '../stats/compare.js';
import type { ReleaseComparison, ReleaseInfo, ReleasePoint, CompareRequest } from '../releases/service.js';
import { toBucket, toRange, windowArgs } from './range.js';
import { userInputError } from './errors.js';

const DimensionRef = builder.enumType('ComparisonDimension', {
  description: 'What a comparison row is about.',
  values: ['OVERALL', 'INTENT', 'TOOL', 'ERROR_TYPE', 'MODEL'] as const,
});

export const VerdictRef = builder.enumType('ComparisonVerdict', {
  description:
    'IMPROVED / REGRESSED: the success-rate difference is significant (q-value ≤ 0.05 and its interval excludes 0); NO_CHANGE: ' +
    'not significant with enough data (see sampleNeeded for the sample that would detect the stated effect); ' +
    'INSUFFICIENT_DATA: a release has fewer interactions than minSample.',
  values: ['IMPROVED', 'REGRESSED', 'NO_CHANGE', 'INSUFFICIENT_DATA'] as const,
});

const ReleaseRef = builder.objectRef<ReleaseInfo>('Release').implement({
  description: 'A release: the records of one assistant with one `version`, with headline metrics over the range.',
  fields: (t) => ({
    assistant: t.string({ nullable: true, description: 'Null for records without an assistant.', resolve: (r) => r.assistant || null }),
    version: t.exposeString('version'),
    firstSeen: t.field({ type: 'DateTime', resolve: (r) => r.firstSeen, description: 'First interaction in the range.' }),
    lastSeen: t.field({ type: 'DateTime', resolve: (r) => r.lastSeen, description: 'Last interaction in the range.' }),
    count: t.exposeInt('count', { description: 'Interactions (the release\u2019s traffic).' }),
    successRate: t.exposeFloat('successRate', { nullable: true, description: 'Percent (0–100).' }),
    successLow: t.exposeFloat('successLow', { nullable: true, description: 'Wilson 95 % lower limit, percent (interactions as independent).' }),
    successHigh: t.exposeFloat('successHigh', { nullable: true, description: 'Wilson 95 % upper limit, percent.' }),
    p50: t.exposeFloat('p50', { nullable: true, description: 'Median response time, ms.' }),
    p95: t.exposeFloat('p95', { nullable: true, description: '95th percentile response time, ms.' }),
    tokensPerInteraction: t.exposeFloat('tokensPerInteraction', { nullable: true }),
    costPerInteraction: t.exposeFloat('costPerInteraction', { nullable: true, description: 'USD.' }),
  }),
});

const ReleaseStatsRef = builder.objectRef<ReleaseStats>('ReleaseStats').implement({
  description: 'One release in a comparison row. Rates are percentages (0–100), like errorRate; times in ms.',
  fields: (t) => ({
    count: t.exposeInt('count', { description: 'Interactions (tool calls in TOOL rows; all interactions of the release in ERROR_TYPE rows).' }),
    successRate: t.exposeFloat('successRate', {
      nullable: true,
      description: 'Percent succeeded; in ERROR_TYPE rows the percent of interactions that did not fail with this error type (100 − its share).',
    }),
    successLow: t.exposeFloat('successLow', { nullable: true, description: 'Wilson 95 % lower limit, sessions as clusters.' }),
    successHigh: t.exposeFloat('successHigh', { nullable: true, description: 'Wilson 95 % upper limit, sessions as clusters.' }),
    p50: t.exposeFloat('p50', { nullable: true }),
    p95: t.exposeFloat('p95', { nullable: true }),
    p95Low: t.exposeFloat('p95Low', { nullable: true, description: 'Distribution-free 95 % lower limit of p95 (order statistics).' }),
    p95High: t.exposeFloat('p95High', { nullable: true, description: 'Upper limit; null when too few interactions bound it.' }),
    tokensPerInteraction: t.exposeFloat('tokensPerInteraction', { nullable: true }),
    costPerInteraction: t.exposeFloat('costPerInteraction', { nullable: true, description: 'USD.' }),
    designEffect: t.exposeFloat('designEffect', { description: 'Variance inflation from sessions (≥ 1); the effective sample is count / designEffect.' }),
  }),
});

export const ComparisonRowRef = builder.objectRef<ComparisonRow>('ComparisonRow').implement({
  description: 'Candidate against baseline for the whole release (OVERALL) or one intent, tool, error type or model.',
  fields: (t) => ({
    dimension: t.field({ type: DimensionRef, resolve: (r) => r.dimension }),
    key: t.exposeString('key', { description: 'The intent, tool, error type or model; empty for OVERALL.' }),
    baseline: t.field({ type: ReleaseStatsRef, resolve: (r) => r.baseline }),
    candidate: t.field({ type: ReleaseStatsRef, resolve: (r) => r.candidate }),
    successDiff: t.exposeFloat('successDiff', { nullable: true, description: 'Candidate − baseline success rate, percentage points.' }),
    successDiffLow: t.exposeFloat('successDiffLow', { nullable: true, description: 'Newcombe hybrid-score 95 % lower limit (sessions as clusters).' }),
    successDiffHigh: t.exposeFloat('successDiffHigh', { nullable: true }),
    p95Diff: t.exposeFloat('p95Diff', { nullable: true, description: 'Candidate − baseline p95, ms.' }),
    p95DiffLow: t.exposeFloat('p95DiffLow', { nullable: true, description: 'MOVER 95 % lower limit from the two order-statistic intervals.' }),
    p95DiffHigh: t.exposeFloat('p95DiffHigh', { nullable: true }),
    pValue: t.exposeFloat('pValue', { nullable: true, description: 'Two-proportion score test on the effective (cluster-adjusted) counts.' }),
    qValue: t.exposeFloat('qValue', {
      nullable: true,
      description: 'Benjamini–Hochberg adjusted over the rows with enough data; equals pValue for OVERALL; null below minSample.',
    }),
    verdict: t.field({ type: VerdictRef, resolve: (r) => r.verdict, description: 'Fixed-horizon verdict.' }),
    sequentialLow: t.exposeFloat('sequentialLow', { nullable: true, description: 'Anytime-valid confidence sequence for successDiff, lower limit.' }),
    sequentialHigh: t.exposeFloat('sequentialHigh', { nullable: true }),
    sequentialVerdict: t.field({ type: VerdictRef, resolve: (r) => r.sequentialVerdict, description: 'Live verdict from the confidence sequence: safe to check at any time.' }),
    sampleNeeded: t.exposeInt('sampleNeeded', { description: 'Further interactions per release needed to detect the stated effect with 80 % power (0: enough).' }),
  }),
});

const ComparisonRef = builder.objectRef<ReleaseComparison>('ReleaseComparison').implement({
  fields: (t) => ({
    assistant: t.string({ nullable: true, resolve: (c) => c.assistant || null }),
    baseline: t.exposeString('baseline'),
    candidate: t.exposeString('candidate'),
    from: t.field({ type: 'DateTime', resolve: (c) => c.from }),
    to: t.field({ type: 'DateTime', resolve: (c) => c.to }),
    minSample: t.int({ resolve: (c) => c.options.minSample }),
    effect: t.float({ resolve: (c) => c.options.effect * 100, description: 'The effect to detect, percentage points.' }),
    overall: t.field({ type: ComparisonRowRef, resolve: (c) => c.overall }),
    rows: t.field({ type: [ComparisonRowRef], resolve: (c) => c.rows }),
    note: t.exposeString('note', { description: 'How the figures were computed (sessions are treated as clusters).' }),
  }),
});

const PointRef = builder.objectRef<ReleasePoint>('ReleasePoint').implement({
  fields: (t) => ({
    version: t.exposeString('version'),
    start: t.field({ type: 'DateTime', resolve: (p) => p.start }),
    count: t.exposeInt('count'),
    successRate: t.exposeFloat('successRate', { description: 'Percent.' }),
    p95: t.exposeFloat('p95', { nullable: true }),
  }),
});

const compareArgs = builder.args((t) => ({
  ...windowArgs('7d'),
  assistant: t.string({ required: false, description: 'The assistant; null for records without one.' }),
  baseline: t.string({ required: true, description: 'Baseline version.' }),
  candidate: t.string({ required: true, description: 'Candidate version.' }),
  minSample: t.int({ required: false, defaultValue: 100, description: 'Fewest interactions per release before a verdict (1–1,000,000).' }),
  effect: t.float({ required: false, defaultValue: 5, description: 'Success-rate change to detect, percentage points (0–100), for sampleNeeded.' }),
  limit: t.int({ required: false, defaultValue: 20, description: 'Most rows per dimension, by traffic (1–200).' }),
}));

interface CompareArgs {
  window?: string | null;
  from?: Date | null;
  to?: Date | null;
  assistant?: string | null;
  baseline: string;
  candidate: string;
  minSample?: number | null;
  effect?: number | null;
  limit?: number | null;
}

/** The comparison request, with arguments checked (errors name the argument). */
export function compareRequest(args: CompareArgs): CompareRequest {
  const minSample = args.minSample ?? 100;
  if (!(minSample >= 1 && minSample <= 1_000_000)) throw userInputError('minSample: must be between 1 and 1000000');
  const effect = args.effect ?? 5;
  if (!(effect > 0 && effect < 100)) throw userInputError('effect: must be more than 0 and less than 100 (percentage points)');
  const limit = args.limit ?? 20;
  if (!(limit >= 1 && limit <= 200)) throw userInputError('limit: must be between 1 and 200');
  if (args.baseline.length === 0) throw userInputError('baseline: must not be empty');
  if (args.candidate.length === 0) throw userInputError('candidate: must not be empty');
  return {
    assistant: args.assistant ?? '',
    baseline: args.baseline,
    candidate: args.candidate,
    range: toRange(args, '7d'),
    limit,
    options: { minSample, effect: effect / 100 },
  };
}

/**
 * The live comparison per arguments, shared by every subscriber asking the same and computed
 * at most once per second (ticks come up to four times a second while traffic flows, and a
 * comparison over millions of interactions costs tens of milliseconds).
 */
const LIVE_MIN_INTERVAL_MS = 1000;

interface LiveEntry {
  at: number;
  result: Promise<ReleaseComparison>;
  /** The one computation queued for when the interval is over: ticks meanwhile all get it, so the last change is never missed. */
  next: Promise<ReleaseComparison> | null;
}

const liveCache = new WeakMap<Context['services'], Map<string, LiveEntry>>();

function comparisonForTick(ctx: Context, _tick: number, args: CompareArgs): Promise<ReleaseComparison> {
  let cache = liveCache.get(ctx.services);
  if (!cache) liveCache.set(ctx.services, (cache = new Map()));
  const key = JSON.stringify([args.window, args.from?.getTime(), args.to?.getTime(), args.assistant, args.baseline, args.candidate, args.minSample, args.effect, args.limit]);
  const now = Date.now();
  // Entries of arguments nobody asked for lately are dropped.
  for (const [k, v] of cache) if (now - v.at > 60_000 && !v.next) cache.delete(k);
  const start = (): Promise<ReleaseComparison> => {
    const result = ctx.services.releases.compare(compareRequest(args));
    cache.set(key, { at: Date.now(), result, next: null });
    return result;
  };
  const entry = cache.get(key);
  if (!entry || now >= entry.at + LIVE_MIN_INTERVAL_MS) return start();
  entry.next ??= new Promise<void>((r) => setTimeout(r, entry.at + LIVE_MIN_INTERVAL_MS - now)).then(start);
  return entry.next;
}

builder.queryFields((t) => ({
  releases: t.field({
    type: [ReleaseRef],
    description: 'Releases with traffic in the range, most recently seen first. Read from the release roll-ups (hourly).',
    args: { ...windowArgs('30d'), assistant: t.arg.string({ required: false, description: 'Only this assistant; all when absent.' }) },
    resolve: (_root, args, ctx) => ctx.services.releases.releases(args.assistant ?? null, toRange(args, '30d')),
  }),
  compareReleases: t.field({
    type: ComparisonRef,
    description: 'Candidate against baseline, overall and per intent, tool, error type and model. `from` rounds down to its hour.',
    args: compareArgs,
    resolve: (_root, args, ctx) => ctx.services.releases.compare(compareRequest(args)),
  }),
  releaseTimeseries: t.field({
    type: [PointRef],
    description: 'Success rate and p95 over time, one series per version (hourly or coarser buckets).',
    args: {
      ...windowArgs('7d'),
      assistant: t.arg.string({ required: false }),
      versions: t.arg.stringList({ required: true }),
      bucket: t.arg.string({ required: false, description: 'Bucket size, whole hours (1h, 6h, 1d); chosen from the range when absent.' }),
    },
    resolve: (_root, args, ctx) => {
      if (args.versions.length === 0 || args.versions.length > 10) throw userInputError('versions: between 1 and 10 versions');
      const range = toRange(args, '7d');
      return ctx.services.releases.timeseries(args.assistant ?? '', args.versions, range, toBucket(range, args.bucket));
    },
  }),
}));

builder.subscriptionFields((t) => ({
  releaseComparisonUpdated: t.field({
    type: ComparisonRef,
    description: 'compareReleases again whenever new interactions are committed (coalesced, as metricsUpdated).',
    args: compareArgs,
    subscribe: (_root, _args, ctx) => ctx.services.local.subscribe('metricsTick'),
    resolve: (tick: number, args, ctx) => comparisonForTick(ctx, tick, args),
  }),
}));
