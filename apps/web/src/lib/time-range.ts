/**
 * The time range of the overview's charts and breakdowns: a sliding preset ("last hour")
 * that extends live, or a fixed custom from/to. Kept in the URL so a view can be shared.
 */

export type PresetId = '15m' | '1h' | '24h' | '7d';

export interface Preset {
  id: PresetId;
  label: string;
  ms: number;
  /** Bucket of the charts: small enough to show shape, at most about 180 points. */
  bucket: string;
  bucketMs: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export const PRESETS: readonly Preset[] = [
  { id: '15m', label: 'Last 15 min', ms: 15 * MIN, bucket: '1m', bucketMs: MIN },
  { id: '1h', label: 'Last hour', ms: HOUR, bucket: '1m', bucketMs: MIN },
  { id: '24h', label: 'Last 24 h', ms: DAY, bucket: '15m', bucketMs: 15 * MIN },
  { id: '7d', label: 'Last 7 days', ms: 7 * DAY, bucket: '1h', bucketMs: HOUR },
];

export const DEFAULT_PRESET: PresetId = '1h';

export type TimeRange = { kind: 'preset'; preset: PresetId } | { kind: 'custom'; from: number; to: number };

/** The same steps the server chooses from, as names it accepts. */
const BUCKETS: readonly [string, number][] = [
  ['1m', MIN],
  ['5m', 5 * MIN],
  ['15m', 15 * MIN],
  ['1h', HOUR],
  ['6h', 6 * HOUR],
  ['1d', DAY],
];

export function presetOf(id: string | null | undefined): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

export function bucketFor(spanMs: number): { bucket: string; bucketMs: number } {
  const found = BUCKETS.find(([, ms]) => spanMs / ms <= 180) ?? BUCKETS[BUCKETS.length - 1]!;
  return { bucket: found[0], bucketMs: found[1] };
}

/** Reads `?range=1h` or `?from=…&to=…` (ISO-8601); anything unreadable falls back to the default. */
export function rangeFromParams(params: URLSearchParams): TimeRange {
  const from = Date.parse(params.get('from') ?? '');
  const to = Date.parse(params.get('to') ?? '');
  if (Number.isFinite(from) && Number.isFinite(to) && from < to) return { kind: 'custom', from, to };
  const preset = presetOf(params.get('range'));
  return { kind: 'preset', preset: preset?.id ?? DEFAULT_PRESET };
}

export function rangeToParams(range: TimeRange, params: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(params);
  next.delete('range');
  next.delete('from');
  next.delete('to');
  if (range.kind === 'custom') {
    next.set('from', new Date(range.from).toISOString());
    next.set('to', new Date(range.to).toISOString());
  } else if (range.preset !== DEFAULT_PRESET) {
    next.set('range', range.preset);
  }
  return next;
}

export interface ResolvedRange {
  from: number;
  to: number;
  bucket: string;
  bucketMs: number;
  /** A sliding preset extends with new data; a custom range is fixed. */
  live: boolean;
  /** Arguments of the metric fields: a `window` for presets (resolved on the server's clock). */
  vars: { window?: string; from?: string; to?: string };
  label: string;
}

export function resolveRange(range: TimeRange, now: number): ResolvedRange {
  if (range.kind === 'preset') {
    const p = presetOf(range.preset) ?? presetOf(DEFAULT_PRESET)!;
    return { from: now - p.ms, to: now, bucket: p.bucket, bucketMs: p.bucketMs, live: true, vars: { window: p.id }, label: p.label };
  }
  const { bucket, bucketMs } = bucketFor(range.to - range.from);
  return {
    from: range.from,
    to: range.to,
    bucket,
    bucketMs,
    live: false,
    vars: { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() },
    label: 'Custom range',
  };
}

/** `YYYY-MM-DDTHH:MM` in local time, the value format of `<input type="datetime-local">`. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Parses a datetime-local value as local time; NaN when empty or invalid. */
export function fromLocalInput(value: string): number {
  return value ? new Date(value).getTime() : Number.NaN;
}
