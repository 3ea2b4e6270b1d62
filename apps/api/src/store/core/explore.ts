/**
 * The explorer's reads, shared by both stores: sorted pages with stable cursors, the matching
 * count, facet counts, the histogram of matches and batches for export. Every one takes the
 * same filter, compiled once (filter.ts).
 */
import type {
  FacetName,
  FacetValue,
  Interaction,
  InteractionCount,
  InteractionFacets,
  InteractionFilter,
  InteractionSort,
  MatchBucket,
  Page,
  PageRequest,
} from '../../model/interaction.js';
import { DEFAULT_SORT, FACET_NAMES } from '../../model/interaction.js';
import { InvalidCursorError } from '../types.js';
import { rowToInteraction } from './columns.js';
import { compileInteractionFilter, isShortSearch } from './filter.js';
import { SqlBuilder, decodeCursor, encodeCursor, toPage, type Row, type SqlReader } from './sql.js';

/** The SQL each order sorts by; absent tokens and cost count as 0. */
const SORT_KEYS: Record<InteractionSort['by'], { sql: string; value(r: Row): number }> = {
  time: { sql: 'ts', value: (r) => Number(r.ts) },
  responseTime: { sql: 'response_time_ms', value: (r) => Number(r.response_time_ms) },
  tokens: {
    sql: '(coalesce(input_tokens, 0) + coalesce(output_tokens, 0))',
    value: (r) => Number(r.input_tokens ?? 0) + Number(r.output_tokens ?? 0),
  },
  cost: { sql: 'coalesce(cost_usd, 0)', value: (r) => Number(r.cost_usd ?? 0) },
};

/**
 * A cursor is (sort value, position). The newest-first cursor keeps its original form
 * (`ts:seq`); other orders name themselves, so a cursor is never read under another order.
 */
function cursorTag(sort: InteractionSort): string {
  return sort.by === 'time' && sort.direction === 'desc' ? '' : `${sort.by}.${sort.direction}.`;
}

function readSortCursor(after: string | null | undefined, sort: InteractionSort): { value: number; seq: number } | null {
  if (!after) return null;
  const c = decodeCursor(after);
  const tag = cursorTag(sort);
  if (!c || !c.b.startsWith(tag) || !/^\d+$/.test(c.b.slice(tag.length))) {
    throw new InvalidCursorError(`invalid cursor in "after" (not from this query's sort ${sort.by} ${sort.direction})`);
  }
  return { value: c.a, seq: Number(c.b.slice(tag.length)) };
}

function filtered(db: SqlReader, filter: InteractionFilter, scanSearch = false): SqlBuilder {
  const w = new SqlBuilder(db.dialect);
  compileInteractionFilter(filter, w, db.dialect, { scanSearch });
  return w;
}

/** Indexed matches above which a newest-first page walks the time index instead (see Dialect.inputScan). */
const COMMON_TERM = 2000;

/**
 * True when a newest-first page of this search is found sooner by walking the time index: the
 * whole filter (through the text index) has at least COMMON_TERM matches. Counting through the
 * index is bounded by the term's matches; walking the time index for a filter with few matches
 * would read the whole table.
 */
async function isCommonTerm(db: SqlReader, filter: InteractionFilter, sort: InteractionSort): Promise<boolean> {
  const d = db.dialect;
  if (!filter.search || !d.inputScan || sort.by !== 'time' || isShortSearch(d.text(filter.search.toLowerCase()))) return false;
  const w = filtered(db, filter);
  const rows = await db.all(`SELECT count(*) AS n FROM (SELECT 1 FROM ${d.table('interactions')} ${w.where()} LIMIT ${w.param(COMMON_TERM)}) AS m`, w.args);
  return Number(rows[0]?.n ?? 0) >= COMMON_TERM;
}

/** One page in the requested order; ties by insertion order in the same direction. */
export async function listInteractions(
  db: SqlReader,
  filter: InteractionFilter,
  page: PageRequest,
  sort: InteractionSort = DEFAULT_SORT,
): Promise<Page<Interaction>> {
  const d = db.dialect;
  const w = filtered(db, filter, await isCommonTerm(db, filter, sort));
  const key = SORT_KEYS[sort.by];
  const cursor = readSortCursor(page.after, sort);
  if (cursor) {
    if (sort.by === 'time' && sort.direction === 'desc') w.addCondition(d.beforeSeq(cursor.value, cursor.seq));
    else {
      // The bound first (`key <= ?`), so an index on the key, where there is one, gives a range.
      const op = sort.direction === 'desc' ? '<' : '>';
      w.add(`${key.sql} ${op}= ? AND (${key.sql} ${op} ? OR seq ${op} ?)`, cursor.value, cursor.value, cursor.seq);
    }
  }
  const dir = sort.direction === 'desc' ? 'DESC' : 'ASC';
  const rows = await db.all(
    `SELECT * FROM ${d.table('interactions')} ${w.where()} ORDER BY ${key.sql} ${dir}, seq ${dir} LIMIT ${w.param(page.first + 1)}`,
    w.args,
  );
  const items = rows.slice(0, page.first);
  const tag = cursorTag(sort);
  return toPage(
    items.map(rowToInteraction),
    items.map((r) => encodeCursor(key.value(r), `${tag}${Number(r.seq)}`)),
    rows.length > page.first,
  );
}

