/**
 * SQLite storage (better-sqlite3): WAL with the seed's pragmas, one transaction per batch,
 * per-minute roll-ups merged at write time.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Interaction } from '../model/interaction.js';
import type { AlertRecord } from '../model/alert.js';
import { decodeHistogramInto, encodeHistogram, type Histogram } from '../model/histogram.js';
import { BatchRollup, KEYED_ROLLUPS, type KeyedRollup } from './rollup.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';
import { MINUTE_MS, StoreError, type Store } from './types.js';
import { INTERACTION_COLUMN_NAMES, interactionValues, rowToInteraction } from './core/columns.js';
import * as alerts from './core/alerts.js';
import type { Dialect, Row, SqlReader } from './core/sql.js';
import { SqlReads } from './core/reads.js';
import type { Span } from '../model/span.js';
import { SPAN_COLUMNS, amend, spanValues, type InteractionAmendment, type TraceLink } from './core/spans.js';
import { MAX_TOOL_CALLS } from '@ai-monitor/schema';
import { BACKFILL_CHUNK, DAY_MS, HOUR_MS, RELEASE_ROLLUP_VERSION, ReleaseBatch, addMoments, type MomentsDelta } from './release-rollup.js';
import { SqliteReaderPool } from './sqlite-readers.js';

type Stmt = Database.Statement<unknown[], Row>;

export interface SqliteStoreOptions {
  file: string;
  readonly?: boolean;
  /**
   * Reader threads (default 2). 0 reads on the main connection, on the event loop: only for
   * `:memory:` databases (a worker cannot see them) and short-lived tools that read nothing heavy.
   */
  readers?: number;
  /** Heap limit of each reader thread in MB (default 256): a larger result fails its query, not the server. */
  readerHeapMb?: number;
}

/** Tool names between unit separators, so `instr` finds whole names only. */
const SEP = '\u001f';

/** What SQLite spells its own way; the shared read core does the rest. */
export const SQLITE_DIALECT: Dialect = {
  name: 'sqlite',
  placeholder: () => '?',
  table: (name) => name,
  collate: '',
  bool: (value) => (value ? 1 : 0),
  text: (value) => value,
  toolCalled: (tool) => ['instr(tool_names, ?) > 0', [`${SEP}${tool}${SEP}`]],
  // The trigram index holds unicode_lower(user_input) (JavaScript's toLowerCase, registered below, as
  // the live matcher folds). It keeps no positions (detail=none: a quarter cheaper to write), so
  // the lookup asks for rows holding every trigram of the needle, and instr re-checks those few
  // candidates: SQL and the in-memory matcher agree exactly.
  // Rows after `upto` are not indexed yet (see indexTextBatch): they are scanned, a few at most.
  inputContains: (needle, lookup) => [
    // One IN list (not an OR, which would turn the lookup into a table scan).
    'seq IN (SELECT rowid FROM interactions_fts WHERE interactions_fts MATCH ? ' +
      'UNION ALL SELECT seq FROM interactions WHERE seq > (SELECT upto FROM interactions_fts_state)) ' +
      'AND instr(unicode_lower(user_input), ?) > 0',
    [everyTrigram(lookup), needle],
  ],
  inputScan: (needle) => ['instr(unicode_lower(user_input), ?) > 0', [needle]],
  // seq is the rowid: the newest `window` rows are one range of the table.
  recentInputContains: (needle, window) => [
    'seq > (SELECT coalesce(max(seq), 0) FROM interactions) - ? AND instr(unicode_lower(user_input), ?) > 0',
    [window, needle],
  ],
  toolFacet: { column: 'tools_used', from: 'json_each(m.tools_used) AS j', value: "json_extract(j.value, '$.tool')" },
  // `ts <= ?` first: a range the ts index (whose entries end in the rowid, seq) serves, so a page deep in the list is not a scan.
  beforeSeq: (ts, seq) => ['ts <= ? AND (ts < ? OR seq < ?)', [ts, ts, seq]],
};

