/** Roll-up reads, shared by both stores: sums over whole minutes, time buckets, breakdowns. */
import type { TimeRange } from '../../model/interaction.js';
import { Histogram, decodeHistogramInto } from '../../model/histogram.js';
import { MINUTE_MS, type ErrorTypeRow, type IntentRow, type ModelRow, type TimeBucket, type ToolRow, type Totals, type UnpricedModelRow } from '../types.js';
import { ERROR_ROLLUP, INTENT_ROLLUP, TOOL_ROLLUP, type KeyedRollup } from '../rollup.js';
import type { Row, SqlReader } from './sql.js';

const MINUTE_COLUMNS = 'minute, count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd, costed, unpriced';

/** The minutes a range covers: from the start of `from`'s minute up to `to`. */
export function minuteBounds(range: TimeRange): [number, number] {
  return [Math.floor(range.from / MINUTE_MS) * MINUTE_MS, range.to];
}

/** Adds minute rows (PostgreSQL has one per writer and minute; they add up the same way). */
export function sumMinutes(rows: readonly Row[]): Totals {
  const t: Totals = { count: 0, errors: 0, responseTimeSum: 0, responseTimeMax: 0, histogram: new Histogram(), inputTokens: 0, outputTokens: 0, costUsd: 0, costed: 0, unpriced: 0 };
  for (const r of rows) {
    t.count += Number(r.count);
    t.errors += Number(r.errors);
    t.responseTimeSum += Number(r.rt_sum);
    t.responseTimeMax = Math.max(t.responseTimeMax, Number(r.rt_max));
    decodeHistogramInto(t.histogram, r.hist as Uint8Array);
    t.inputTokens += Number(r.input_tokens);
    t.outputTokens += Number(r.output_tokens);
    t.costUsd += Number(r.cost_usd);
    t.costed += Number(r.costed);
    t.unpriced += Number(r.unpriced);
  }
  return t;
}

/** Groups minute rows (ascending) into buckets aligned on `from` rounded down to the bucket size; empty buckets are left out. */
export function bucketMinutes(rows: readonly Row[], from: number, bucketMs: number): TimeBucket[] {
  const buckets = new Map<number, Row[]>();
  const origin = Math.floor(from / bucketMs) * bucketMs;
  for (const row of rows) {
    const start = origin + Math.floor((Number(row.minute) - origin) / bucketMs) * bucketMs;
    let list = buckets.get(start);
    if (!list) buckets.set(start, (list = []));
    list.push(row);
  }
  return [...buckets.entries()].map(([start, list]) => ({ start, ...sumMinutes(list) }));
}

async function minuteRows(db: SqlReader, range: TimeRange): Promise<Row[]> {
  const d = db.dialect;
  return db.all(
    `SELECT ${MINUTE_COLUMNS} FROM ${d.table('rollup_minute')} WHERE minute >= ${d.placeholder(1)} AND minute < ${d.placeholder(2)} ORDER BY minute`,
    minuteBounds(range),
  );
}

export async function totals(db: SqlReader, range: TimeRange): Promise<Totals> {
  return sumMinutes(await minuteRows(db, range));
}

export async function timeseries(db: SqlReader, range: TimeRange, bucketMs: number): Promise<TimeBucket[]> {
  return bucketMinutes(await minuteRows(db, range), range.from, bucketMs);
}

/** Sums every column per key over the range's minutes, largest first column first, ties by key in byte order. */
async function breakdown(db: SqlReader, t: KeyedRollup, range: TimeRange, limit: number): Promise<Row[]> {
  const d = db.dialect;
  const sums = t.columns.map((c) => `sum(${c.column}) AS ${c.column}`).join(', ');
  return db.all(
    `SELECT ${t.key}, ${sums} FROM ${d.table(t.table)} WHERE minute >= ${d.placeholder(1)} AND minute < ${d.placeholder(2)}
     GROUP BY ${t.key} ORDER BY sum(${t.columns[0]!.column}) DESC, ${t.key}${d.collate} LIMIT ${d.placeholder(3)}`,
    [...minuteBounds(range), limit],
  );
}

