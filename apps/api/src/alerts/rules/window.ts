/**
 * A rule's sliding window: counts, a latency histogram and the token, cost and feedback sums
 * of the interactions in its scope, in a ring of at most 60 time buckets. Adding a record and
 * expiring a bucket are O(1) (plus one histogram subtraction); time comes from the caller, so
 * a fake clock drives it in tests.
 */
import { Histogram, bucketOf } from '../../model/histogram.js';

export interface RuleWindowStats {
  count: number;
  errors: number;
  histogram: Histogram;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  feedbackSum: number;
  feedbackCount: number;
}

export interface WindowSample {
  success: boolean;
  responseTimeMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  feedbackScore: number | null;
}

interface Slot {
  count: number;
  errors: number;
  histogram: Histogram | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  feedbackSum: number;
  feedbackCount: number;
}

const BUCKETS = 60;

function count(s: Slot, r: WindowSample): void {
  s.count++;
  if (!r.success) s.errors++;
  if (r.inputTokens) s.inputTokens += r.inputTokens;
  if (r.outputTokens) s.outputTokens += r.outputTokens;
  if (r.costUsd) s.costUsd += r.costUsd;
  if (r.feedbackScore != null) {
    s.feedbackSum += r.feedbackScore;
    s.feedbackCount++;
  }
}
const emptySlot = (): Slot => ({ count: 0, errors: 0, histogram: null, inputTokens: 0, outputTokens: 0, costUsd: 0, feedbackSum: 0, feedbackCount: 0 });

export class RuleWindow {
  readonly widthMs: number;
  private readonly slots: Slot[];
  private head: number;
  private readonly total: Slot & { histogram: Histogram } = { ...emptySlot(), histogram: new Histogram() };

  constructor(
    readonly windowMs: number,
    now: number,
  ) {
    this.widthMs = Math.max(1000, Math.ceil(windowMs / BUCKETS));
    this.slots = Array.from({ length: Math.ceil(windowMs / this.widthMs) }, emptySlot);
    this.head = Math.floor(now / this.widthMs);
  }

  /** Counts one record at `now`; `bucket` is its latency bucket (bucketOf), computed once per record for every rule. */
  add(r: WindowSample, now: number, bucket = bucketOf(r.responseTimeMs)): void {
    this.advance(now);
    const slot = this.slots[this.head % this.slots.length]!;
    count(slot, r);
    count(this.total, r);
    (slot.histogram ??= new Histogram()).counts[bucket]! += 1;
    this.total.histogram.counts[bucket]! += 1;
  }

  stats(now: number): RuleWindowStats {
    this.advance(now);
    const t = this.total;
    return {
      count: t.count, errors: t.errors, histogram: t.histogram, inputTokens: t.inputTokens, outputTokens: t.outputTokens,
      costUsd: t.costUsd, feedbackSum: t.feedbackSum, feedbackCount: t.feedbackCount,
    };
  }

  private advance(now: number): void {
    const target = Math.floor(now / this.widthMs);
    if (target <= this.head) return;
    const steps = Math.min(target - this.head, this.slots.length);
    for (let b = target - steps + 1; b <= target; b++) this.recycle(this.slots[b % this.slots.length]!);
    this.head = target;
  }

  private recycle(slot: Slot): void {
    const t = this.total;
    t.count -= slot.count;
    t.errors -= slot.errors;
    t.inputTokens -= slot.inputTokens;
    t.outputTokens -= slot.outputTokens;
    t.costUsd -= slot.costUsd;
    t.feedbackSum -= slot.feedbackSum;
    t.feedbackCount -= slot.feedbackCount;
    if (slot.histogram) {
      const tc = t.histogram.counts;
      const sc = slot.histogram.counts;
      for (let i = 0; i < sc.length; i++) if (sc[i]! > 0) tc[i]! -= sc[i]!;
      sc.fill(0);
    }
    // Float sums drift when subtracting; an empty window is exactly zero.
    if (t.count === 0) Object.assign(t, { inputTokens: 0, outputTokens: 0, costUsd: 0, feedbackSum: 0, feedbackCount: 0 });
    Object.assign(slot, { count: 0, errors: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, feedbackSum: 0, feedbackCount: 0 });
  }
}