/** Trigrams asked of the index at most: enough to narrow to a few candidates, bounded for a long needle. */
const MAX_LOOKUP_TRIGRAMS = 32;

/**
 * An FTS5 query for rows holding the trigrams (three characters) of `text`, each quoted: every
 * one of them, or for a long needle the first MAX_LOOKUP_TRIGRAMS (the re-check does the rest).
 */
function everyTrigram(text: string): string {
  const chars = [...text];
  const trigrams = new Set<string>();
  for (let i = 0; i + 3 <= chars.length && trigrams.size < MAX_LOOKUP_TRIGRAMS; i++) trigrams.add(chars.slice(i, i + 3).join(''));
  return [...trigrams].map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
}

const INSERT_SQL = `INSERT OR IGNORE INTO interactions (${INTERACTION_COLUMN_NAMES.join(', ')}, tool_names)
  VALUES (${[...INTERACTION_COLUMN_NAMES, 'tool_names'].map(() => '?').join(',')})`;

/** How long after a commit new rows are indexed for text search (they are searchable meanwhile, by scan). */
const TEXT_INDEX_DELAY_MS = 200;
/**
 * Rows indexed per step: one transaction on the writer's connection, on the event loop that
 * acknowledges ingest, so it is kept to a few milliseconds (5,000 rows took ~50 ms).
 */
const TEXT_INDEX_BATCH = 500;

