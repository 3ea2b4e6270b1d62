/** Interaction and session reads, shared by both stores. */
import type { Page, PageRequest, SessionQuery, SessionSort, SessionSortKey, SessionSummary, TimeRange } from '../../model/interaction.js';
import { InvalidCursorError } from '../types.js';
import { compileInteractionFilter } from './filter.js';
import { SqlBuilder, encodeCursor, readCursor, toPage, type Row, type SqlReader } from './sql.js';

export async function getSession(db: SqlReader, id: string): Promise<SessionSummary | null> {
  const d = db.dialect;
  const rows = await db.all(`SELECT * FROM ${d.table('sessions')} WHERE session_id = ${d.placeholder(1)}`, [d.text(id)]);
  return rows[0] ? rowToSession(rows[0]) : null;
}

const SESSION_KEYS: Record<SessionSortKey, { sql: string; value(s: SessionSummary): number }> = {
  lastSeen: { sql: 'last_ts', value: (s) => s.lastSeen },
  errorRate: { sql: '(CAST(errors AS DOUBLE PRECISION) / interactions)', value: (s) => s.errorCount / s.interactionCount },
  interactions: { sql: 'interactions', value: (s) => s.interactionCount },
  duration: { sql: '(last_ts - first_ts)', value: (s) => s.lastSeen - s.firstSeen },
};

/** The default order's cursor keeps its original form; other orders name themselves. */
function sessionTag(sort: SessionSort): string {
  return sort.by === 'lastSeen' && sort.direction === 'desc' ? '' : `${sort.by}.${sort.direction}:`;
}

/**
 * Sessions active in `range`, most recently active first unless `query.sort` says otherwise;
 * ties by id. `query.filter` keeps sessions with at least one matching interaction.
 */
export async function listSessions(db: SqlReader, range: Partial<TimeRange>, page: PageRequest, query: SessionQuery = {}): Promise<Page<SessionSummary>> {
  const d = db.dialect;
  const sort = query.sort ?? { by: 'lastSeen', direction: 'desc' };
  const w = new SqlBuilder(d);
  if (query.filter && Object.values(query.filter).some((v) => v !== undefined)) {
    compileInteractionFilter(query.filter, w, d);
    const inner = w.takeWhere();
    w.addSql(`session_id IN (SELECT session_id FROM ${d.table('interactions')} ${inner})`);
  }
  if (range.from !== undefined) w.add('last_ts >= ?', range.from);
  if (range.to !== undefined) w.add('first_ts < ?', range.to);
  const key = SESSION_KEYS[sort.by];
  const tag = sessionTag(sort);
  const cursor = readCursor(page.after);
  if (cursor) {
    if (!cursor.b.startsWith(tag)) throw new InvalidCursorError(`invalid cursor in "after" (not from this query's sort ${sort.by} ${sort.direction})`);
    const op = sort.direction === 'desc' ? '<' : '>';
    w.add(`(${key.sql} ${op} ? OR (${key.sql} = ? AND session_id > ?))`, cursor.a, cursor.a, cursor.b.slice(tag.length));
  }
  const rows = await db.all(
    `SELECT * FROM ${d.table('sessions')} ${w.where()} ORDER BY ${key.sql} ${sort.direction === 'desc' ? 'DESC' : 'ASC'}, session_id ASC LIMIT ${w.param(page.first + 1)}`,
    w.args,
  );
  const items = rows.slice(0, page.first).map(rowToSession);
  return toPage(items, items.map((s) => encodeCursor(key.value(s), `${tag}${s.id}`)), rows.length > page.first);
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
