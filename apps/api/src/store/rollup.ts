/**
 * Aggregates a batch of new interactions per minute before they are merged into the stored
 * roll-ups, so a batch costs one upsert per (minute, key) rather than one per record.
 */
import type { Interaction } from '../model/interaction.js';
import { Histogram } from '../model/histogram.js';
import { MINUTE_MS } from './types.js';

export interface MinuteAgg {
  minute: number;
  count: number;
  errors: number;
  rtSum: number;
  rtMax: number;
  hist: Histogram;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface KeyedAgg {
  minute: number;
  key: string;
  count: number;
  errors: number;
  sum: number;
  /** Tools only: how many calls reported a duration. */
  n: number;
}

export interface SessionAgg {
  id: string;
  first: number;
  last: number;
  count: number;
  errors: number;
  rtSum: number;
}

export class BatchRollup {
  readonly minutes = new Map<number, MinuteAgg>();
  readonly intents = new Map<string, KeyedAgg>();
  readonly tools = new Map<string, KeyedAgg>();
  readonly errorTypes = new Map<string, KeyedAgg>();
  readonly sessions = new Map<string, SessionAgg>();

  add(r: Interaction): void {
    const minute = Math.floor(r.timestamp / MINUTE_MS) * MINUTE_MS;
    const failed = r.success ? 0 : 1;
    let m = this.minutes.get(minute);
    if (!m) {
      m = { minute, count: 0, errors: 0, rtSum: 0, rtMax: 0, hist: new Histogram(), inputTokens: 0, outputTokens: 0, costUsd: 0 };
      this.minutes.set(minute, m);
    }
    m.count++;
    m.errors += failed;
    m.rtSum += r.responseTimeMs;
    if (r.responseTimeMs > m.rtMax) m.rtMax = r.responseTimeMs;
    m.hist.record(r.responseTimeMs);
    m.inputTokens += r.inputTokens ?? 0;
    m.outputTokens += r.outputTokens ?? 0;
    m.costUsd += r.costUsd ?? 0;

    bump(this.intents, minute, r.intent, failed, r.responseTimeMs, 1);
    for (const t of r.toolsUsed) {
      const toolFailed = t.success === false || (t.success === null && t.error !== null) ? 1 : 0;
      bump(this.tools, minute, t.tool, toolFailed, t.durationMs ?? 0, t.durationMs === null ? 0 : 1);
    }
    if (!r.success) bump(this.errorTypes, minute, r.errorType ?? 'unknown', 1, 0, 0);

    const s = this.sessions.get(r.sessionId);
    if (!s) this.sessions.set(r.sessionId, { id: r.sessionId, first: r.timestamp, last: r.timestamp, count: 1, errors: failed, rtSum: r.responseTimeMs });
    else {
      s.first = Math.min(s.first, r.timestamp);
      s.last = Math.max(s.last, r.timestamp);
      s.count++;
      s.errors += failed;
      s.rtSum += r.responseTimeMs;
    }
  }
}

function bump(map: Map<string, KeyedAgg>, minute: number, key: string, failed: number, sum: number, n: number): void {
  const k = `${minute}\u0000${key}`;
  const a = map.get(k);
  if (a) {
    a.count++;
    a.errors += failed;
    a.sum += sum;
    a.n += n;
  } else map.set(k, { minute, key, count: 1, errors: failed, sum, n });
}
