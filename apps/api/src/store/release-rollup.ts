/**
 * The release dimension of the roll-ups, maintained at write time so release queries never
 * scan raw interactions.
 *
 * - `rollup_release`: per hour × assistant × version × (dimension, key): counts, failures,
 *   latency sum / max / histogram, tokens, cost, first and last timestamp. The dimension is
 *   '' for the release as a whole (key ''), or intent / tool / error_type / model. Hourly, not
 *   per minute: a comparison spans hours to weeks, and a day of one release is then a few
 *   hundred rows whatever the traffic.
 * - `release_session`: per UTC day × release × session: interactions and failures. Bounded by
 *   the sessions of the retention period; it exists only to keep the moments below exact.
 * - `release_moments`: per UTC day × release: the number of sessions and the sums Σn, Σy,
 *   Σn², Σy², Σn·y over its sessions (n interactions, y failures each), from which the
 *   delta-method (cluster-robust) variance of the failure rate follows. When a session's
 *   counts go from (n0, y0) to (n1, y1) the squares change by n1² − n0² etc., so each batch
 *   adds exact increments; the session row's upsert returns (n1, y1) atomically, which keeps
 *   this exact with many replicas writing. A session spanning midnight counts as two clusters.
 *
 * Interactions without a `version` belong to no release and are left out; a missing
 * `assistant` is the empty string.
 */
import type { Interaction } from '../model/interaction.js';
import { Histogram } from '../model/histogram.js';
import { addInteractionSums, toolFailed } from './rollup.js';

export const HOUR_MS = 3_600_000;
/** The schema version that added the release roll-ups; upgrading to it fills them from the stored interactions. */
export const RELEASE_ROLLUP_VERSION = 6;
/** Interactions per chunk when filling the roll-ups on upgrade. */
export const BACKFILL_CHUNK = 5000;
export const DAY_MS = 86_400_000;

export type ReleaseDimension = '' | 'intent' | 'tool' | 'error_type' | 'model';

export interface ReleaseAgg {
  hour: number;
  assistant: string;
  version: string;
  dimension: ReleaseDimension;
  key: string;
  count: number;
  errors: number;
  rtSum: number;
  rtMax: number;
  hist: Histogram;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  first: number;
  last: number;
}

export interface ReleaseSessionAgg {
  day: number;
  assistant: string;
  version: string;
  sessionId: string;
  count: number;
  errors: number;
}

/** Additions to one day's moments. */
export interface MomentsDelta {
  day: number;
  assistant: string;
  version: string;
  sessions: number;
  n: number;
  y: number;
  nn: number;
  yy: number;
  ny: number;
}

/** Stored columns of `rollup_release` after its key, in table order. */
export const RELEASE_VALUE_COLUMNS = ['count', 'errors', 'rt_sum', 'rt_max', 'hist', 'input_tokens', 'output_tokens', 'cost_usd', 'first_ts', 'last_ts'] as const;

export class ReleaseBatch {
  readonly rows = new Map<string, ReleaseAgg>();
  readonly sessions = new Map<string, ReleaseSessionAgg>();

  add(r: Interaction): void {
    if (r.version === null || r.version === undefined) return;
    const assistant = r.assistant ?? '';
    const version = r.version;
    const hour = Math.floor(r.timestamp / HOUR_MS) * HOUR_MS;
    const failed = r.success ? 0 : 1;
    const row = (dimension: ReleaseDimension, key: string): ReleaseAgg => {
      const k = `${hour}\u0000${assistant}\u0000${version}\u0000${dimension}\u0000${key}`;
      let a = this.rows.get(k);
      if (!a) {
        a = { hour, assistant, version, dimension, key, count: 0, errors: 0, rtSum: 0, rtMax: 0, hist: new Histogram(), inputTokens: 0, outputTokens: 0, costUsd: 0, first: r.timestamp, last: r.timestamp };
        this.rows.set(k, a);
      }
      a.first = Math.min(a.first, r.timestamp);
      a.last = Math.max(a.last, r.timestamp);
      return a;
    };
    const interaction = (a: ReleaseAgg): void => {
      addInteractionSums(a, r, failed);
      if (r.responseTimeMs > a.rtMax) a.rtMax = r.responseTimeMs;
    };
    interaction(row('', ''));
    interaction(row('intent', r.intent));
    if (r.model) interaction(row('model', r.model));
    if (!r.success) row('error_type', r.errorType ?? 'unknown').count++;
    for (const t of r.toolsUsed) {
      const a = row('tool', t.tool);
      a.count++;
      a.errors += toolFailed(t) ? 1 : 0;
      if (t.durationMs !== null) {
        a.rtSum += t.durationMs;
        if (t.durationMs > a.rtMax) a.rtMax = t.durationMs;
        a.hist.record(t.durationMs);
      }
    }

    const day = Math.floor(r.timestamp / DAY_MS) * DAY_MS;
    const sk = `${day}\u0000${assistant}\u0000${version}\u0000${r.sessionId}`;
    const s = this.sessions.get(sk);
    if (s) {
      s.count++;
      s.errors += failed;
    } else this.sessions.set(sk, { day, assistant, version, sessionId: r.sessionId, count: 1, errors: failed });
  }

  get empty(): boolean {
    return this.rows.size === 0;
  }
}

/**
 * Adds one session's change to its day's moments: `added` is what this batch added, `now`
 * what the session row holds after the upsert.
 */
export function addMoments(into: Map<string, MomentsDelta>, s: ReleaseSessionAgg, now: { count: number; errors: number }): void {
  const n0 = now.count - s.count;
  const y0 = now.errors - s.errors;
  const k = `${s.day}\u0000${s.assistant}\u0000${s.version}`;
  let m = into.get(k);
  if (!m) into.set(k, (m = { day: s.day, assistant: s.assistant, version: s.version, sessions: 0, n: 0, y: 0, nn: 0, yy: 0, ny: 0 }));
  if (n0 === 0) m.sessions++;
  m.n += s.count;
  m.y += s.errors;
  m.nn += now.count * now.count - n0 * n0;
  m.yy += now.errors * now.errors - y0 * y0;
  m.ny += now.count * now.errors - n0 * y0;
}

export const MOMENT_COLUMNS = ['sessions', 'n', 'y', 'nn', 'yy', 'ny'] as const;
