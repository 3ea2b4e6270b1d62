/** Metrics over time ranges, computed from the store's per-minute roll-ups. */
import type { Store, Totals } from '../store/types.js';
import type { TimeRange } from '../model/interaction.js';
import type { PriceTable } from '../pricing/table.js';
import type { Histogram } from '../model/histogram.js';

export interface MetricsSnapshot {
  from: number;
  to: number;
  count: number;
  errors: number;
  /** Percent (0–100), the unit of `error_rate_threshold`. */
  errorRate: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  meanResponseTimeMs: number | null;
  maxResponseTimeMs: number | null;
  throughputPerSecond: number;
  throughputPerMinute: number;
  activeSessions: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Sum of the costs present; null when no interaction in the range has a cost (never a silent $0). */
  totalCostUsd: number | null;
  /** Mean cost of the interactions that have one; null when none has. */
  costPerInteraction: number | null;
  /** Interactions with a cost (sent or computed). */
  costedInteractions: number;
  /** Interactions with a model but no cost. */
  unpricedInteractions: number;
}

export interface TimeseriesPoint extends Omit<MetricsSnapshot, 'activeSessions' | 'to' | 'from'> {
  start: number;
  end: number;
}

export interface IntentStat { intent: string; count: number; errors: number; errorRate: number; meanResponseTimeMs: number | null }
export interface ToolStat { tool: string; calls: number; errors: number; errorRate: number; meanDurationMs: number | null }
export interface ErrorTypeStat { errorType: string; count: number; share: number }
export interface ModelStat {
  model: string;
  count: number;
  errors: number;
  errorRate: number;
  p50: number | null;
  p95: number | null;
  meanResponseTimeMs: number | null;
  inputTokens: number;
  outputTokens: number;
  totalCostUsd: number | null;
  costPerInteraction: number | null;
  costedInteractions: number;
  unpricedInteractions: number;
  /** The model has a price in the table (packaged or the user's file). */
  priced: boolean;
}
export interface UnpricedModelStat {
  model: string;
  /** Interactions of the model in the range without a cost. */
  interactions: number;
  /** False: the model is not in the price table; true: it is, but these interactions sent no token counts. */
  priced: boolean;
}

function summarise(t: Totals, spanMs: number): Omit<MetricsSnapshot, 'activeSessions' | 'from' | 'to'> {
  const seconds = spanMs / 1000;
  return {
    count: t.count,
    errors: t.errors,
    errorRate: t.count === 0 ? 0 : (100 * t.errors) / t.count,
    p50: t.histogram.quantile(0.5, t.responseTimeMax),
    p95: t.histogram.quantile(0.95, t.responseTimeMax),
    p99: t.histogram.quantile(0.99, t.responseTimeMax),
    meanResponseTimeMs: t.count === 0 ? null : t.responseTimeSum / t.count,
    maxResponseTimeMs: t.count === 0 ? null : t.responseTimeMax,
    throughputPerSecond: seconds > 0 ? t.count / seconds : 0,
    throughputPerMinute: seconds > 0 ? (60 * t.count) / seconds : 0,
    inputTokens: t.inputTokens,
    outputTokens: t.outputTokens,
    costUsd: t.costUsd,
    ...costOf(t),
  };
}

function costOf(t: { costUsd: number; costed: number; unpriced: number }): Pick<MetricsSnapshot, 'totalCostUsd' | 'costPerInteraction' | 'costedInteractions' | 'unpricedInteractions'> {
  return {
    totalCostUsd: t.costed === 0 ? null : t.costUsd,
    costPerInteraction: t.costed === 0 ? null : t.costUsd / t.costed,
    costedInteractions: t.costed,
    unpricedInteractions: t.unpriced,
  };
}

/** Minutes migrated from before per-model roll-ups have no histogram: no percentile rather than a wrong one. */
function percentiles(h: Histogram, count: number): { p50: number | null; p95: number | null } {
  if (h.total() !== count) return { p50: null, p95: null };
  return { p50: h.quantile(0.5), p95: h.quantile(0.95) };
}

