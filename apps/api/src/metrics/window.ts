/** Durations such as `30s`, `5m`, `1h`, `7d`, and the time ranges built from them. */
import type { TimeRange } from '../model/interaction.js';

export class InvalidRangeError extends Error {
  override name = 'RangeError';
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_RANGE_MS = 400 * 86_400_000;

export function parseDuration(text: string, what = 'window'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$/i.exec(text);
  if (!m) throw new InvalidRangeError(`${what}: expected a duration like 30s, 5m, 1h, 24h or 7d, got "${text}"`);
  const ms = Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
  if (ms <= 0 || ms > MAX_RANGE_MS) throw new InvalidRangeError(`${what}: must be more than 0 and at most 400d`);
  return ms;
}

export interface RangeArgs {
  window?: string | null | undefined;
  from?: Date | null | undefined;
  to?: Date | null | undefined;
}

/** `from`/`to` win over `window`; `to` defaults to now and `window` to `defaultWindow`. */
export function resolveRange(args: RangeArgs, defaultWindow: string, now = Date.now()): TimeRange {
  const to = args.to ? args.to.getTime() : now;
  const from = args.from ? args.from.getTime() : to - parseDuration(args.window ?? defaultWindow);
  if (!(from < to)) throw new InvalidRangeError('from: must be earlier than to');
  if (to - from > MAX_RANGE_MS) throw new InvalidRangeError('range: at most 400 days');
  return { from, to };
}

const BUCKET_STEPS = [60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];

/** A bucket size giving at most about 180 points, unless one is asked for. */
export function chooseBucket(range: TimeRange, bucket?: string | null): number {
  if (bucket) {
    const ms = parseDuration(bucket, 'bucket');
    if (ms % 60_000 !== 0) throw new InvalidRangeError('bucket: must be a whole number of minutes');
    if ((range.to - range.from) / ms > 10_000) throw new InvalidRangeError('bucket: too small for this range (more than 10,000 points)');
    return ms;
  }
  const span = range.to - range.from;
  return BUCKET_STEPS.find((s) => span / s <= 180) ?? 86_400_000;
}