/** The number of matches; a 1–2 character search counts within its window only, so it is marked estimated. */
export async function countInteractions(db: SqlReader, filter: InteractionFilter): Promise<InteractionCount> {
  const w = filtered(db, filter);
  const rows = await db.all(`SELECT count(*) AS n FROM ${db.dialect.table('interactions')} ${w.where()}`, w.args);
  return { count: Number(rows[0]!.n), estimated: Boolean(filter.search && isShortSearch(filter.search.toLowerCase())) };
}

const FACET_COLUMNS: Record<Exclude<FacetName, 'tool'>, string> = {
  intent: 'intent',
  errorType: 'error_type',
  assistant: 'assistant',
  model: 'model',
  version: 'version',
  environment: 'environment',
};

/** The `limit` most frequent values of one facet among the matches (most frequent first, ties by value). */
export async function facet(db: SqlReader, filter: InteractionFilter, name: FacetName, limit: number): Promise<FacetValue[]> {
  const d = db.dialect;
  const w = filtered(db, filter);
  let sql: string;
  if (name === 'tool') {
    // Interactions that called each tool (one interaction may count under several tools, or none).
    const t = d.toolFacet;
    sql = `WITH m AS (SELECT seq, ${t.column} FROM ${d.table('interactions')} ${w.where()})
      SELECT ${t.value} AS value, count(DISTINCT m.seq) AS n FROM m, ${t.from} GROUP BY 1`;
  } else {
    sql = `SELECT ${FACET_COLUMNS[name]} AS value, count(*) AS n FROM ${d.table('interactions')} ${w.where()} GROUP BY 1`;
  }
  const rows = await db.all(`${sql} ORDER BY n DESC, value LIMIT ${w.param(limit)}`, w.args);
  return rows.map((r) => ({ value: r.value === null || r.value === undefined ? null : String(r.value), count: Number(r.n) }));
}

export async function facets(db: SqlReader, filter: InteractionFilter, limit: number, names: readonly FacetName[] = FACET_NAMES): Promise<Partial<InteractionFacets>> {
  const lists = await Promise.all(names.map((n) => facet(db, filter, n, limit)));
  return Object.fromEntries(names.map((n, i) => [n, lists[i]!]));
}

/** Matches per bucket of `bucketMs` (aligned on multiples of it); empty buckets are left out. */
export async function histogram(db: SqlReader, filter: InteractionFilter, bucketMs: number): Promise<MatchBucket[]> {
  // Written into the SQL (a checked whole number): a parameter before WHERE would be numbered out of order.
  if (!Number.isSafeInteger(bucketMs) || bucketMs < 1) throw new RangeError(`bucket size must be a whole number of ms, got ${bucketMs}`);
  const size = String(bucketMs);
  const w = filtered(db, filter);
  const rows = await db.all(
    `SELECT ts - (ts % ${size}) AS start, count(*) AS n, sum(CASE WHEN success THEN 0 ELSE 1 END) AS errors
       FROM ${db.dialect.table('interactions')} ${w.where()} GROUP BY 1 ORDER BY 1`,
    w.args,
  );
  return rows.map((r) => ({ start: Number(r.start), count: Number(r.n), errors: Number(r.errors) }));
}

/**
 * Every match in the requested order, `batch` rows per read (keyset pagination, so memory stays
 * bounded however many rows match and each read is short).
 */
export async function* scanInteractions(
  db: SqlReader,
  filter: InteractionFilter,
  sort: InteractionSort,
  batch: number,
): AsyncGenerator<Interaction[]> {
  let after: string | null = null;
  for (;;) {
    const page: Page<Interaction> = await listInteractions(db, filter, { first: batch, after }, sort);
    if (page.items.length > 0) yield page.items;
    if (!page.hasNextPage) return;
    after = page.endCursor;
  }
}
