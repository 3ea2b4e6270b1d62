/** Metrics over time ranges, computed from the store's per-minute roll-ups. */
import type { Store, Totals } from '../store/types.js';
import type { TimeRange } from '../model/interaction.js';

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
}

export interface TimeseriesPoint extends Omit<MetricsSnapshot, 'activeSessions' | 'to' | 'from'> {
  start: number;
  end: number;
}

export interface IntentStat { intent: string; count: number; errors: number; errorRate: number; meanResponseTimeMs: number | null }
export interface ToolStat { tool: string; calls: number; errors: number; errorRate: number; meanDurationMs: number | null }
export interface ErrorTypeStat { errorType: string; count: number; share: number }

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
  };
}

const rate = (errors: number, n: number): number => (n === 0 ? 0 : (100 * errors) / n);

export class MetricsService {
  /** The snapshots of the latest tick by window, shared by every subscriber asking for that window. */
  private tickSnapshots: { tick: number; byWindow: Map<string, Promise<MetricsSnapshot>> } = { tick: Number.NaN, byWindow: new Map() };

  constructor(private readonly store: Store) {}

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

  async errorTypes(range: TimeRange, limit: number): Promise<ErrorTypeStat[]> {
    // Shares are of all failures in the range, not only of the rows within the limit.
    const [rows, totals] = await Promise.all([this.store.errorBreakdown(range, limit), this.store.totals(range)]);
    const total = totals.errors;
    return rows.map((r) => ({ errorType: r.errorType, count: r.count, share: total ? r.count / total : 0 }));
  }
}