export class SqliteStore extends SqlReads implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly stmts = new Map<string, Stmt>();
  private readonly file: string;
  private readonly readonlyDb: boolean;
  /** Last seq in the text index (null before migrate or on a read-only store). */
  private textIndexedUpto: number | null = null;
  private textIndexTimer: NodeJS.Timeout | null = null;
  protected readonly reader: SqlReader;
  /** The reader threads; null when reads run on the main connection (see `readers`). */
  readonly readers: SqliteReaderPool | null;
  /** Writes that answer rows (RETURNING) run on the main connection, with the writer. */
  protected readonly executor: SqlReader = {
    dialect: SQLITE_DIALECT,
    all: async (sql, args) => this.stmt(sql).all(...args),
  };

  constructor(opts: SqliteStoreOptions) {
    super();
    this.file = opts.file;
    this.readonlyDb = opts.readonly ?? false;
    if (opts.file !== ':memory:') mkdirSync(dirname(opts.file), { recursive: true });
    try {
      this.db = new Database(opts.file, { readonly: opts.readonly ?? false, timeout: 5000 });
    } catch (err) {
      throw new StoreError(`cannot open SQLite database ${opts.file}: ${(err as Error).message}`);
    }
    // The seed's pragmas.
    if (!opts.readonly) this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('cache_size = 10000');
    this.db.pragma('temp_store = MEMORY');
    // SQLite's lower() folds ASCII only; text search folds all of Unicode, as on PostgreSQL.
    this.db.function('unicode_lower', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? text.toLowerCase() : text));
    const size = opts.file === ':memory:' ? 0 : (opts.readers ?? 2);
    this.readers = size > 0 ? new SqliteReaderPool({ file: opts.file, size, dialect: SQLITE_DIALECT, maxHeapMb: opts.readerHeapMb }) : null;
    this.reader = this.readers ?? { dialect: SQLITE_DIALECT, all: async (sql, args) => this.stmt(sql).all(...args) };
  }

  /** Prepared statements are cached by their SQL text. */
  private stmt(sql: string): Stmt {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql) as Stmt;
      this.stmts.set(sql, s);
    }
    return s;
  }

  async migrate(): Promise<void> {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new StoreError(
        `database ${this.db.name} has schema version ${current}, newer than this ai-monitor supports (${SQLITE_SCHEMA_VERSION}); ` +
          `upgrade ai-monitor or restore a backup made by this version`,
      );
    }
    for (let v = current; v < SQLITE_SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.exec(SQLITE_MIGRATIONS[v]!);
        // The release roll-ups start out filled from the interactions already stored.
        if (v + 1 === RELEASE_ROLLUP_VERSION && current > 0) this.backfillReleases();
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
    if (!this.readonlyDb) {
      this.textIndexedUpto = (this.stmt('SELECT upto FROM interactions_fts_state').get() as { upto: number }).upto;
      this.scheduleTextIndex(); // rows a previous run stored but did not index yet
    }
  }

  /**
   * Indexes up to `limit` stored rows not yet in the text index, in one transaction; returns how
   * many. Runs shortly after commits, so the index cost is paid once per batch of rows rather
   * than once per small commit (which made a one-record commit several times dearer).
   */
  indexTextBatch(limit = TEXT_INDEX_BATCH): number {
    if (this.textIndexedUpto === null) return 0;
    const from = this.textIndexedUpto;
    return this.db.transaction(() => {
      const last = this.stmt('SELECT max(seq) AS m, count(*) AS n FROM (SELECT seq FROM interactions WHERE seq > ? ORDER BY seq LIMIT ?)').get(from, limit) as {
        m: number | null;
        n: number;
      };
      if (last.m === null) return 0;
      this.stmt('INSERT INTO interactions_fts (rowid, user_input) SELECT seq, unicode_lower(user_input) FROM interactions WHERE seq > ? AND seq <= ?').run(from, last.m);
      this.stmt('UPDATE interactions_fts_state SET upto = ?').run(last.m);
      this.textIndexedUpto = last.m;
      return last.n;
    })();
  }

  /** Indexes every pending row now (tests, tools). */
  flushTextIndex(): void {
    while (this.indexTextBatch() > 0);
  }

  private scheduleTextIndex(delayMs = TEXT_INDEX_DELAY_MS): void {
    if (this.textIndexTimer || this.textIndexedUpto === null || !this.db.open) return;
    this.textIndexTimer = setTimeout(() => {
      this.textIndexTimer = null;
      if (!this.db.open) return;
      // A full batch means more may wait: go on as soon as other work (acks, reads) had its turn.
      if (this.indexTextBatch() === TEXT_INDEX_BATCH) this.scheduleTextIndex(0);
    }, delayMs);
    this.textIndexTimer.unref();
  }

  async insertInteractions(records: readonly Interaction[]): Promise<boolean[]> {
    const stored = this.insertTx(records);
    this.scheduleTextIndex();
    return stored;
  }

  private readonly insertTx = (records: readonly Interaction[]): boolean[] =>
    this.db.transaction((batch: readonly Interaction[]) => {
      const insert = this.stmt(INSERT_SQL);
      const rollup = new BatchRollup();
      const release = new ReleaseBatch();
      const stored = batch.map((r) => {
        const values = interactionValues(r, SQLITE_DIALECT);
        values.push(toolNames(r));
        const info = insert.run(values);
        if (info.changes === 0) return false;
        // A rowid at or below the indexed mark (possible only after the newest rows were deleted) is indexed at once.
        if (this.textIndexedUpto !== null && Number(info.lastInsertRowid) <= this.textIndexedUpto) {
          this.stmt('INSERT INTO interactions_fts (rowid, user_input) VALUES (?, ?)').run(info.lastInsertRowid, r.userInput.toLowerCase());
        }
        rollup.add(r);
        release.add(r);
        return true;
      });
      this.applyRollup(rollup);
      this.applyReleaseRollup(release);
      return stored;
    })(records);

  private applyRollup(r: BatchRollup): void {
    const getHist = this.stmt('SELECT hist FROM rollup_minute WHERE minute = ?');
    const upMinute = this.stmt(`INSERT INTO rollup_minute (minute, count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd, costed, unpriced)
      VALUES (?,?,?,?,?,?,?,?,?,?,?)
      ON CONFLICT (minute) DO UPDATE SET count = count + excluded.count, errors = errors + excluded.errors,
        rt_sum = rt_sum + excluded.rt_sum, rt_max = max(rt_max, excluded.rt_max), hist = excluded.hist,
        input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
        cost_usd = cost_usd + excluded.cost_usd, costed = costed + excluded.costed, unpriced = unpriced + excluded.unpriced`);
    for (const m of r.minutes.values()) {
      upMinute.run(m.minute, m.count, m.errors, m.rtSum, m.rtMax, withStored(getHist, [m.minute], m.hist), m.inputTokens, m.outputTokens, m.costUsd, m.costed, m.unpriced);
    }
    if (r.models.size > 0) this.applyModelRollup(r);
    for (const t of KEYED_ROLLUPS) {
      const up = this.stmt(keyedUpsertSql(t));
      for (const a of t.rows(r)) up.run(a.minute, a.key, ...t.columns.map((c) => a[c.from]));
    }
    const upSession = this.stmt(`INSERT INTO sessions VALUES (?,?,?,?,?,?) ON CONFLICT (session_id) DO UPDATE SET
      first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts),
      interactions = interactions + excluded.interactions, errors = errors + excluded.errors, rt_sum = rt_sum + excluded.rt_sum`);
    for (const s of r.sessions.values()) upSession.run(s.id, s.first, s.last, s.count, s.errors, s.rtSum);
  }

  /** Per-model rows: histograms merged by read, add, write (one writer: this transaction). */
  private applyModelRollup(r: BatchRollup): void {
    const getHist = this.stmt('SELECT hist FROM rollup_model WHERE minute = ? AND model = ?');
    const up = this.stmt(`INSERT INTO rollup_model (minute, model, count, errors, rt_sum, hist, input_tokens, output_tokens, cost_usd, costed, unpriced)
      VALUES (?,?,?,?,?,?,?,?,?,?,?)
      ON CONFLICT (minute, model) DO UPDATE SET count = count + excluded.count, errors = errors + excluded.errors,
        rt_sum = rt_sum + excluded.rt_sum, hist = excluded.hist, input_tokens = input_tokens + excluded.input_tokens,
        output_tokens = output_tokens + excluded.output_tokens, cost_usd = cost_usd + excluded.cost_usd,
        costed = costed + excluded.costed, unpriced = unpriced + excluded.unpriced`);
    for (const a of r.models.values()) {
      up.run(a.minute, a.model, a.count, a.errors, a.rtSum, withStored(getHist, [a.minute, a.model], a.hist), a.inputTokens, a.outputTokens, a.costUsd, a.costed, a.unpriced);
    }
  }

  /** The release roll-ups (store/release-rollup.ts): histograms merged read-add-write, inside the batch's transaction. */
  private applyReleaseRollup(b: ReleaseBatch): void {
    if (b.empty) return;
    const getHist = this.stmt('SELECT hist FROM rollup_release WHERE assistant = ? AND version = ? AND hour = ? AND dimension = ? AND key = ?');
    const up = this.stmt(`INSERT INTO rollup_release VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
      ON CONFLICT (assistant, version, hour, dimension, key) DO UPDATE SET count = count + excluded.count, errors = errors + excluded.errors,
        rt_sum = rt_sum + excluded.rt_sum, rt_max = max(rt_max, excluded.rt_max), hist = excluded.hist,
        input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
        cost_usd = cost_usd + excluded.cost_usd, first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)`);
    for (const a of b.rows.values()) {
      const key = [a.assistant, a.version, a.hour, a.dimension, a.key];
      up.run(...key, a.count, a.errors, a.rtSum, a.rtMax, withStored(getHist, key, a.hist), a.inputTokens, a.outputTokens, a.costUsd, a.first, a.last);
    }
    const upSession = this.stmt(`INSERT INTO release_session VALUES (?,?,?,?,?,?)
      ON CONFLICT (assistant, version, day, session_id) DO UPDATE SET count = count + excluded.count, errors = errors + excluded.errors
      RETURNING count, errors`);
    const moments = new Map<string, MomentsDelta>();
    for (const s of b.sessions.values()) {
      const now = upSession.get(s.assistant, s.version, s.day, s.sessionId, s.count, s.errors) as { count: number; errors: number };
      addMoments(moments, s, now);
    }
    const upMoments = this.stmt(`INSERT INTO release_moments VALUES (?,?,?,?,?,?,?,?,?)
      ON CONFLICT (assistant, version, day) DO UPDATE SET sessions = sessions + excluded.sessions, n = n + excluded.n, y = y + excluded.y,
        nn = nn + excluded.nn, yy = yy + excluded.yy, ny = ny + excluded.ny`);
    for (const m of moments.values()) upMoments.run(m.assistant, m.version, m.day, m.sessions, m.n, m.y, m.nn, m.yy, m.ny);
  }

  /** Adds every stored interaction with a version to the release roll-ups (inside the migration's transaction). */
  private backfillReleases(): void {
    const select = this.db.prepare(`SELECT * FROM interactions WHERE seq > ? AND version IS NOT NULL ORDER BY seq LIMIT ${BACKFILL_CHUNK}`);
    for (let after = 0; ; ) {
      const rows = select.all(after) as Row[];
      if (rows.length === 0) return;
      const batch = new ReleaseBatch();
      for (const r of rows) batch.add(rowToInteraction(r));
      this.applyReleaseRollup(batch);
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  async getInteraction(id: string): Promise<Interaction | null> {
    const [row] = await this.reader.all('SELECT * FROM interactions WHERE id = ?', [id]);
    return row ? rowToInteraction(row) : null;
  }

  async insertSpans(spans: readonly Span[]): Promise<boolean[]> {
    return this.db.transaction((batch: readonly Span[]) => {
      const insert = this.stmt(`INSERT OR IGNORE INTO spans (${SPAN_COLUMNS.join(', ')}) VALUES (${SPAN_COLUMNS.map(() => '?').join(',')})`);
      return batch.map((s) => insert.run(...spanValues(s, SQLITE_DIALECT)).changes > 0);
    })(spans);
  }

  async linkSpans(links: readonly TraceLink[]): Promise<void> {
    this.db.transaction(() => {
      const link = this.stmt('UPDATE spans SET interaction_id = ? WHERE trace_id = ? AND interaction_id IS NULL');
      for (const l of links) link.run(l.interactionId, l.traceId);
    })();
  }

  async amendInteraction(id: string, amendment: InteractionAmendment): Promise<boolean> {
    return this.db.transaction(() => {
      const row = this.stmt('SELECT * FROM interactions WHERE id = ?').get(id);
      if (!row) return false;
      const { record, rollup } = amend(rowToInteraction(row), amendment, MAX_TOOL_CALLS);
      this.stmt('UPDATE interactions SET tools_used = ?, tool_names = ?, input_tokens = ?, output_tokens = ?, cost_usd = ?, model = ? WHERE id = ?').run(
        JSON.stringify(record.toolsUsed), toolNames(record), record.inputTokens, record.outputTokens, record.costUsd, record.model, id,
      );
      this.applyRollup(rollup);
      return true;
    })();
  }

  async insertAlert(a: AlertRecord): Promise<void> {
    this.stmt(alerts.insertAlertSql(SQLITE_DIALECT)).run(...alerts.alertValues(a));
  }

  async updateAlert(id: string, patch: Partial<Omit<AlertRecord, 'id'>>): Promise<AlertRecord | null> {
    const current = await this.getAlert(id);
    if (!current) return null;
    const next: AlertRecord = { ...current, ...patch, id };
    const [sql, args] = alerts.updateAlertStatement(SQLITE_DIALECT, next);
    this.stmt(sql).run(...args);
    return next;
  }

  async deleteOlderThan(cutoff: number, chunk: number): Promise<number> {
    return this.db.transaction(() => {
      let n = this.stmt('DELETE FROM interactions WHERE seq IN (SELECT seq FROM interactions WHERE ts < ? ORDER BY ts LIMIT ?)')
        .run(cutoff, chunk).changes;
      const minute = Math.floor(cutoff / MINUTE_MS) * MINUTE_MS;
      for (const [table, key] of RETENTION_KEYS) {
        n += this.stmt(`DELETE FROM ${table} WHERE (${key}) IN (SELECT ${key} FROM ${table} WHERE minute < ? LIMIT ?)`)
          .run(minute, chunk).changes;
      }
      for (const [table, unit, size] of RELEASE_RETENTION) {
        const start = Math.floor(cutoff / size) * size;
        n += this.stmt(`DELETE FROM ${table} WHERE (${unit}) IN (SELECT ${unit} FROM ${table} WHERE ${unit.split(', ')[2]} < ? LIMIT ?)`)
          .run(start, chunk).changes;
      }
      n += this.stmt('DELETE FROM sessions WHERE session_id IN (SELECT session_id FROM sessions WHERE last_ts < ? LIMIT ?)').run(cutoff, chunk).changes;
      n += this.stmt('DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE raised_at < ? LIMIT ?)').run(cutoff, chunk).changes;
      // Spans go by receive time. Rowids grow with it, so the oldest are the first rowids: each
      // chunk looks at those only, and no index is kept for this (one fewer per ingested span).
      n += this.stmt('DELETE FROM spans WHERE rowid IN (SELECT rowid FROM spans ORDER BY rowid LIMIT ?) AND received_at < ?').run(chunk, cutoff).changes;
      return n;
    })();
  }

  async ping(): Promise<boolean> {
    // A deleted or moved database file still answers through the open handle; report it.
    if (this.file !== ':memory:' && !existsSync(this.file)) return false;
    try {
      this.stmt('SELECT count(*) FROM sqlite_master').get();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.textIndexTimer) clearTimeout(this.textIndexTimer);
    this.textIndexTimer = null;
    await this.readers?.close();
    if (this.db.open) this.db.close();
  }
}

/**
 * `hist` merged with the histogram stored under `key`, encoded for the upsert: read, add, write,
 * safe because this connection is the only writer and runs it inside the batch's transaction.
 */
function withStored(get: Stmt, key: readonly unknown[], hist: Histogram): Buffer {
  const prev = get.get(...key) as { hist: Buffer } | undefined;
  if (prev) decodeHistogramInto(hist, prev.hist);
  return encodeHistogram(hist);
}

/** Roll-up tables and their primary keys, trimmed by retention. */
const RETENTION_KEYS: readonly [string, string][] = [
  ['rollup_minute', 'minute'],
  ['rollup_model', 'minute, model'],
  ...KEYED_ROLLUPS.map((t): [string, string] => [t.table, `minute, ${t.key}`]),
];

/** Release roll-up tables, their keys (the third column is the time unit) and unit sizes. */
const RELEASE_RETENTION: readonly [string, string, number][] = [
  ['rollup_release', 'assistant, version, hour, dimension, key', HOUR_MS],
  ['release_session', 'assistant, version, day, session_id', DAY_MS],
  ['release_moments', 'assistant, version, day', DAY_MS],
];

function keyedUpsertSql(t: KeyedRollup): string {
  const cols = t.columns.map((c) => c.column);
  return `INSERT INTO ${t.table} (minute, ${t.key}, ${cols.join(', ')}) VALUES (?, ?, ${cols.map(() => '?').join(', ')})
    ON CONFLICT (minute, ${t.key}) DO UPDATE SET ${cols.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`;
}

function toolNames(r: Interaction): string {
  return r.toolsUsed.length === 0 ? '' : `${SEP}${r.toolsUsed.map((t) => t.tool).join(SEP)}${SEP}`;
}
