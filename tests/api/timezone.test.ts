/** Naive timestamps in IANA zones (with and without DST), offsets untouched, and the clock-skew rule. */
import { describe, expect, it } from 'vitest';
import { parseTimestamp, validateRecord } from '../../apps/api/src/ingest/validate.js';
import {
  exampleZoneFor,
  formatOffset,
  isValidTimeZone,
  naiveToInstant,
  wallTimeToInstant,
  zoneOffsetMs,
} from '../../apps/api/src/ingest/timezone.js';
import { ClockSkewTracker } from '../../apps/api/src/ingest/clock-skew.js';
import type { Logger } from '../../apps/api/src/log/logger.js';

const iso = (text: string, zone: string): string | null => {
  const p = parseTimestamp(text, zone);
  return p === null ? null : new Date(p.ms).toISOString();
};

describe('naive timestamps in a zone', () => {
  it('converts wall-clock times in zones without DST', () => {
    const table: [string, string, string][] = [
      ['2026-02-17T14:30:00.123456', 'UTC', '2026-02-17T14:30:00.123Z'],
      ['2026-02-17T14:30:00.123456', 'Etc/UTC', '2026-02-17T14:30:00.123Z'],
      ['2026-02-17T14:30:00.123456', 'Asia/Shanghai', '2026-02-17T06:30:00.123Z'],
      ['2026-07-01T00:15:00', 'Asia/Shanghai', '2026-06-30T16:15:00.000Z'],
      ['2026-02-17 14:30:00', 'Asia/Kolkata', '2026-02-17T09:00:00.000Z'],
      ['2026-02-17T14:30', 'Asia/Kathmandu', '2026-02-17T08:45:00.000Z'],
      ['2026-02-17T14:30:00', 'Etc/GMT-8', '2026-02-17T06:30:00.000Z'],
      ['2026-02-17', 'Asia/Tokyo', '2026-02-16T15:00:00.000Z'],
    ];
    for (const [text, zone, expected] of table) expect(iso(text, zone), `${text} in ${zone}`).toBe(expected);
  });

  it('follows DST, north and south, including half-hour DST', () => {
    const table: [string, string, string][] = [
      // America/New_York: EST (-5) in winter, EDT (-4) in summer.
      ['2026-01-15T12:00:00', 'America/New_York', '2026-01-15T17:00:00.000Z'],
      ['2026-07-15T12:00:00', 'America/New_York', '2026-07-15T16:00:00.000Z'],
      // Just before and after the spring change (2026-03-08 02:00 → 03:00).
      ['2026-03-08T01:59:59', 'America/New_York', '2026-03-08T06:59:59.000Z'],
      ['2026-03-08T03:00:00', 'America/New_York', '2026-03-08T07:00:00.000Z'],
      // In the skipped hour: read with the offset before the change (as Python's fold=0).
      ['2026-03-08T02:30:00', 'America/New_York', '2026-03-08T07:30:00.000Z'],
      // The repeated hour in autumn (2026-11-01 01:00–02:00): its first occurrence (EDT).
      ['2026-11-01T01:30:00', 'America/New_York', '2026-11-01T05:30:00.000Z'],
      ['2026-11-01T02:30:00', 'America/New_York', '2026-11-01T07:30:00.000Z'],
      ['2026-11-01T00:59:00', 'America/New_York', '2026-11-01T04:59:00.000Z'],
      // Europe/Berlin: CET (+1), CEST (+2).
      ['2026-01-10T10:00:00', 'Europe/Berlin', '2026-01-10T09:00:00.000Z'],
      ['2026-06-10T10:00:00', 'Europe/Berlin', '2026-06-10T08:00:00.000Z'],
      // Australia/Sydney: summer (+11) in January, winter (+10) in July.
      ['2026-01-10T10:00:00', 'Australia/Sydney', '2026-01-09T23:00:00.000Z'],
      ['2026-07-10T10:00:00', 'Australia/Sydney', '2026-07-10T00:00:00.000Z'],
      // Australia/Lord_Howe: +10:30, +11 in summer (a half-hour DST step).
      ['2026-07-10T10:00:00', 'Australia/Lord_Howe', '2026-07-09T23:30:00.000Z'],
      ['2026-01-10T10:00:00', 'Australia/Lord_Howe', '2026-01-09T23:00:00.000Z'],
    ];
    for (const [text, zone, expected] of table) expect(iso(text, zone), `${text} in ${zone}`).toBe(expected);
  });

  it('reads every hour of a year back to the same wall-clock time (except skipped hours)', () => {
    const zones = ['America/New_York', 'Australia/Lord_Howe', 'Asia/Shanghai'];
    const start = Date.UTC(2026, 0, 1);
    for (const zone of zones) {
      let skipped = 0;
      for (let h = 0; h < 365 * 24; h++) {
        const wall = start + h * 3_600_000 + 17 * 60_000 + 123;
        const instant = naiveToInstant(wall, zone);
        // The cached path agrees with the direct computation.
        expect(instant).toBe(wallTimeToInstant(wall, zone));
        const back = instant + zoneOffsetMs(zone, instant);
        if (back !== wall) {
          // Only in a skipped hour, moved forward by the size of the gap.
          skipped++;
          expect(back - wall, `${zone} ${new Date(wall).toISOString()}`).toBeGreaterThan(0);
          expect(back - wall).toBeLessThanOrEqual(3_600_000);
        }
      }
      expect(skipped, zone).toBeLessThanOrEqual(1);
    }
  });

  it('leaves timestamps with Z or an offset, and numbers, unchanged whatever the zone', () => {
    for (const zone of ['UTC', 'Asia/Shanghai', 'America/New_York']) {
      expect(iso('2026-02-17T14:30:00Z', zone)).toBe('2026-02-17T14:30:00.000Z');
      expect(iso('2026-02-17T14:30:00.5+08:00', zone)).toBe('2026-02-17T06:30:00.500Z');
      expect(iso('2026-02-17T14:30:00-0500', zone)).toBe('2026-02-17T19:30:00.000Z');
      expect(iso('2026-02-17T14:30:00+05', zone)).toBe('2026-02-17T09:30:00.000Z');
      expect(parseTimestamp(1_771_338_600, zone)).toEqual({ ms: 1_771_338_600_000, naive: false });
      expect(parseTimestamp(1_771_338_600_123, zone)).toEqual({ ms: 1_771_338_600_123, naive: false });
      expect(parseTimestamp('2026-02-17T14:30:00Z', zone)?.naive).toBe(false);
      expect(parseTimestamp('2026-02-17T14:30:00', zone)?.naive).toBe(true);
      expect(parseTimestamp('not a date', zone)).toBeNull();
      expect(parseTimestamp('2026-13-45T99:00:00', zone)).toBeNull();
    }
  });

  it('never throws on extreme or odd naive times, and keeps to 1970 … 9999', () => {
    const odd = ['0000-01-01T00:00:00', '0050-06-01T12:00:00', '1969-12-31T23:00:00', '1970-01-01T07:59:59', '9999-12-31T23:59:59.999', '2026-02-30T10:00:00', '2026-02-17T24:00:00', '2026-02-17T14:30:00.1234567891234'];
    for (const zone of ['UTC', 'Asia/Shanghai', 'America/New_York', 'Pacific/Kiritimati', 'Pacific/Pago_Pago']) {
      for (const text of odd) {
        const p = parseTimestamp(text, zone);
        if (p !== null) {
          expect(p.ms, `${text} in ${zone}`).toBeGreaterThanOrEqual(Date.UTC(1970, 0, 1));
          expect(p.ms, `${text} in ${zone}`).toBeLessThanOrEqual(Date.UTC(9999, 11, 31));
        }
      }
    }
    // Before 1970 in UTC terms: 1970-01-01 07:59 in Shanghai is 1969-12-31 23:59 UTC.
    expect(parseTimestamp('1970-01-01T07:59:59', 'Asia/Shanghai')).toBeNull();
    expect(parseTimestamp('1970-01-01T08:00:00', 'Asia/Shanghai')).toEqual({ ms: 0, naive: true });
  });

  it('knows valid IANA names and refuses others', () => {
    for (const ok of ['UTC', 'Asia/Shanghai', 'America/New_York', 'Europe/Berlin', 'Etc/GMT-8', 'America/Argentina/Buenos_Aires']) {
      expect(isValidTimeZone(ok), ok).toBe(true);
    }
    for (const bad of ['', ' ', 'Asia/Shangai', 'Mars/Olympus', ' UTC', 'UTC ', 'GMT+8:00', 'Asia/Shanghai; DROP']) {
      expect(isValidTimeZone(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('names offsets for people and finds an example zone for one', () => {
    expect(formatOffset(8 * 3_600_000)).toBe('+8 h');
    expect(formatOffset(-5 * 3_600_000)).toBe('-5 h');
    expect(formatOffset(5.5 * 3_600_000)).toBe('+5 h 30 min');
    expect(formatOffset(45 * 60_000)).toBe('+45 min');
    const winter = Date.UTC(2026, 0, 15);
    expect(exampleZoneFor(8 * 3_600_000, winter)).toBe('Asia/Shanghai');
    expect(exampleZoneFor(5.5 * 3_600_000, winter)).toBe('Asia/Kolkata');
    expect(exampleZoneFor(-5 * 3_600_000, winter)).toBe('America/New_York');
    expect(exampleZoneFor(0, winter)).toBe('Europe/London');
    expect(exampleZoneFor(0, Date.UTC(2026, 6, 15))).toBe('UTC');
    expect(exampleZoneFor(13.25 * 3_600_000 + 7 * 60_000, winter)).toBeNull();
  });
});

const record = (timestamp: string | number | undefined, extra: Record<string, unknown> = {}) => ({
  session_id: 's',
  user_input: 'hi',
  intent: 'greet',
  response_time_ms: 5,
  success: true,
  ...(timestamp === undefined ? {} : { timestamp }),
  ...extra,
});

describe('the clock-skew rule', () => {
  const now = Date.UTC(2026, 1, 17, 6, 30, 0);
  const opts = { userInputMaxLength: 200, naming: 'snake' as const, now, naiveTimezone: 'UTC', clockSkewToleranceMs: 300_000 };

  it('stores a timestamp beyond the tolerance at the receive time, keeping what was sent', () => {
    // A sender on UTC+8 writing naive local time to a server reading naive times as UTC.
    const r = validateRecord(record('2026-02-17T14:30:00.250', { metadata: { channel: 'cli' } }), opts);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.record.timestamp).toBe(now);
    expect(r.record.receivedAt).toBe(now);
    expect(r.record.metadata).toEqual({ channel: 'cli', client_timestamp: '2026-02-17T14:30:00.250', clock_skew_ms: 8 * 3_600_000 + 250 });
    expect(r.clockSkew).toEqual({ skewMs: 8 * 3_600_000 + 250, naive: true });
  });

  it('keeps timestamps within the tolerance, and any in the past, as sent', () => {
    for (const ts of ['2026-02-17T06:34:59Z', '2026-02-17T06:30:00', '2026-02-16T06:30:00', '2020-01-01T00:00:00Z', undefined]) {
      const r = validateRecord(record(ts), opts);
      expect(r.ok && r.clockSkew, String(ts)).toBe(null);
      expect(r.ok && r.record.metadata).toBe(null);
    }
    const zoned = validateRecord(record('2026-02-17T14:30:00+08:00'), opts);
    expect(zoned.ok && zoned.record.timestamp).toBe(now);
  });

  it('applies to zoned timestamps too (a wrong clock), marked not naive', () => {
    const r = validateRecord(record('2026-02-17T07:30:00Z'), opts);
    expect(r.ok && r.clockSkew).toEqual({ skewMs: 3_600_000, naive: false });
  });

  it('is read in the naive zone first: the same text from a UTC+8 sender is on time with Asia/Shanghai', () => {
    const r = validateRecord(record('2026-02-17T14:30:00'), { ...opts, naiveTimezone: 'Asia/Shanghai' });
    expect(r.ok && r.clockSkew).toBe(null);
    expect(r.ok && r.record.timestamp).toBe(now);
  });
});

function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (_obj: unknown, msg?: string): void => void lines.push(String(msg));
  const logger = { warn: log, info: log, error: log, debug: log } as unknown as Logger;
  return { logger, lines };
}

describe('ClockSkewTracker', () => {
  it('counts per client, logs each client once with its offset and the setting that fixes it', () => {
    const { logger, lines } = recordingLogger();
    const t = new ClockSkewTracker({ naiveTimezone: 'UTC', toleranceMs: 300_000, logger });
    const now = Date.UTC(2026, 1, 17, 6, 30);
    for (let i = 0; i < 12; i++) t.note({ skewMs: 8 * 3_600_000 - 40 - i, naive: true }, { assistant: 'helper', address: '10.0.0.7' }, now + i);
    t.note({ skewMs: 3_600_000 * 5.5 + 20_000, naive: true }, { assistant: null, address: '10.0.0.8' }, now + 20);
    t.note({ skewMs: 420_000, naive: false }, { assistant: 'clocky', address: '10.0.0.9' }, now + 30);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('assistant helper');
    expect(lines[0]).toContain('+8 h');
    expect(lines[0]).toContain('AI_MONITOR_NAIVE_TIMEZONE=Asia/Shanghai');
    expect(lines[1]).toContain('address 10.0.0.8');
    expect(lines[1]).toContain('+5 h 30 min');
    expect(lines[1]).toContain('AI_MONITOR_NAIVE_TIMEZONE=Asia/Kolkata');
    expect(lines[2]).toContain('+7 min');
    expect(lines[2]).not.toContain('AI_MONITOR_NAIVE_TIMEZONE=');
    const s = t.summary();
    expect(s.records).toBe(14);
    expect(s.clients.map((c) => [c.client, c.records, c.likelyOffset, c.suggestedTimezone])).toEqual([
      ['assistant clocky', 1, '+7 min', null],
      ['address 10.0.0.8', 1, '+5 h 30 min', 'Asia/Kolkata'],
      ['assistant helper', 12, '+8 h', 'Asia/Shanghai'],
    ]);
    // A sender already reading in its zone but off by an hour more (e.g. UTC+9 read as UTC+8).
    const shanghai = new ClockSkewTracker({ naiveTimezone: 'Asia/Shanghai', toleranceMs: 300_000, logger });
    shanghai.note({ skewMs: 3_600_000, naive: true }, { assistant: 'tokyo', address: null }, now);
    expect(shanghai.summary().clients[0]!.suggestedTimezone).toBe('Asia/Tokyo');
  });

  it('forgets the least recently seen client beyond its bound, and keeps the total', () => {
    const { logger } = recordingLogger();
    const t = new ClockSkewTracker({ naiveTimezone: 'UTC', toleranceMs: 300_000, logger });
    for (let i = 0; i < 500; i++) t.note({ skewMs: 3_600_000, naive: true }, { assistant: `a${i}`, address: null }, i);
    const s = t.summary();
    expect(s.records).toBe(500);
    expect(s.clients.length).toBeLessThanOrEqual(200);
    expect(s.clients[0]!.client).toBe('assistant a499');
  });
});