const rate = (errors: number, n: number): number => (n === 0 ? 0 : (100 * errors) / n);

export class MetricsService {
  /** The snapshots of the latest tick by window, shared by every subscriber asking for that window. */
  private tickSnapshots: { tick: number; byWindow: Map<string, Promise<MetricsSnapshot>> } = { tick: Number.NaN, byWindow: new Map() };

  constructor(
    private readonly store: Store,
    /** Tells an unpriced model from a priced one whose interactions sent no tokens. */
    private readonly prices: PriceTable | null = null,
  ) {}

  /**
   * The snapshot for a live-metrics tick: computed once per (tick, window) however many
   * subscribers ask. `windowKey` names the window as the subscriber asked for it; `range`
   * computes it on the first ask.
   */
  snapshotForTick(tick: number, windowKey: string, range: () => TimeRange): Promise<MetricsSnapshot> {
    if (this.tickSnapshots.tick !== tick) this.tickSnapshots = { tick, byWindow: new Map() };
    let snap = this.tickSnapshots.byWindow.get(windowKey);
    if (!snap) {
      snap = this.snapshot(range());
      this.tickSnapshots.byWindow.set(windowKey, snap);
    }
    return snap;
  }

  async snapshot(range: TimeRange): Promise<MetricsSnapshot> {
    const [totals, activeSessions] = await Promise.all([this.store.totals(range), this.store.activeSessions(range.from)]);
    return { from: range.from, to: range.to, activeSessions, ...summarise(totals, range.to - range.from) };
  }

  async timeseries(range: TimeRange, bucketMs: number): Promise<TimeseriesPoint[]> {
    const buckets = await this.store.timeseries(range, bucketMs);
    return buckets.map((b) => {
      const end = Math.min(b.start + bucketMs, range.to);
      const start = Math.max(b.start, range.from);
      return { start: b.start, end: b.start + bucketMs, ...summarise(b, Math.max(end - start, 1)) };
    });
  }

  async intents(range: TimeRange, limit: number): Promise<IntentStat[]> {
    const rows = await this.store.intentBreakdown(range, limit);
    return rows.map((r) => ({ intent: r.intent, count: r.count, errors: r.errors, errorRate: rate(r.errors, r.count), meanResponseTimeMs: r.count ? r.responseTimeSum / r.count : null }));
  }

  async tools(range: TimeRange, limit: number): Promise<ToolStat[]> {
    const rows = await this.store.toolBreakdown(range, limit);
    return rows.map((r) => ({ tool: r.tool, calls: r.calls, errors: r.errors, errorRate: rate(r.errors, r.calls), meanDurationMs: r.durationCount ? r.durationSum / r.durationCount : null }));
  }

  async models(range: TimeRange, limit: number): Promise<ModelStat[]> {
    const rows = await this.store.modelBreakdown(range, limit);
    return rows.map((r) => ({
      model: r.model,
      count: r.count,
      errors: r.errors,
      errorRate: rate(r.errors, r.count),
      ...percentiles(r.histogram, r.count),
      meanResponseTimeMs: r.count ? r.responseTimeSum / r.count : null,
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
      ...costOf(r),
      priced: this.prices?.isPriced(r.model) ?? false,
    }));
  }

  async unpricedModels(range: TimeRange, limit: number): Promise<UnpricedModelStat[]> {
    const rows = await this.store.unpricedModels(range, limit);
    return rows.map((r) => ({ model: r.model, interactions: r.interactions, priced: this.prices?.isPriced(r.model) ?? false }));
  }

  async errorTypes(range: TimeRange, limit: number): Promise<ErrorTypeStat[]> {
    // Shares are of all failures in the range, not only of the rows within the limit.
    const [rows, totals] = await Promise.all([this.store.errorBreakdown(range, limit), this.store.totals(range)]);
    const total = totals.errors;
    return rows.map((r) => ({ errorType: r.errorType, count: r.count, share: total ? r.count / total : 0 }));
  }
}
