/**
 * Releases and their comparison: reads the release roll-ups through the store and hands the
 * sums to the pure statistics (stats/). No SQL here, no GraphQL.
 */
import type { TimeRange } from '../model/interaction.js';
import type { ReleaseStore } from '../store/types.js';
import type { ReleaseCellRow, ReleaseSums } from '../store/core/releases.js';
import type { ReleaseDimension } from '../store/release-rollup.js';
import { DEFAULT_COMPARE_OPTIONS, compareReleaseCells, designEffect, quantileInterval, wilson, type CompareOptions, type Comparison, type Dimension, type ReleaseCell, type RowInput } from '../stats/index.js';

export const CLUSTER_NOTE =
  'Interactions of one session are correlated: variances treat sessions as clusters (delta method, per UTC day), ' +
  'which widens the success-rate intervals by the design effect shown. Latency intervals are distribution-free ' +
  '(order statistics) and treat interactions as independent. Row q-values are Benjamini–Hochberg adjusted; the ' +
  'sequential verdict comes from an anytime-valid confidence sequence, safe to watch live.';

export interface ReleaseInfo {
  assistant: string;
  version: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
  successRate: number | null;
  successLow: number | null;
  successHigh: number | null;
  p50: number | null;
  p95: number | null;
  tokensPerInteraction: number | null;
  costPerInteraction: number | null;
}

export interface ReleaseComparison extends Comparison {
  assistant: string;
  baseline: string;
  candidate: string;
  from: number;
  to: number;
  options: CompareOptions;
  note: string;
}

export interface ReleasePoint {
  version: string;
  start: number;
  count: number;
  successRate: number;
  p95: number | null;
}

export interface CompareRequest {
  assistant: string;
  baseline: string;
  candidate: string;
  range: TimeRange;
  /** Most rows per dimension, by traffic. */
  limit: number;
  options: Partial<CompareOptions>;
}

const DIMENSIONS: readonly [ReleaseDimension, Dimension][] = [
  ['intent', 'INTENT'],
  ['tool', 'TOOL'],
  ['error_type', 'ERROR_TYPE'],
  ['model', 'MODEL'],
];

const EMPTY_CELL: ReleaseCell = { count: 0, successes: 0, histogram: null, rtMax: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };

function toCell(s: ReleaseSums | undefined): ReleaseCell {
  if (!s) return EMPTY_CELL;
  return { count: s.count, successes: s.count - s.errors, histogram: s.histogram, rtMax: s.rtMax, inputTokens: s.inputTokens, outputTokens: s.outputTokens, costUsd: s.costUsd };
}

/** An error type's row: out of all interactions of the release, those that did not fail with it. */
function errorTypeCell(s: ReleaseSums | undefined, total: ReleaseSums | undefined): ReleaseCell {
  const count = total?.count ?? 0;
  return { ...EMPTY_CELL, count, successes: count - (s?.count ?? 0) };
}

export class ReleaseService {
  constructor(private readonly store: ReleaseStore) {}

  async releases(assistant: string | null, range: TimeRange): Promise<ReleaseInfo[]> {
    const list = await this.store.listReleases(assistant, range);
    return list.map((r) => {
      const w = wilson(r.count - r.errors, r.count);
      const has = r.count > 0;
      return {
        assistant: r.assistant,
        version: r.version,
        firstSeen: r.first,
        lastSeen: r.last,
        count: r.count,
        successRate: has ? (100 * (r.count - r.errors)) / r.count : null,
        successLow: has ? 100 * w.low : null,
        successHigh: has ? 100 * w.high : null,
        p50: r.histogram.quantile(0.5, r.rtMax),
        p95: quantileInterval(r.histogram, 0.95, 0.05, r.rtMax).value,
        tokensPerInteraction: has ? (r.inputTokens + r.outputTokens) / r.count : null,
        costPerInteraction: has ? r.costUsd / r.count : null,
      };
    });
  }

  async compare(req: CompareRequest): Promise<ReleaseComparison> {
    const { assistant, baseline, candidate, range } = req;
    const [bCells, cCells, bMoments, cMoments] = await Promise.all([
      this.store.releaseCells(assistant, baseline, range),
      this.store.releaseCells(assistant, candidate, range),
      this.store.releaseMoments(assistant, baseline, range),
      this.store.releaseMoments(assistant, candidate, range),
    ]);
    const index = (cells: ReleaseCellRow[]) => new Map(cells.map((c) => [`${c.dimension}\u0000${c.key}`, c]));
    const b = index(bCells);
    const c = index(cCells);
    const bTotal = b.get('\u0000');
    const cTotal = c.get('\u0000');
    const overall: RowInput = { dimension: 'OVERALL', key: '', baseline: toCell(bTotal), candidate: toCell(cTotal) };
    const rows: RowInput[] = [];
    for (const [dim, dimension] of DIMENSIONS) {
      const traffic = new Map<string, number>();
      for (const cells of [bCells, cCells]) {
        for (const cell of cells) if (cell.dimension === dim) traffic.set(cell.key, (traffic.get(cell.key) ?? 0) + cell.count);
      }
      const keys = [...traffic.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, req.limit).map(([k]) => k);
      for (const key of keys) {
        const bk = b.get(`${dim}\u0000${key}`);
        const ck = c.get(`${dim}\u0000${key}`);
        rows.push(
          dim === 'error_type'
            ? { dimension, key, baseline: errorTypeCell(bk, bTotal), candidate: errorTypeCell(ck, cTotal) }
            : { dimension, key, baseline: toCell(bk), candidate: toCell(ck) },
        );
      }
    }
    const deff = { baseline: designEffect(bMoments), candidate: designEffect(cMoments) };
    const result = compareReleaseCells(overall, rows, deff, req.options);
    const options = { ...DEFAULT_COMPARE_OPTIONS, ...req.options };
    return { ...result, assistant, baseline, candidate, from: range.from, to: range.to, options, note: CLUSTER_NOTE };
  }

  async timeseries(assistant: string, versions: readonly string[], range: TimeRange, bucketMs: number): Promise<ReleasePoint[]> {
    const buckets = await this.store.releaseTimeseries(assistant, versions, range, bucketMs);
    return buckets.map((x) => ({
      version: x.version,
      start: x.start,
      count: x.count,
      successRate: x.count > 0 ? (100 * (x.count - x.errors)) / x.count : 0,
      p95: x.histogram.quantile(0.95, x.rtMax),
    }));
  }
}
