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

/** The bounds [low, high) of the values a bucket holds (the last bucket is open above). */
export function bucketBounds(b: number): [number, number] {
  if (b <= 0) return [0, 1];
  return [Math.pow(GROWTH, b - 1), b >= BUCKETS - 1 ? Number.POSITIVE_INFINITY : Math.pow(GROWTH, b)];
}

export class Histogram {
  readonly counts: Uint32Array;

  constructor(counts?: Uint32Array) {
    this.counts = counts ?? new Uint32Array(BUCKETS);
  }

  /** A histogram read from either stored encoding (see `decodeHistogramInto`). */
  static fromBytes(bytes: Uint8Array | null | undefined): Histogram {
    const h = new Histogram();
    if (bytes) decodeHistogramInto(h, bytes);
    return h;
  }

  record(ms: number, n = 1): void {
    this.counts[bucketOf(ms)]! += n;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
  }

  /** Adds a stored histogram (either encoding) without allocating an intermediate one. */
  addBytes(bytes: Uint8Array): void {
    decodeHistogramInto(this, bytes);
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

/**
 * The one stored encoding: a u16 index of the first non-empty bucket, then the u32 counts up
 * to the last non-empty one (little-endian). Latencies cluster in a few dozen buckets, so a
 * minute's row is a fraction of the fixed-size form and reading a day of roll-ups moves that
 * much less data. Its length is always 2 mod 4.
 */
export function encodeHistogram(h: Histogram): Buffer {
  const c = h.counts;
  let first = 0;
  while (first < c.length && c[first] === 0) first++;
  let last = c.length - 1;
  while (last >= first && c[last] === 0) last--;
  const buf = Buffer.alloc(2 + Math.max(0, last - first + 1) * 4);
  buf.writeUInt16LE(first === c.length ? 0 : first, 0);
  for (let i = first; i <= last; i++) buf.writeUInt32LE(c[i]!, 2 + (i - first) * 4);
  return buf;
}

/**
 * Adds a stored histogram to `h`. Reads both encodings, so older databases stay readable:
 * the compact one (length 2 mod 4) and the fixed-size one earlier SQLite databases hold (one
 * u32 per bucket from bucket 0, length a multiple of 4).
 */
export function decodeHistogramInto(h: Histogram, bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const compact = bytes.byteLength % 4 === 2;
  const first = compact ? view.getUint16(0, true) : 0;
  const offset = compact ? 2 : 0;
  const n = Math.min((bytes.byteLength - offset) >>> 2, BUCKETS - first);
  for (let i = 0; i < n; i++) h.counts[first + i]! += view.getUint32(offset + i * 4, true);
}
