/** Interaction and session reads, shared by both stores. */
import type { Interaction, InteractionFilter, Page, PageRequest, SessionSummary, TimeRange } from '../../model/interaction.js';
import { rowToInteraction } from './columns.js';
import { compileInteractionFilter } from './filter.js';
import { SqlBuilder, encodeCursor, readCursor, toPage, type Row, type SqlReader } from './sql.js';

/** Newest first; ties by insertion order. */
export async function listInteractions(db: SqlReader, filter: InteractionFilter, page: PageRequest): Promise<Page<Interaction>> {
  const d = db.dialect;
  const w = new SqlBuilder(d);
  compileInteractionFilter(filter, w, d);
  const cursor = readCursor(page.after);
  if (cursor) w.addCondition(d.beforeSeq(cursor.a, Number(cursor.b)));
  const rows = await db.all(
    `SELECT * FROM ${d.table('interactions')} ${w.where()} ORDER BY ts DESC, seq DESC LIMIT ${w.param(page.first + 1)}`,
    w.args,
  );
  const items = rows.slice(0, page.first);
  return toPage(items.map(rowToInteraction), items.map((r) => encodeCursor(Number(r.ts), Number(r.seq))), rows.length > page.first);
}

export async function getSession(db: SqlReader, id: string): Promise<SessionSummary | null> {
  const d = db.dialect;
  const rows = await db.all(`SELECT * FROM ${d.table('sessions')} WHERE session_id = ${d.placeholder(1)}`, [d.text(id)]);
  return rows[0] ? rowToSession(rows[0]) : null;
}

/** Most recently active first; ties by id. */
export async function listSessions(db: SqlReader, range: Partial<TimeRange>, page: PageRequest): Promise<Page<SessionSummary>> {
  const d = db.dialect;
  const w = new SqlBuilder(d);
  if (range.from !== undefined) w.add('last_ts >= ?', range.from);
  if (range.to !== undefined) w.add('first_ts < ?', range.to);
  const cursor = readCursor(page.after);
  if (cursor) w.add('(last_ts < ? OR (last_ts = ? AND session_id > ?))', cursor.a, cursor.a, cursor.b);
  const rows = await db.all(
    `SELECT * FROM ${d.table('sessions')} ${w.where()} ORDER BY last_ts DESC, session_id ASC LIMIT ${w.param(page.first + 1)}`,
    w.args,
  );
  const items = rows.slice(0, page.first).map(rowToSession);
  return toPage(items, items.map((s) => encodeCursor(s.lastSeen, s.id)), rows.length > page.first);
}

export async function activeSessions(db: SqlReader, since: number): Promise<number> {
  const d = db.dialect;
  const rows = await db.all(`SELECT count(*) AS n FROM ${d.table('sessions')} WHERE last_ts >= ${d.placeholder(1)}`, [since]);
  return Number(rows[0]!.n);
}

export function rowToSession(row: Row): SessionSummary {
  return {
    id: row.session_id as string,
    firstSeen: Number(row.first_ts),
    lastSeen: Number(row.last_ts),
    interactionCount: Number(row.interactions),
    errorCount: Number(row.errors),
    totalResponseTimeMs: Number(row.rt_sum),
  };
}
