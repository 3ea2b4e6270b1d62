/**
 * Counts records whose timestamps were too far ahead of the receive time (see the validator),
 * per sending client, and logs each client once with its likely offset and the setting that
 * fixes it. In memory, since the server started; read by GraphQL (`clockSkew`), the dashboard
 * notice and Prometheus.
 */
import type { Logger } from '../log/logger.js';
import type { ClockSkew } from './validate.js';
import { exampleZoneFor, formatOffset, roundToQuarterHour, zoneOffsetMs } from './timezone.js';

/** Who sent a record: its assistant name when it has one, else the connection's address. */
export interface SkewSource {
  assistant: string | null;
  address: string | null;
}

export interface ClockSkewClient {
  /** `assistant X` or `address 10.0.0.7`: how people name the sender. */
  client: string;
  assistant: string | null;
  address: string | null;
  records: number;
  /** Of them, records whose timestamps had no zone. */
  naiveRecords: number;
  /** The latest skew rounded to the nearest 15 minutes (real UTC offsets are multiples of it). */
  likelyOffsetMs: number;
  /** `+8 h`, `+5 h 30 min`. */
  likelyOffset: string;
  lastSkewMs: number;
  firstSeen: number;
  lastSeen: number;
  /** For naive senders: a zone that would read their times right (e.g. `Asia/Shanghai`). */
  suggestedTimezone: string | null;
}

export interface ClockSkewSummary {
  records: number;
  toleranceMs: number;
  naiveTimezone: string;
  clients: ClockSkewClient[];
}

/** Bounds memory when many distinct senders are skewed; the least recently seen is forgotten. */
const MAX_CLIENTS = 200;

export class ClockSkewTracker {
  private total = 0;
  private readonly clients = new Map<string, ClockSkewClient>();
  /** Clients already logged, with the offset logged (a changed offset is logged again). */
  private readonly logged = new Map<string, string>();
  private readonly suggestions = new Map<string, string | null>();

  constructor(
    private readonly opts: { naiveTimezone: string; toleranceMs: number; logger: Logger },
  ) {}

  /** Records seen since start. */
  get records(): number {
    return this.total;
  }

  note(skew: ClockSkew, source: SkewSource, now: number): void {
    this.total++;
    const key = source.assistant !== null ? `assistant ${source.assistant}` : `address ${source.address ?? 'unknown'}`;
    const likelyOffsetMs = roundToQuarterHour(skew.skewMs);
    // Under the quarter-hour mark the rounding says 0; the measured skew is more telling.
    const likelyOffset = formatOffset(likelyOffsetMs === 0 ? skew.skewMs : likelyOffsetMs);
    let c = this.clients.get(key);
    if (c) this.clients.delete(key);
    else {
      if (this.clients.size >= MAX_CLIENTS) this.forgetOldest();
      c = { client: key, assistant: source.assistant, address: source.address, records: 0, naiveRecords: 0, likelyOffsetMs, likelyOffset, lastSkewMs: skew.skewMs, firstSeen: now, lastSeen: now, suggestedTimezone: null };
    }
    c.records++;
    if (skew.naive) c.naiveRecords++;
    c.likelyOffsetMs = likelyOffsetMs;
    c.likelyOffset = likelyOffset;
    c.lastSkewMs = skew.skewMs;
    c.lastSeen = now;
    c.suggestedTimezone = c.naiveRecords > 0 ? this.suggestZone(likelyOffsetMs, now) : null;
    // Map order is recency order: re-inserted on every record.
    this.clients.set(key, c);
    if (this.logged.get(key) !== likelyOffset) {
      this.logged.set(key, likelyOffset);
      this.opts.logger.warn(
        { client: key, likelyOffset, skewMs: skew.skewMs, naive: skew.naive, suggestedTimezone: c.suggestedTimezone },
        this.message(c, skew.naive),
      );
    }
  }

  summary(): ClockSkewSummary {
    return {
      records: this.total,
      toleranceMs: this.opts.toleranceMs,
      naiveTimezone: this.opts.naiveTimezone,
      clients: [...this.clients.values()].reverse().map((c) => ({ ...c })),
    };
  }

  private forgetOldest(): void {
    const oldest = this.clients.keys().next();
    if (oldest.done) return;
    this.clients.delete(oldest.value);
    this.logged.delete(oldest.value);
  }

  /** A sender writing naive local time is `offset` ahead of the zone naive times are read in. */
  private suggestZone(offsetMs: number, now: number): string | null {
    // Searching the zones costs Intl calls: once per offset and hour, not per record.
    const key = `${offsetMs}:${Math.floor(now / 3_600_000)}`;
    const known = this.suggestions.get(key);
    if (known !== undefined) return known;
    const zone = exampleZoneFor(zoneOffsetMs(this.opts.naiveTimezone, now) + offsetMs, now);
    if (this.suggestions.size >= 100) this.suggestions.clear();
    this.suggestions.set(key, zone);
    return zone;
  }

  private message(c: ClockSkewClient, naive: boolean): string {
    const base = `clock skew: records from ${c.client} arrive with timestamps about ${c.likelyOffset} ahead of the server clock; they are counted at their receive time (the sent time is kept in metadata.client_timestamp).`;
    if (naive && c.suggestedTimezone) {
      return `${base} The timestamps have no zone and are read in ${this.opts.naiveTimezone}; if the sender writes local time, set AI_MONITOR_NAIVE_TIMEZONE=${c.suggestedTimezone}.`;
    }
    return `${base} Check the sender's clock and time zone.`;
  }
}
