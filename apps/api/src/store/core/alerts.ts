/** Alert rows, shared by both stores: the mapper, the values written, the filter, the reads. */
import type { AlertFilter, AlertRecord } from '../../model/alert.js';
import type { Page, PageRequest } from '../../model/interaction.js';
import { SqlBuilder, encodeCursor, parseJson, readCursor, toPage, type Dialect, type Row, type SqlReader } from './sql.js';

/** Column order of the `alerts` table, which `alertValues` follows. */
const ALERT_COLUMNS = [
  'id', 'kind', 'status', 'message', 'value', 'threshold', 'raised_at', 'resolved_at', 'acknowledged_at',
  'acknowledged_by', 'delivery', 'details',
] as const;

export function alertValues(a: AlertRecord): unknown[] {
  return [
    a.id, a.kind, a.status, a.message, a.value, a.threshold, a.raisedAt, a.resolvedAt, a.acknowledgedAt,
    a.acknowledgedBy, JSON.stringify(a.delivery), JSON.stringify(a.details),
  ];
}

export function insertAlertSql(d: Dialect): string {
  return `INSERT INTO ${d.table('alerts')} (${ALERT_COLUMNS.join(', ')}) VALUES (${ALERT_COLUMNS.map((_, i) => d.placeholder(i + 1)).join(', ')})`;
}

/** Writes every column of `a` but the id to its row: the statement and its parameters. */
export function updateAlertStatement(d: Dialect, a: AlertRecord): [sql: string, args: unknown[]] {
  const [id, ...rest] = alertValues(a);
  const set = ALERT_COLUMNS.slice(1).map((c, i) => `${c} = ${d.placeholder(i + 1)}`).join(', ');
  return [`UPDATE ${d.table('alerts')} SET ${set} WHERE id = ${d.placeholder(ALERT_COLUMNS.length)}`, [...rest, id]];
}

export function rowToAlert(row: Row): AlertRecord {
  return {
    id: row.id as string,
    kind: row.kind as AlertRecord['kind'],
    status: row.status as AlertRecord['status'],
    message: row.message as string,
    value: Number(row.value),
    threshold: Number(row.threshold),
    raisedAt: Number(row.raised_at),
    resolvedAt: row.resolved_at === null ? null : Number(row.resolved_at),
    acknowledgedAt: row.acknowledged_at === null ? null : Number(row.acknowledged_at),
    acknowledgedBy: (row.acknowledged_by as string | null) ?? null,
    delivery: parseJson(row.delivery, []),
    details: parseJson(row.details, {}),
  };
}

/** WHERE terms of an alert filter, shared by listing and counting. */
function alertWhere(filter: AlertFilter, d: Dialect): SqlBuilder {
  const w = new SqlBuilder(d);
  if (filter.status) w.add('status = ?', filter.status);
  if (filter.kind) w.add('kind = ?', filter.kind);
  if (filter.acknowledged !== undefined) w.add(filter.acknowledged ? 'acknowledged_at IS NOT NULL' : 'acknowledged_at IS NULL');
  if (filter.from !== undefined) w.add('raised_at >= ?', filter.from);
  if (filter.to !== undefined) w.add('raised_at < ?', filter.to);
  return w;
}

export async function getAlert(db: SqlReader, id: string): Promise<AlertRecord | null> {
  const d = db.dialect;
  const rows = await db.all(`SELECT * FROM ${d.table('alerts')} WHERE id = ${d.placeholder(1)}`, [id]);
  return rows[0] ? rowToAlert(rows[0]) : null;
}

/** Newest first; ties by id, descending. */
export async function listAlerts(db: SqlReader, filter: AlertFilter, page: PageRequest): Promise<Page<AlertRecord>> {
  const d = db.dialect;
  const w = alertWhere(filter, d);
  const cursor = readCursor(page.after);
  if (cursor) w.add('(raised_at < ? OR (raised_at = ? AND id < ?))', cursor.a, cursor.a, cursor.b);
  const rows = await db.all(`SELECT * FROM ${d.table('alerts')} ${w.where()} ORDER BY raised_at DESC, id DESC LIMIT ${w.param(page.first + 1)}`, w.args);
  const items = rows.slice(0, page.first).map(rowToAlert);
  return toPage(items, items.map((a) => encodeCursor(a.raisedAt, a.id)), rows.length > page.first);
}

export async function countAlerts(db: SqlReader, filter: AlertFilter): Promise<number> {
  const d = db.dialect;
  const w = alertWhere(filter, d);
  const rows = await db.all(`SELECT count(*) AS n FROM ${d.table('alerts')} ${w.where()}`, w.args);
  return Number(rows[0]!.n);
}