export async function intentBreakdown(db: SqlReader, range: TimeRange, limit: number): Promise<IntentRow[]> {
  const rows = await breakdown(db, INTENT_ROLLUP, range, limit);
  return rows.map((r) => ({ intent: r.intent as string, count: Number(r.count), errors: Number(r.errors), responseTimeSum: Number(r.rt_sum) }));
}

export async function toolBreakdown(db: SqlReader, range: TimeRange, limit: number): Promise<ToolRow[]> {
  const rows = await breakdown(db, TOOL_ROLLUP, range, limit);
  return rows.map((r) => ({
    tool: r.tool as string,
    calls: Number(r.calls),
    errors: Number(r.errors),
    durationSum: Number(r.duration_sum),
    durationCount: Number(r.duration_n),
  }));
}

export async function errorBreakdown(db: SqlReader, range: TimeRange, limit: number): Promise<ErrorTypeRow[]> {
  const rows = await breakdown(db, ERROR_ROLLUP, range, limit);
  return rows.map((r) => ({ errorType: r.error_type as string, count: Number(r.count) }));
}

/**
 * Per model over the range's minutes (PostgreSQL sums every writer's rows), most interactions
 * first, ties by model in byte order; each row's latency histogram merged for its percentiles.
 */
export async function modelBreakdown(db: SqlReader, range: TimeRange, limit: number): Promise<ModelRow[]> {
  const d = db.dialect;
  const t = d.table('rollup_model');
  const where = `minute >= ${d.placeholder(1)} AND minute < ${d.placeholder(2)}`;
  // The top models by count first, then the histograms of those models' rows only.
  const top = await db.all(
    `SELECT model, sum(count) AS count, sum(errors) AS errors, sum(rt_sum) AS rt_sum, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd, sum(costed) AS costed, sum(unpriced) AS unpriced
     FROM ${t} WHERE ${where} GROUP BY model ORDER BY sum(count) DESC, model${d.collate} LIMIT ${d.placeholder(3)}`,
    [...minuteBounds(range), limit],
  );
  if (top.length === 0) return [];
  const rows: ModelRow[] = top.map((r) => ({
    model: r.model as string,
    count: Number(r.count),
    errors: Number(r.errors),
    responseTimeSum: Number(r.rt_sum),
    histogram: new Histogram(),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    costUsd: Number(r.cost_usd),
    costed: Number(r.costed),
    unpriced: Number(r.unpriced),
  }));
  const byModel = new Map(rows.map((r) => [r.model, r]));
  const models = rows.map((r) => r.model);
  const inList = models.map((_, i) => d.placeholder(i + 3)).join(', ');
  const hists = await db.all(`SELECT model, hist FROM ${t} WHERE ${where} AND model IN (${inList})`, [...minuteBounds(range), ...models]);
  for (const h of hists) {
    const row = byModel.get(h.model as string);
    if (row) decodeHistogramInto(row.histogram, h.hist as Uint8Array);
  }
  return rows;
}

/** Models with interactions that have no cost in the range, most first (at most `limit`). */
export async function unpricedModels(db: SqlReader, range: TimeRange, limit: number): Promise<UnpricedModelRow[]> {
  const d = db.dialect;
  const rows = await db.all(
    `SELECT model, sum(unpriced) AS unpriced FROM ${d.table('rollup_model')} WHERE minute >= ${d.placeholder(1)} AND minute < ${d.placeholder(2)}
     GROUP BY model HAVING sum(unpriced) > 0 ORDER BY sum(unpriced) DESC, model${d.collate} LIMIT ${d.placeholder(3)}`,
    [...minuteBounds(range), limit],
  );
  return rows.map((r) => ({ model: r.model as string, interactions: Number(r.unpriced) }));
}
