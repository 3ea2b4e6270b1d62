/**
 * The plot buffer behind the overview's charts: bucketed points keyed by bucket start, merged
 * as fresher copies of the current bucket arrive, pruned to the visible window, and laid out
 * as the aligned columns uPlot draws (gaps filled: no traffic is zero throughput, and no
 * error rate or latency at all).
 */

export interface SeriesPoint {
  /** Bucket start, epoch ms (buckets are aligned to multiples of their size). */
  start: number;
  count: number;
  throughputPerMinute: number;
  errorRate: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface Columns {
  /** Bucket starts in seconds, as uPlot's time scale expects. */
  x: number[];
  throughput: number[];
  errorRate: (number | null)[];
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
}

/** More columns than any range picked here produces; a guard against a runaway loop. */
const MAX_COLUMNS = 20_000;

export class SeriesBuffer {
  private readonly points = new Map<number, SeriesPoint>();

  constructor(readonly bucketMs: number) {}

  get size(): number {
    return this.points.size;
  }

  replace(points: Iterable<SeriesPoint>): void {
    this.points.clear();
    this.merge(points);
  }

  /** Newer copies of a bucket replace older ones (counts only grow while a bucket is current). */
  merge(points: Iterable<SeriesPoint>): void {
    for (const p of points) this.points.set(p.start, p);
  }

  /** Drops buckets that ended before `from`. */
  prune(from: number): void {
    for (const start of this.points.keys()) if (start + this.bucketMs <= from) this.points.delete(start);
  }

  alignedStart(t: number): number {
    return Math.floor(t / this.bucketMs) * this.bucketMs;
  }

  columns(from: number, to: number): Columns {
    const cols: Columns = { x: [], throughput: [], errorRate: [], p50: [], p95: [], p99: [] };
    const first = this.alignedStart(from);
    const last = this.alignedStart(to);
    for (let t = first, n = 0; t <= last && n < MAX_COLUMNS; t += this.bucketMs, n++) {
      const p = this.points.get(t);
      cols.x.push(t / 1000);
      cols.throughput.push(p ? p.throughputPerMinute : 0);
      const has = p !== undefined && p.count > 0;
      cols.errorRate.push(has ? p.errorRate : null);
      cols.p50.push(has ? p.p50 : null);
      cols.p95.push(has ? p.p95 : null);
      cols.p99.push(has ? p.p99 : null);
    }
    return cols;
  }
}
