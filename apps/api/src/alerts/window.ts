/**
 * Sliding-window counts and latency histogram for the rate and latency rules, kept
 * incrementally in a ring of time buckets: adding a record and expiring a bucket are O(1)
 * (plus one histogram merge), reading the window's p95 is one pass over the histogram.
 */
import { Histogram } from '../model/histogram.js';

export interface WindowStats {
  count: number;
  errors: number;
  /** Percent (0–100), 0 when empty. */
  errorRate: number;
  /** ms, null when empty. */
  p95: number | null;
}

/** Bucket number b (time / width) lives in slot b mod n; `head` is the newest bucket number. */
interface Slot {
  count: number;
  errors: number;
  /** Allocated on first use: most slots of a quiet window stay empty. */
  histogram: Histogram | null;
}

/** About this many buckets per window, at least one second each. */
const TARGET_BUCKETS = 300;

export class SlidingWindow {
  readonly widthMs: number;
  private readonly slots: Slot[];
  private head: number;
  private count = 0;
  private errors = 0;
  private readonly total = new Histogram();

  constructor(
    readonly windowMs: number,
    now: number,
  ) {
    this.widthMs = Math.max(1000, Math.ceil(windowMs / TARGET_BUCKETS / 1000) * 1000);
    const n = Math.ceil(windowMs / this.widthMs);
    this.head = Math.floor(now / this.widthMs);
    this.slots = Array.from({ length: n }, () => ({ count: 0, errors: 0, histogram: null }));
  }

  /**
   * Counts one interaction at time `ts` (the engine passes the receive time, which does not
   * depend on client clocks): future times count as now, times older than the window are
   * not counted. Returns whether it was counted.
   */
  add(ts: number, responseTimeMs: number, failed: boolean, now: number): boolean {
    const slot = this.slotFor(ts, now);
    if (!slot) return false;
    slot.count++;
    this.count++;
    if (failed) {
      slot.errors++;
      this.errors++;
    }
    (slot.histogram ??= new Histogram()).record(responseTimeMs);
    this.total.record(responseTimeMs);
    return true;
  }

  /** Adds pre-aggregated counts (a per-minute roll-up when restoring after a restart). */
  addAggregate(ts: number, count: number, errors: number, histogram: Histogram, now: number): void {
    // A roll-up minute that began before the window still has its later seconds inside it.
    const slot = this.slotFor(Math.max(ts, now - this.windowMs + this.widthMs), now);
    if (!slot || count === 0) return;
    slot.count += count;
    slot.errors += errors;
    this.count += count;
    this.errors += errors;
    (slot.histogram ??= new Histogram()).merge(histogram);
    this.total.merge(histogram);
  }

  stats(now: number): WindowStats {
    this.advance(now);
    return {
      count: this.count,
      errors: this.errors,
      errorRate: this.count === 0 ? 0 : (this.errors / this.count) * 100,
      p95: this.total.quantile(0.95),
    };
  }

  private slotFor(ts: number, now: number): Slot | null {
    this.advance(now);
    const index = Math.floor(Math.min(ts, now) / this.widthMs);
    if (index <= this.head - this.slots.length) return null;
    return this.slots[index % this.slots.length]!;
  }

  /** Moves the head to `now`, expiring the buckets that fall out of the window. */
  private advance(now: number): void {
    const target = Math.floor(now / this.widthMs);
    if (target <= this.head) return;
    const steps = Math.min(target - this.head, this.slots.length);
    for (let b = target - steps + 1; b <= target; b++) this.recycle(this.slots[b % this.slots.length]!);
    this.head = target;
  }

  private recycle(slot: Slot): void {
    this.count -= slot.count;
    this.errors -= slot.errors;
    if (slot.histogram) {
      const t = this.total.counts;
      const s = slot.histogram.counts;
      for (let i = 0; i < s.length; i++) if (s[i]! > 0) t[i]! -= s[i]!;
      slot.histogram.counts.fill(0);
    }
    slot.count = 0;
    slot.errors = 0;
  }
}
