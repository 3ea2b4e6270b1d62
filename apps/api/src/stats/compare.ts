/**
 * Compares a candidate release with a baseline, overall and per row (intent, tool, error type,
 * model): success rates with Wilson intervals, their difference with Newcombe's interval and a
 * p-value, sessions as clusters (design effect), Benjamini–Hochberg q-values over the rows,
 * p50 / p95 with order-statistic intervals, a fixed-horizon verdict and, beside it, the
 * verdict of an anytime-valid confidence sequence. Pure: the release service feeds it sums
 * read from the roll-ups.
 */
import type { Histogram } from '../model/histogram.js';
import { benjaminiHochberg } from './multiple.js';
import { alternativeOf, sampleSizePerGroup } from './power.js';
import { effective, newcombe, twoProportionP, wilson } from './proportions.js';
import { quantileDifference, quantileInterval, type QuantileEstimate } from './quantiles.js';
import { DEFAULT_TUNING_N, proportionDiffSequence } from './sequential.js';

export type Dimension = 'OVERALL' | 'INTENT' | 'TOOL' | 'ERROR_TYPE' | 'MODEL';
export type Verdict = 'IMPROVED' | 'REGRESSED' | 'NO_CHANGE' | 'INSUFFICIENT_DATA';

/** One release's sums for one row. */
export interface ReleaseCell {
  count: number;
  successes: number;
  /** Latency histogram; null where latency does not apply (error-type rows). */
  histogram: Histogram | null;
  rtMax: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface ReleaseStats {
  count: number;
  /** Percent (0–100); null without interactions. */
  successRate: number | null;
  successLow: number | null;
  successHigh: number | null;
  p50: number | null;
  p95: number | null;
  p95Low: number | null;
  p95High: number | null;
  tokensPerInteraction: number | null;
  costPerInteraction: number | null;
  /** The design effect applied (1: no clustering found). */
  designEffect: number;
}

export interface ComparisonRow {
  dimension: Dimension;
  key: string;
  baseline: ReleaseStats;
  candidate: ReleaseStats;
  /** Candidate − baseline success rate, percentage points. */
  successDiff: number | null;
  successDiffLow: number | null;
  successDiffHigh: number | null;
  /** Candidate − baseline p95, ms. */
  p95Diff: number | null;
  p95DiffLow: number | null;
  p95DiffHigh: number | null;
  pValue: number | null;
  qValue: number | null;
  verdict: Verdict;
  /** Anytime-valid confidence sequence for the success difference, percentage points. */
  sequentialLow: number | null;
  sequentialHigh: number | null;
  sequentialVerdict: Verdict;
  /** Interactions per release still needed to detect the stated effect (0: enough). */
  sampleNeeded: number;
}

export interface CompareOptions {
  alpha: number;
  /** Fewest interactions per release before a verdict is given. */
  minSample: number;
  /** The effect to detect, as a fraction (0.05 = 5 percentage points). */
  effect: number;
  power: number;
  /** Sample size (both releases) at which the confidence sequence is tightest. */
  tuningN: number;
}

export const DEFAULT_COMPARE_OPTIONS: CompareOptions = { alpha: 0.05, minSample: 100, effect: 0.05, power: 0.8, tuningN: DEFAULT_TUNING_N };

export interface RowInput {
  dimension: Dimension;
  key: string;
  baseline: ReleaseCell;
  candidate: ReleaseCell;
}

export interface DesignEffects {
  baseline: number;
  candidate: number;
}

const pct = (v: number): number => v * 100;

function releaseStats(c: ReleaseCell, deff: number, alpha: number, p95: QuantileEstimate | null): ReleaseStats {
  const eff = effective(c.successes, c.count, deff);
  const w = wilson(eff.x, eff.n, alpha);
  const p50 = c.histogram ? c.histogram.quantile(0.5, c.rtMax) : null;
  const has = c.count > 0;
  return {
    count: c.count,
    successRate: has ? pct(c.successes / c.count) : null,
    successLow: has ? pct(w.low) : null,
    successHigh: has ? pct(w.high) : null,
    p50,
    p95: p95?.value ?? null,
    p95Low: p95?.low ?? null,
    p95High: p95?.high ?? null,
    tokensPerInteraction: has ? (c.inputTokens + c.outputTokens) / c.count : null,
    costPerInteraction: has ? c.costUsd / c.count : null,
    designEffect: deff,
  };
}

function directional(diff: number, low: number, high: number): Verdict {
  if (low > 0) return 'IMPROVED';
  if (high < 0) return 'REGRESSED';
  return Number.isNaN(diff) ? 'INSUFFICIENT_DATA' : 'NO_CHANGE';
}

/** One row without its q-value (which needs every row's p-value). */
function compareRow(input: RowInput, deff: DesignEffects, opts: CompareOptions, sequentialAlpha: number): ComparisonRow {
  const { baseline: b, candidate: c } = input;
  // Each release's p95 interval once: the row's stats and the difference share it.
  const p95b = b.histogram ? quantileInterval(b.histogram, 0.95, opts.alpha, b.rtMax) : null;
  const p95c = c.histogram ? quantileInterval(c.histogram, 0.95, opts.alpha, c.rtMax) : null;
  const bs = releaseStats(b, deff.baseline, opts.alpha, p95b);
  const cs = releaseStats(c, deff.candidate, opts.alpha, p95c);
  const be = effective(b.successes, b.count, deff.baseline);
  const ce = effective(c.successes, c.count, deff.candidate);
  const both = b.count > 0 && c.count > 0;
  const d = both ? newcombe(ce.x, ce.n, be.x, be.n, opts.alpha) : null;
  const seq = both ? proportionDiffSequence(ce.x, ce.n, be.x, be.n, sequentialAlpha, opts.tuningN) : null;
  const p95d = p95b && p95c ? quantileDifference(p95c, p95b) : null;

  const reference = b.count > 0 ? b.successes / b.count : c.count > 0 ? c.successes / c.count : 0.5;
  const needed = sampleSizePerGroup(reference, alternativeOf(reference, opts.effect), opts.alpha, opts.power, Math.max(deff.baseline, deff.candidate));
  const enough = Math.min(b.count, c.count) >= opts.minSample;
  return {
    dimension: input.dimension,
    key: input.key,
    baseline: bs,
    candidate: cs,
    successDiff: d ? pct(d.diff) : null,
    successDiffLow: d ? pct(d.low) : null,
    successDiffHigh: d ? pct(d.high) : null,
    p95Diff: p95d?.diff ?? null,
    p95DiffLow: p95d?.low ?? null,
    p95DiffHigh: p95d?.high ?? null,
    pValue: both ? twoProportionP(ce.x, ce.n, be.x, be.n) : null,
    qValue: null,
    verdict: 'INSUFFICIENT_DATA',
    sequentialLow: seq ? pct(seq.low) : null,
    sequentialHigh: seq ? pct(seq.high) : null,
    sequentialVerdict: enough && seq ? directional(seq.diff, seq.low, seq.high) : 'INSUFFICIENT_DATA',
    sampleNeeded: Number.isFinite(needed) ? Math.max(0, needed - Math.min(b.count, c.count)) : 0,
  };
}

/** The fixed-horizon verdict: significant after adjustment and the interval agreeing on the side. */
function fixedVerdict(row: ComparisonRow, opts: CompareOptions): Verdict {
  if (Math.min(row.baseline.count, row.candidate.count) < opts.minSample) return 'INSUFFICIENT_DATA';
  if (row.qValue === null || row.successDiffLow === null || row.successDiffHigh === null) return 'INSUFFICIENT_DATA';
  if (row.qValue > opts.alpha) return 'NO_CHANGE';
  return directional(row.successDiff ?? 0, row.successDiffLow, row.successDiffHigh);
}

export interface Comparison {
  overall: ComparisonRow;
  rows: ComparisonRow[];
}

/**
 * The overall row is the primary comparison (its q-value is its p-value); the rows form one
 * family for Benjamini–Hochberg. Their confidence sequences use α / (number of rows)
 * (Bonferroni), so the live view of many rows keeps its error rate too.
 */
export function compareReleaseCells(overall: RowInput, rows: readonly RowInput[], deff: DesignEffects, options: Partial<CompareOptions> = {}): Comparison {
  const opts = { ...DEFAULT_COMPARE_OPTIONS, ...options };
  const top = compareRow(overall, deff, opts, opts.alpha);
  top.qValue = top.pValue;
  top.verdict = fixedVerdict(top, opts);
  const seqAlpha = opts.alpha / Math.max(1, rows.length);
  const out = rows.map((r) => compareRow(r, deff, opts, seqAlpha));
  // The family is the rows that can get a verdict; rows below the minimum sample keep no q-value.
  const tested = out.filter((r) => r.pValue !== null && Math.min(r.baseline.count, r.candidate.count) >= opts.minSample);
  const q = benjaminiHochberg(tested.map((r) => r.pValue!));
  tested.forEach((r, i) => (r.qValue = q[i]!));
  for (const r of out) r.verdict = fixedVerdict(r, opts);
  return { overall: top, rows: out };
}
