/**
 * Mergeable latency histogram with log-spaced buckets (about 4 % relative error).
 * Per-minute roll-ups store one; any time range merges them by adding counts.
 */
const GROWTH = 1.08;
const LOG_GROWTH = Math.log(GROWTH);
/** Bucket 0 holds values below 1 ms; the last bucket everything above ~3 hours. */
export const BUCKETS = 2 + Math.ceil(Math.log(1e7) / LOG_GROWTH);

export function bucketOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  const b = 1 + Math.floor(Math.log(ms) / LOG_GROWTH);
  return b >= BUCKETS ? BUCKETS - 1 : b;
}

/** Representative value of a bucket: the geometric middle of its bounds. */
export function bucketValue(b: number): number {
  if (b === 0) return 0.5;
  return Math.pow(GROWTH, b - 1 + 0.5);
}

export class Histogram {
  readonly counts: Uint32Array;

  constructor(counts?: Uint32Array) {
    this.counts = counts ?? new Uint32Array(BUCKETS);
  }

  static fromBytes(bytes: Uint8Array | null | undefined): Histogram {
    const h = new Histogram();
    if (bytes && bytes.byteLength > 0) h.addBytes(bytes);
    return h;
  }

  record(ms: number, n = 1): void {
    this.counts[bucketOf(ms)]! += n;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
  }

  /** Adds a serialised histogram without allocating an intermediate one. */
  addBytes(bytes: Uint8Array): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Math.min(BUCKETS, bytes.byteLength >>> 2);
    for (let i = 0; i < n; i++) this.counts[i]! += view.getUint32(i * 4, true);
  }

  toBytes(): Buffer {
    const buf = Buffer.alloc(BUCKETS * 4);
    for (let i = 0; i < BUCKETS; i++) buf.writeUInt32LE(this.counts[i]!, i * 4);
    return buf;
  }

  total(): number {
    let t = 0;
    for (let i = 0; i < BUCKETS; i++) t += this.counts[i]!;
    return t;
  }

  /** The q-quantile (0..1), clamped to `max` when known; null when empty. */
  quantile(q: number, max?: number): number | null {
    const total = this.total();
    if (total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const v = bucketValue(i);
        return max !== undefined && v > max ? max : v;
      }
    }
    return max ?? null;
  }
}
