/**
 * Zone-less ("naive") wall-clock times → instants, in an IANA time zone, using the zone rules
 * of the runtime's Intl (no hand-written tables). Used by the validator for timestamps such as
 * Python's `datetime.now().isoformat()`.
 */

/** The zone of the process (honours `TZ`), as Intl resolves it; `UTC` when Intl cannot tell. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** True when Intl knows the zone name (e.g. `Asia/Shanghai`, `UTC`, `Etc/GMT-8`). */
export function isValidTimeZone(name: string): boolean {
  if (name.trim() === '' || name !== name.trim()) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** UTC offset of `zone` at `instant`, in ms (east of Greenwich positive: Asia/Shanghai +8 h). */
export function zoneOffsetMs(zone: string, instant: number): number {
  const whole = Math.floor(instant / 1000) * 1000;
  const parts: Record<string, number> = {};
  for (const p of formatterFor(zone).formatToParts(new Date(whole))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - whole;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The instant of a wall-clock time in `zone`. `wallMs` is the wall time read as if it were UTC
 * (`Date.UTC(y, m, d, h, mi, s, ms)`). Around a DST change this follows Python's `fold=0` and
 * Temporal's "compatible" choice: a repeated hour (autumn) is its first occurrence, a skipped
 * hour (spring) is read with the offset before the change (02:30 → 03:30 summer time).
 */
export function wallTimeToInstant(wallMs: number, zone: string): number {
  // Zones change offset at most once within a day, so the offsets a day either side are the
  // only candidates.
  const before = zoneOffsetMs(zone, wallMs - DAY_MS);
  const after = zoneOffsetMs(zone, wallMs + DAY_MS);
  const candidates = [...new Set([before, after])]
    .map((offset) => wallMs - offset)
    .filter((instant) => zoneOffsetMs(zone, instant) === wallMs - instant);
  if (candidates.length > 0) return Math.min(...candidates);
  return wallMs - before;
}

/** Conversions per (zone, wall quarter-hour): offsets change only on quarter-hour boundaries. */
const SLOT_MS = 15 * 60_000;
const cache = new Map<string, Map<number, number>>();
const CACHE_LIMIT = 4096;

/**
 * `wallTimeToInstant` with a cache of the offset per zone and wall-clock quarter hour, so a
 * stream of naive timestamps costs a map lookup per record rather than several Intl calls.
 * A slot is cached only when its start and end resolve to the same offset.
 */
export function naiveToInstant(wallMs: number, zone: string): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return wallMs;
  const slot = Math.floor(wallMs / SLOT_MS);
  let slots = cache.get(zone);
  if (!slots) {
    slots = new Map();
    cache.set(zone, slots);
  }
  const offset = slots.get(slot);
  if (offset !== undefined) return wallMs - offset;
  const start = slot * SLOT_MS;
  const startOffset = start - wallTimeToInstant(start, zone);
  const endOffset = start + SLOT_MS - 1 - wallTimeToInstant(start + SLOT_MS - 1, zone);
  if (startOffset !== endOffset) return wallTimeToInstant(wallMs, zone);
  if (slots.size >= CACHE_LIMIT) slots.clear();
  slots.set(slot, startOffset);
  return wallMs - startOffset;
}

/** `+8 h`, `-5 h`, `+5 h 30 min`, `+45 min`: an offset for people. */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${sign}${m} min`;
  return m === 0 ? `${sign}${h} h` : `${sign}${h} h ${m} min`;
}

/** Rounded to the nearest quarter hour, the granularity of real UTC offsets. */
export function roundToQuarterHour(ms: number): number {
  return Math.round(ms / SLOT_MS) * SLOT_MS;
}

/** Well-known zones, preferred as the example in hints (any zone with the offset would do). */
const EXAMPLES = [
  'Asia/Shanghai', 'Asia/Kolkata', 'Asia/Tokyo', 'Asia/Singapore', 'Asia/Dubai', 'Asia/Kathmandu',
  'Europe/London', 'UTC', 'Europe/Berlin', 'Europe/Moscow', 'America/New_York', 'America/Chicago',
  'America/Denver', 'America/Los_Angeles', 'America/Sao_Paulo', 'Australia/Sydney', 'Pacific/Auckland',
];

/**
 * A zone whose offset at `instant` is `offsetMs`, for hints such as
 * "set AI_MONITOR_NAIVE_TIMEZONE=Asia/Shanghai"; null when no zone has that offset.
 */
export function exampleZoneFor(offsetMs: number, instant: number): string | null {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  for (const zone of [...EXAMPLES, ...all]) {
    if (isValidTimeZone(zone) && zoneOffsetMs(zone, instant) === offsetMs) return zone;
  }
  if (offsetMs === 0) return 'UTC';
  return null;
}
