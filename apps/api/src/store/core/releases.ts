/**
 * Release reads, shared by both stores: everything from the release roll-ups
 * (store/release-rollup.ts), never from raw interactions.
 */
import type { TimeRange } from '../../model/interaction.js';
import { Histogram } from '../../model/histogram.js';
import { DAY_MS, HOUR_MS, type ReleaseDimension } from '../release-rollup.js';
import type { ClusterMoments } from '../../stats/proportions.js';
import type { Row, SqlReader } from './sql.js';

/** Sums of one release (or one of its rows) over a range. */
export interface ReleaseSums {
  count: number;
  errors: number;
  rtSum: number;
  rtMax: number;
  histogram: Histogram;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  first: number;
  last: number;
}

export interface ReleaseSummary extends ReleaseSums {
  assistant: string;
  version: string;
}

export interface ReleaseCellRow extends ReleaseSums {
  dimension: ReleaseDimension;
  key: string;
}

export interface ReleaseBucket {
  version: string;
  start: number;
  count: number;
  errors: number;
  histogram: Histogram;
  rtMax: number;
}

/** Whole hours: from the start of `from`'s hour up to `to`. */
export function hourBounds(range: TimeRange): [number, number] {
  return [Math.floor(range.from / HOUR_MS) * HOUR_MS, range.to];
}

/** Whole UTC days overlapping the range. */
export function dayBounds(range: TimeRange): [number, number] {
  return [Math.floor(range.from / DAY_MS) * DAY_MS, range.to];
}

function emptySums(): ReleaseSums {
  return { count: 0, errors: 0, rtSum: 0, rtMax: 0, histogram: new Histogram(), inputTokens: 0, outputTokens: 0, costUsd: 0, first: Number.POSITIVE_INFINITY, last: Number.NEGATIVE_INFINITY };
}

function addRow(s: ReleaseSums, r: Row): void {
  s.count += Number(r.count);
  s.errors += Number(r.errors);
  s.rtSum += Number(r.rt_sum);
  s.rtMax = Math.max(s.rtMax, Number(r.rt_max));
  s.histogram.addBytes(r.hist as Uint8Array);
  s.inputTokens += Number(r.input_tokens);
  s.outputTokens += Number(r.output_tokens);
  s.costUsd += Number(r.cost_usd);
  s.first = Math.min(s.first, Number(r.first_ts));
  s.last = Math.max(s.last, Number(r.last_ts));
}

const VALUES = 'count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd, first_ts, last_ts';

/** Every release with traffic in the range (of one assistant when given), most recently seen first. */
export async function listReleases(db: SqlReader, assistant: string | null, range: TimeRange): Promise<ReleaseSummary[]> {
  const d = db.dialect;
  const args: unknown[] = [...hourBounds(range)];
  let where = `dimension = '' AND hour >= ${d.placeholder(1)} AND hour < ${d.placeholder(2)}`;
  if (assistant !== null) {
    args.push(assistant);
    where += ` AND assistant = ${d.placeholder(3)}`;
  }
  const rows = await db.all(`SELECT assistant, version, ${VALUES} FROM ${d.table('rollup_release')} WHERE ${where}`, args);
  const byRelease = new Map<string, ReleaseSummary>();
  for (const r of rows) {
    const k = `${r.assistant as string}\u0000${r.version as string}`;
    let s = byRelease.get(k);
    if (!s) byRelease.set(k, (s = { assistant: r.assistant as string, version: r.version as string, ...emptySums() }));
    addRow(s, r);
  }
  return [...byRelease.values()].sort((a, b) => b.last - a.last || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

/** One release's sums over the range, per (dimension, key); the whole release under ('', ''). */
export async function releaseCells(db: SqlReader, assistant: string, version: string, range: TimeRange): Promise<ReleaseCellRow[]> {
  const d = db.dialect;
  const rows = await db.all(
    `SELECT dimension, key, ${VALUES} FROM ${d.table('rollup_release')}
     WHERE assistant = ${d.placeholder(1)} AND version = ${d.placeholder(2)} AND hour >= ${d.placeholder(3)} AND hour < ${d.placeholder(4)}`,
    [assistant, version, ...hourBounds(range)],
  );
  const cells = new Map<string, ReleaseCellRow>();
  for (const r of rows) {
    const k = `${r.dimension as string}\u0000${r.key as string}`;
    let c = cells.get(k);
    if (!c) cells.set(k, (c = { dimension: r.dimension as ReleaseDimension, key: r.key as string, ...emptySums() }));
    addRow(c, r);
  }
  return [...cells.values()];
}

/** The session moments of a release over the whole UTC days the range overlaps. */
export async function releaseMoments(db: SqlReader, assistant: string, version: string, range: TimeRange): Promise<ClusterMoments> {
  const d = db.dialect;
  const rows = await db.all(
    `SELECT sum(sessions) AS sessions, sum(n) AS n, sum(y) AS y, sum(nn) AS nn, sum(yy) AS yy, sum(ny) AS ny FROM ${d.table('release_moments')}
     WHERE assistant = ${d.placeholder(1)} AND version = ${d.placeholder(2)} AND day >= ${d.placeholder(3)} AND day < ${d.placeholder(4)}`,
    [assistant, version, ...dayBounds(range)],
  );
  const r = rows[0] ?? {};
  return { sessions: Number(r.sessions ?? 0), n: Number(r.n ?? 0), y: Number(r.y ?? 0), nn: Number(r.nn ?? 0), yy: Number(r.yy ?? 0), ny: Number(r.ny ?? 0) };
}

/** Per-release buckets of the whole-release rows (for "success rate and p95 over time"). */
export async function releaseTimeseries(db: SqlReader, assistant: string, versions: readonly string[], range: TimeRange, bucketMs: number): Promise<ReleaseBucket[]> {
  if (versions.length === 0) return [];
  const d = db.dialect;
  const inList = versions.map((_, i) => d.placeholder(i + 4)).join(', ');
  const rows = await db.all(
    `SELECT version, hour, count, errors, rt_max, hist FROM ${d.table('rollup_release')}
     WHERE assistant = ${d.placeholder(1)} AND hour >= ${d.placeholder(2)} AND hour < ${d.placeholder(3)} AND dimension = '' AND version IN (${inList})
     ORDER BY hour`,
    [assistant, ...hourBounds(range), ...versions],
  );
  const size = Math.max(HOUR_MS, Math.ceil(bucketMs / HOUR_MS) * HOUR_MS);
  const origin = Math.floor(range.from / size) * size;
  const buckets = new Map<string, ReleaseBucket>();
  for (const r of rows) {
    const start = origin + Math.floor((Number(r.hour) - origin) / size) * size;
    const version = r.version as string;
    const k = `${version}\u0000${start}`;
    let b = buckets.get(k);
    if (!b) buckets.set(k, (b = { version, start, count: 0, errors: 0, histogram: new Histogram(), rtMax: 0 }));
    b.count += Number(r.count);
    b.errors += Number(r.errors);
    b.rtMax = Math.max(b.rtMax, Number(r.rt_max));
    b.histogram.addBytes(r.hist as Uint8Array);
  }
  return [...buckets.values()].sort((a, b) => a.start - b.start || (a.version < b.version ? -1 : 1));
}
