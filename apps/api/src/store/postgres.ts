/**
 * PostgreSQL storage (node-postgres pool) for N replicas sharing one database. Same semantics
 * as the SQLite store: one transaction per batch, acknowledged after commit, per-minute
 * roll-ups maintained at write time, cursors and orderings identical.
 *
 * Concurrency between replicas (each replica is one PostgresStore with its own `writer` id):
 * - idempotency: ids go into the `interaction_ids` registry first (ON CONFLICT DO NOTHING),
 *   sorted, so two replicas storing the same id never both win and never deadlock;
 * - `rollup_minute` rows are keyed by (minute, writer): only this instance touches its rows, and
 *   its own write transactions are serialised, so merging latency histograms (read, add,
 *   write) never races; reads sum every writer's rows;
 * - intent / tool / error roll-ups and sessions are pure additions (and LEAST / GREATEST),
 *   done by `ON CONFLICT DO UPDATE` atomically, in sorted key order (no deadlocks), at the end
 *   of the transaction (short row-lock holds).
 * Retention: `interactions` is partitioned by UTC day; whole days older than the cutoff are
 * dropped, the day holding the cutoff is trimmed in chunks, the narrow registry and the
 * roll-ups are deleted in chunks.
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import type { Interaction } from '../model/interaction.js';
import type { AlertRecord } from '../model/alert.js';
import { decodeHistogramInto, encodeHistogram } from '../model/histogram.js';
import { BatchRollup, KEYED_ROLLUPS, type KeyedAgg, type KeyedRollup, type MinuteAgg, type ModelAgg } from './rollup.js';
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, quoteIdent } from './postgres-schema.js';
import { MINUTE_MS, StoreError, type Store } from './types.js';
import { redactUrl } from '../config/redact.js';
import { INTERACTION_COLUMNS, TEXT_FIELDS, encodeValue, rowToInteraction, type ColumnKind } from './core/columns.js';
import * as alerts from './core/alerts.js';
import type { Dialect, Row, SqlReader } from './core/sql.js';
import { SqlReads } from './core/reads.js';
import type { Span } from '../model/span.js';
import { SPAN_COLUMNS, amend, spanValues, type InteractionAmendment, type TraceLink } from './core/spans.js';
import { MAX_TOOL_CALLS } from '@ai-monitor/schema';
import { BACKFILL_CHUNK, DAY_MS as RELEASE_DAY_MS, HOUR_MS, RELEASE_ROLLUP_VERSION, ReleaseBatch, addMoments, type MomentsDelta, type ReleaseAgg } from './release-rollup.js';

type Client = pg.PoolClient;

export interface PostgresStoreOptions {
  /** postgres:// connection URL. */
  url: string;
  /** Schema holding every table; created when missing. */
  schema?: string;
  /** Most pooled connections for writes, migrations and retention. */
  poolSize?: number;
  /**
   * Most connections of the separate read pool: explorer reads never take the connections the
   * writer needs, so a burst of heavy queries cannot hold up ingest.
   */
  readPoolSize?: number;
  /** Owner of this instance's roll-up rows; random per instance by default. */
  writerId?: string;
  /** Milliseconds to wait for a connection before a query fails. */
  connectTimeoutMs?: number;
  /** Errors of idle pooled connections (the pool replaces them); reported, never thrown. */
  onPoolError?: (err: Error) => void;
}

export const DAY_MS = 86_400_000;
/** The registry rows are narrow, so retention deletes more of them per chunk. */
const ID_CHUNK_FACTOR = 10;
/** Sort text keys by bytes, as SQLite's BINARY collation does. */
const C = 'COLLATE "C"';

/** What PostgreSQL spells its own way; the shared read core does the rest. */
function postgresDialect(s: string): Dialect {
  return {
    name: 'postgres',
    placeholder: (n) => `$${n}`,
    table: (name) => `${s}.${name}`,
    collate: ` ${C}`,
    bool: (value) => value,
    text: cleanText,
    toolCalled: (tool) => ['? = ANY(tool_names)', [tool]],
    // LIKE on lower(user_input) is what the pg_trgm GIN index answers.
    inputContains: (needle) => [`lower(user_input) LIKE ?`, [`%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`]],
    recentInputContains: (needle, window) => [
      `seq > (SELECT last_value FROM ${s}.interactions_seq) - ? AND strpos(lower(user_input), ?) > 0`,
      [window, needle],
    ],
    toolFacet: { column: 'tool_names', from: 'unnest(m.tool_names) AS j(tool)', value: 'j.tool' },
    // A row comparison, which the (ts, seq) index serves directly.
    beforeSeq: (ts, seq) => ['(ts, seq) < (?, ?)', [ts, seq]],
  };
}

/** The type each column kind has in the batch document (`json_to_recordset`). */
const RECORDSET_TYPE: Record<ColumnKind, string> = { text: 'text', int: 'int8', real: 'float8', bool: 'bool', json: 'text' };
const RECORDSET_COLUMNS = [...INTERACTION_COLUMNS.map((c) => `${c.column} ${RECORDSET_TYPE[c.kind]}`), 'tool_names text[]'].join(', ');
const INSERT_COLUMNS = [...INTERACTION_COLUMNS.map((c) => c.column), 'tool_names'];

export class PostgresStore extends SqlReads implements Store {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  readonly writerId: string;
  private readonly pool: pg.Pool;
  private readonly readPool: pg.Pool;
  private readonly s: string;
  /** Days whose partition is known to exist. */
  private readonly knownDays = new Set<number>();
  /** This instance's write transactions run one at a time (see the roll-up note above). */
  private writeChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The URL without its password, for messages. */
  private readonly where: string;
  private readonly dialect: Dialect;
  protected readonly reader: SqlReader;
  protected readonly executor: SqlReader;

  constructor(opts: PostgresStoreOptions) {
    super();
    this.schema = opts.schema ?? 'public';
    this.s = quoteIdent(this.schema);
    this.writerId = opts.writerId ?? randomBytes(8).toString('hex');
    this.where = redactUrl(opts.url);
    this.dialect = postgresDialect(this.s);
    const poolOptions = (max: number, name: string): pg.PoolConfig => ({
      connectionString: opts.url,
      max,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      application_name: name,
    });
    this.pool = new pg.Pool(poolOptions(opts.poolSize ?? 10, 'ai-monitor'));
    this.readPool = new pg.Pool(poolOptions(opts.readPoolSize ?? 8, 'ai-monitor-reads'));
    this.reader = { dialect: this.dialect, all: async (sql, args) => (await this.readPool.query<Row>(sql, [...args])).rows };
    // Writes that answer rows (RETURNING) go through the write pool.
    this.executor = { dialect: this.dialect, all: (sql, args) => this.rows(sql, [...args]) };
    // Without a listener an idle connection's error would crash the process.
    this.pool.on('error', (err) => opts.onPoolError?.(err));
    this.readPool.on('error', (err) => opts.onPoolError?.(err));
  }

  // ---------------------------------------------------------------- plumbing

  private async tx<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      // The original error is the one reported; a connection that cannot even roll back is discarded.
      await c.query('ROLLBACK').catch((rollbackErr: unknown) => (broken = rollbackErr as Error));
      throw err;
    } finally {
      c.release(broken);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeChain.then(fn, fn);
    this.writeChain = run.catch(() => undefined); // the caller gets the error through `run`
    return run;
  }

  private async rows(sql: string, args: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query<Row>(sql, args)).rows;
  }

  private lockKey(what: string): string {
    return `ai-monitor:${this.schema}:${what}`;
  }

  // ---------------------------------------------------------------- schema

  async migrate(): Promise<void> {
    try {
      await this.migrateOnce();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(
        `cannot prepare PostgreSQL schema "${this.schema}" at ${this.where} (AI_MONITOR_DATABASE_URL / AI_MONITOR_DATABASE_SCHEMA): ${(err as Error).message}`,
      );
    }
  }

  private async migrateOnce(): Promise<void> {
    await this.tx(async (c) => {
      // Replicas starting together migrate one at a time.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockKey('migrate')]);
      const exists = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema]);
      if (exists.rowCount === 0) await c.query(`CREATE SCHEMA ${this.s}`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.s}.ai_monitor_schema_version (
        version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const current = Number((await c.query<Row>(`SELECT coalesce(max(version), 0) AS v FROM ${this.s}.ai_monitor_schema_version`)).rows[0]!.v);
      if (current > POSTGRES_SCHEMA_VERSION) {
        throw new StoreError(
          `PostgreSQL schema "${this.schema}" has schema version ${current}, newer than this ai-monitor supports (${POSTGRES_SCHEMA_VERSION}); ` +
            `upgrade ai-monitor on every replica, or point it at another schema (AI_MONITOR_DATABASE_SCHEMA)`,
        );
      }
      for (let v = current; v < POSTGRES_SCHEMA_VERSION; v++) {
        await c.query(POSTGRES_MIGRATIONS[v]!.replaceAll('{s}', this.s));
        // The release roll-ups start out filled from the interactions already stored (under the migration lock, once).
        if (v + 1 === RELEASE_ROLLUP_VERSION && current > 0) await this.backfillReleases(c);
        await c.query(`INSERT INTO ${this.s}.ai_monitor_schema_version (version) VALUES ($1)`, [v + 1]);
      }
    });
  }

  /** The schema version stored in the database (0 before the first migration). */
  async schemaVersion(): Promise<number> {
    const rows = await this.rows(`SELECT coalesce(max(version), 0) AS v FROM ${this.s}.ai_monitor_schema_version`);
    return Number(rows[0]!.v);
  }

  private partitionName(day: number): string {
    return `interactions_d${day < 0 ? `m${-day}` : day}`;
  }

  /**
   * Creates the day partitions a batch needs, and tomorrow's ahead of time (once per day per
   * process). Each is created as a plain table and then attached: ATTACH takes a lock that
   * lets reads and inserts go on, where CREATE TABLE ... PARTITION OF would wait for every
   * running query on `interactions` and stall ingest behind it.
   */
  private async ensurePartitions(records: readonly Interaction[]): Promise<void> {
    const missing = new Set<number>();
    const tomorrow = Math.floor(Date.now() / DAY_MS) + 1;
    for (const day of [tomorrow, ...records.map((r) => Math.floor(r.timestamp / DAY_MS))]) {
      if (!this.knownDays.has(day)) missing.add(day);
    }
    if (missing.size === 0) return;
    await this.tx(async (c) => {
      // Serialised with other replicas and with retention's drops.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockKey('partitions')]);
      for (const day of missing) {
        const table = `${this.s}.${this.partitionName(day)}`;
        const exists = await c.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table]);
        if (exists.rows[0]?.t !== null) continue;
        await c.query(`CREATE TABLE ${table} (LIKE ${this.s}.interactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
        await c.query(`ALTER TABLE ${this.s}.interactions ATTACH PARTITION ${table} FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`);
      }
    });
    for (const day of missing) this.knownDays.add(day);
  }

  // ---------------------------------------------------------------- writes

  async insertInteractions(records: readonly Interaction[]): Promise<boolean[]> {
    if (records.length === 0) return [];
    return this.serial(async () => {
      try {
        return await this.insertOnce(records);
      } catch (err) {
        // Another replica's retention dropped a partition this process still had cached.
        if (!isNoPartitionError(err)) throw err;
        this.knownDays.clear();
        return this.insertOnce(records);
      }
    });
  }

  private async insertOnce(input: readonly Interaction[]): Promise<boolean[]> {
    // Cleaned first, so ids and roll-up keys are what is stored (and unique as stored).
    const records = input.map(cleanRecord);
    // The first occurrence of an id inside the batch is the one stored, as with INSERT OR IGNORE.
    const firstIndex = new Map<string, number>();
    records.forEach((r, i) => {
      if (!firstIndex.has(r.id)) firstIndex.set(r.id, i);
    });
    await this.ensurePartitions(records);
    return this.tx(async (c) => {
      const ids = [...firstIndex.keys()];
      const claimed = await c.query<{ id: string }>(
        `INSERT INTO ${this.s}.interaction_ids (id, ts)
         SELECT * FROM unnest($1::text[], $2::int8[]) AS u(id, ts) ORDER BY u.id ${C}
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [ids, ids.map((id) => records[firstIndex.get(id)!]!.timestamp)],
      );
      const fresh = new Set(claimed.rows.map((r) => firstIndex.get(r.id)!));
      const stored = records.map((_, i) => fresh.has(i));
      const rows = records.filter((_, i) => fresh.has(i));
      if (rows.length === 0) return stored;
      await this.insertRows(c, rows);
      const rollup = new BatchRollup();
      const release = new ReleaseBatch();
      for (const r of rows) {
        rollup.add(r);
        release.add(r);
      }
      await this.applyRollup(c, rollup);
      await this.applyReleaseRollup(c, release);
      return stored;
    });
  }

  private async insertRows(c: Client, rows: readonly Interaction[]): Promise<void> {
    // One JSON document for the whole batch: JSON.stringify is native and PostgreSQL parses
    // it in one pass, cheaper on both sides than one array parameter per column.
    const batch = rows.map((r) => {
      const doc: Row = { tool_names: r.toolsUsed.map((t) => t.tool) };
      for (const col of INTERACTION_COLUMNS) doc[col.column] = encodeValue(col, r[col.field], this.dialect);
      return doc;
    });
    // json_to_recordset yields rows in document order, so `seq` follows the batch order (the tie-break of equal timestamps).
    await c.query(
      `INSERT INTO ${this.s}.interactions (seq, ${INSERT_COLUMNS.join(', ')})
       SELECT nextval('${this.s}.interactions_seq'), ${INSERT_COLUMNS.map((col) => `u.${col}`).join(', ')}
       FROM json_to_recordset($1::json) AS u(${RECORDSET_COLUMNS})`,
      [JSON.stringify(batch)],
    );
  }

  private async applyRollup(c: Client, r: BatchRollup): Promise<void> {
    await this.upsertMinutes(c, [...r.minutes.values()]);
    if (r.models.size > 0) await this.upsertModels(c, [...r.models.values()]);
    for (const t of KEYED_ROLLUPS) await this.upsertKeyed(c, t, [...t.rows(r)]);
    const sessions = [...r.sessions.values()];
    await c.query(
      `INSERT INTO ${this.s}.sessions AS t (session_id, first_ts, last_ts, interactions, errors, rt_sum)
       SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::float8[]) AS u(id, first_ts, last_ts, n, errors, rt_sum)
       ORDER BY u.id ${C}
       ON CONFLICT (session_id) DO UPDATE SET first_ts = LEAST(t.first_ts, excluded.first_ts),
         last_ts = GREATEST(t.last_ts, excluded.last_ts), interactions = t.interactions + excluded.interactions,
         errors = t.errors + excluded.errors, rt_sum = t.rt_sum + excluded.rt_sum`,
      [sessions.map((s) => s.id), sessions.map((s) => s.first), sessions.map((s) => s.last), sessions.map((s) => s.count), sessions.map((s) => s.errors), sessions.map((s) => s.rtSum)],
    );
  }

  /** Adds a batch's aggregates to a keyed roll-up, in sorted key order (no deadlocks between replicas). */
  private async upsertKeyed(c: Client, t: KeyedRollup, rows: readonly KeyedAgg[]): Promise<void> {
    if (rows.length === 0) return;
    const cols = t.columns.map((col) => col.column);
    const types = ['int8', 'text', ...t.columns.map((col) => (col.kind === 'int' ? 'int8' : 'float8'))];
    await c.query(
      `INSERT INTO ${this.s}.${t.table} AS t (minute, ${t.key}, ${cols.join(', ')})
       SELECT * FROM unnest(${types.map((type, i) => `$${i + 1}::${type}[]`).join(', ')}) AS u(minute, k, ${cols.join(', ')})
       ORDER BY u.minute, u.k ${C}
       ON CONFLICT (minute, ${t.key}) DO UPDATE SET ${cols.map((col) => `${col} = t.${col} + excluded.${col}`).join(', ')}`,
      [rows.map((a) => a.minute), rows.map((a) => a.key), ...t.columns.map((col) => rows.map((a) => a[col.from]))],
    );
  }

  /** Merges histograms into this writer's minute rows (read, add, write: safe, only this instance writes them). */
  private async upsertMinutes(c: Client, minutes: MinuteAgg[]): Promise<void> {
    const prev = await c.query<{ minute: string; hist: Buffer }>(
      `SELECT minute, hist FROM ${this.s}.rollup_minute WHERE writer = $1 AND minute = ANY($2::int8[])`,
      [this.writerId, minutes.map((m) => m.minute)],
    );
    const stored = new Map(prev.rows.map((r) => [Number(r.minute), r.hist]));
    for (const m of minutes) {
      const bytes = stored.get(m.minute);
      if (bytes) decodeHistogramInto(m.hist, bytes);
    }
    minutes.sort((a, b) => a.minute - b.minute);
    await c.query(
      `INSERT INTO ${this.s}.rollup_minute AS t (minute, writer, count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd, costed, unpriced)
       SELECT u.minute, $1, u.count, u.errors, u.rt_sum, u.rt_max, u.hist, u.input_tokens, u.output_tokens, u.cost_usd, u.costed, u.unpriced
       FROM unnest($2::int8[], $3::int8[], $4::int8[], $5::float8[], $6::float8[], $7::bytea[], $8::int8[], $9::int8[], $10::float8[], $11::int8[], $12::int8[])
         AS u(minute, count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd, costed, unpriced)
       ON CONFLICT (minute, writer) DO UPDATE SET count = t.count + excluded.count, errors = t.errors + excluded.errors,
         rt_sum = t.rt_sum + excluded.rt_sum, rt_max = GREATEST(t.rt_max, excluded.rt_max), hist = excluded.hist,
         input_tokens = t.input_tokens + excluded.input_tokens, output_tokens = t.output_tokens + excluded.output_tokens,
         cost_usd = t.cost_usd + excluded.cost_usd, costed = t.costed + excluded.costed, unpriced = t.unpriced + excluded.unpriced`,
      [
        this.writerId, minutes.map((m) => m.minute), minutes.map((m) => m.count), minutes.map((m) => m.errors),
        minutes.map((m) => m.rtSum), minutes.map((m) => m.rtMax), minutes.map((m) => encodeHistogram(m.hist)),
        minutes.map((m) => m.inputTokens), minutes.map((m) => m.outputTokens), minutes.map((m) => m.costUsd),
        minutes.map((m) => m.costed), minutes.map((m) => m.unpriced),
      ],
    );
  }

  /** Per-model rows, this writer's own: histograms merged as in upsertMinutes. */
  private async upsertModels(c: Client, models: ModelAgg[]): Promise<void> {
    const prev = await c.query<{ minute: string; model: string; hist: Buffer }>(
      `SELECT minute, model, hist FROM ${this.s}.rollup_model WHERE writer = $1 AND (minute, model) IN (SELECT * FROM unnest($2::int8[], $3::text[]))`,
      [this.writerId, models.map((m) => m.minute), models.map((m) => m.model)],
    );
    const stored = new Map(prev.rows.map((r) => [`${Number(r.minute)}\u0000${r.model}`, r.hist]));
    for (const m of models) {
      const bytes = stored.get(`${m.minute}\u0000${m.model}`);
      if (bytes) decodeHistogramInto(m.hist, bytes);
    }
    await c.query(
      `INSERT INTO ${this.s}.rollup_model AS t (minute, model, writer, count, errors, rt_sum, hist, input_tokens, output_tokens, cost_usd, costed, unpriced)
       SELECT u.minute, u.model, $1, u.count, u.errors, u.rt_sum, u.hist, u.input_tokens, u.output_tokens, u.cost_usd, u.costed, u.unpriced
       FROM unnest($2::int8[], $3::text[], $4::int8[], $5::int8[], $6::float8[], $7::bytea[], $8::int8[], $9::int8[], $10::float8[], $11::int8[], $12::int8[])
         AS u(minute, model, count, errors, rt_sum, hist, input_tokens, output_tokens, cost_usd, costed, unpriced)
       ON CONFLICT (minute, model, writer) DO UPDATE SET count = t.count + excluded.count, errors = t.errors + excluded.errors,
         rt_sum = t.rt_sum + excluded.rt_sum, hist = excluded.hist,
         input_tokens = t.input_tokens + excluded.input_tokens, output_tokens = t.output_tokens + excluded.output_tokens,
         cost_usd = t.cost_usd + excluded.cost_usd, costed = t.costed + excluded.costed, unpriced = t.unpriced + excluded.unpriced`,
      [
        this.writerId, models.map((m) => m.minute), models.map((m) => m.model), models.map((m) => m.count), models.map((m) => m.errors),
        models.map((m) => m.rtSum), models.map((m) => encodeHistogram(m.hist)), models.map((m) => m.inputTokens),
        models.map((m) => m.outputTokens), models.map((m) => m.costUsd), models.map((m) => m.costed), models.map((m) => m.unpriced),
      ],
    );
  }

  /**
   * The release roll-ups (store/release-rollup.ts). Histogram rows are this writer's own (read,
   * add, write, as rollup_minute); session rows and moments only add, in sorted key order, and
   * the session upsert returns the row's new counts, from which the moments' increments follow.
   */
  private async applyReleaseRollup(c: Client, b: ReleaseBatch): Promise<void> {
    if (b.empty) return;
    const rows = [...b.rows.values()].sort(compareReleaseKeys);
    const prev = await c.query<Row>(
      `SELECT t.assistant, t.version, t.hour, t.dimension, t.key, t.hist FROM ${this.s}.rollup_release t
       JOIN unnest($2::text[], $3::text[], $4::int8[], $5::text[], $6::text[]) AS u(assistant, version, hour, dimension, key)
         ON t.assistant = u.assistant AND t.version = u.version AND t.hour = u.hour AND t.dimension = u.dimension AND t.key = u.key
       WHERE t.writer = $1`,
      [this.writerId, ...releaseKeyArrays(rows)],
    );
    const byKey = new Map(rows.map((a) => [releaseKey(a.assistant, a.version, Number(a.hour), a.dimension, a.key), a]));
    for (const r of prev.rows) {
      const a = byKey.get(releaseKey(r.assistant as string, r.version as string, Number(r.hour), r.dimension as string, r.key as string));
      if (a) decodeHistogramInto(a.hist, r.hist as Buffer);
    }
    await c.query(
      `INSERT INTO ${this.s}.rollup_release AS t (assistant, version, hour, dimension, key, writer, count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd, first_ts, last_ts)
       SELECT u.assistant, u.version, u.hour, u.dimension, u.key, $1, u.count, u.errors, u.rt_sum, u.rt_max, u.hist, u.input_tokens, u.output_tokens, u.cost_usd, u.first_ts, u.last_ts
       FROM unnest($2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::int8[], $8::int8[], $9::float8[], $10::float8[], $11::bytea[], $12::int8[], $13::int8[], $14::float8[], $15::int8[], $16::int8[])
         AS u(assistant, version, hour, dimension, key, count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd, first_ts, last_ts)
       ON CONFLICT (assistant, version, hour, dimension, key, writer) DO UPDATE SET count = t.count + excluded.count, errors = t.errors + excluded.errors,
         rt_sum = t.rt_sum + excluded.rt_sum, rt_max = GREATEST(t.rt_max, excluded.rt_max), hist = excluded.hist,
         input_tokens = t.input_tokens + excluded.input_tokens, output_tokens = t.output_tokens + excluded.output_tokens,
         cost_usd = t.cost_usd + excluded.cost_usd, first_ts = LEAST(t.first_ts, excluded.first_ts), last_ts = GREATEST(t.last_ts, excluded.last_ts)`,
      [
        this.writerId, ...releaseKeyArrays(rows), rows.map((a) => a.count), rows.map((a) => a.errors), rows.map((a) => a.rtSum),
        rows.map((a) => a.rtMax), rows.map((a) => encodeHistogram(a.hist)), rows.map((a) => a.inputTokens), rows.map((a) => a.outputTokens),
        rows.map((a) => a.costUsd), rows.map((a) => a.first), rows.map((a) => a.last),
      ],
    );
    const sessions = [...b.sessions.values()].sort((x, y) =>
      cmp(x.assistant, y.assistant) || cmp(x.version, y.version) || x.day - y.day || cmp(x.sessionId, y.sessionId));
    const now = await c.query<Row>(
      `INSERT INTO ${this.s}.release_session AS t (assistant, version, day, session_id, count, errors)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::int8[], $6::int8[])
       ON CONFLICT (assistant, version, day, session_id) DO UPDATE SET count = t.count + excluded.count, errors = t.errors + excluded.errors
       RETURNING assistant, version, day, session_id, count, errors`,
      [sessions.map((x) => x.assistant), sessions.map((x) => x.version), sessions.map((x) => x.day), sessions.map((x) => x.sessionId), sessions.map((x) => x.count), sessions.map((x) => x.errors)],
    );
    const bySession = new Map(sessions.map((x) => [`${x.assistant}\u0000${x.version}\u0000${x.day}\u0000${x.sessionId}`, x]));
    const moments = new Map<string, MomentsDelta>();
    for (const r of now.rows) {
      const x = bySession.get(`${r.assistant as string}\u0000${r.version as string}\u0000${Number(r.day)}\u0000${r.session_id as string}`);
      if (x) addMoments(moments, x, { count: Number(r.count), errors: Number(r.errors) });
    }
    const m = [...moments.values()].sort((x, y) => cmp(x.assistant, y.assistant) || cmp(x.version, y.version) || x.day - y.day);
    await c.query(
      `INSERT INTO ${this.s}.release_moments AS t (assistant, version, day, sessions, n, y, nn, yy, ny)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::float8[], $8::float8[], $9::float8[])
       ON CONFLICT (assistant, version, day) DO UPDATE SET sessions = t.sessions + excluded.sessions, n = t.n + excluded.n, y = t.y + excluded.y,
         nn = t.nn + excluded.nn, yy = t.yy + excluded.yy, ny = t.ny + excluded.ny`,
      [m.map((x) => x.assistant), m.map((x) => x.version), m.map((x) => x.day), m.map((x) => x.sessions), m.map((x) => x.n), m.map((x) => x.y), m.map((x) => x.nn), m.map((x) => x.yy), m.map((x) => x.ny)],
    );
  }

  /** Adds every stored interaction with a version to the release roll-ups, in (ts, seq) order, in the migration's transaction. */
  private async backfillReleases(c: Client): Promise<void> {
    let after: [number, number] | null = null;
    for (;;) {
      const rows: Row[] = (
        await c.query<Row>(
          `SELECT * FROM ${this.s}.interactions WHERE version IS NOT NULL ${after ? 'AND (ts, seq) > ($1, $2)' : ''} ORDER BY ts, seq LIMIT ${BACKFILL_CHUNK}`,
          after ?? [],
        )
      ).rows;
      if (rows.length === 0) return;
      const batch = new ReleaseBatch();
      for (const r of rows) batch.add(rowToInteraction(r));
      await this.applyReleaseRollup(c, batch);
      const last = rows[rows.length - 1]!;
      after = [Number(last.ts), Number(last.seq)];
    }
  }

  // ---------------------------------------------------------------- interaction reads

  async getInteraction(id: string): Promise<Interaction | null> {
    // The registry gives the timestamp, so only one partition is searched.
    const rows = await this.reader.all(
      `SELECT i.* FROM ${this.s}.interaction_ids k JOIN ${this.s}.interactions i ON i.ts = k.ts AND i.id = k.id WHERE k.id = $1`,
      [cleanText(id)],
    );
    return rows[0] ? rowToInteraction(rows[0]) : null;
  }






  // ---------------------------------------------------------------- aggregates






  // ---------------------------------------------------------------- alerts

  async insertAlert(a: AlertRecord): Promise<void> {
    await this.pool.query(alerts.insertAlertSql(this.dialect), alerts.alertValues(a));
  }

  async updateAlert(id: string, patch: Partial<Omit<AlertRecord, 'id'>>): Promise<AlertRecord | null> {
    // Row-locked read-modify-write: replicas may update one alert concurrently (delivery vs acknowledge).
    return this.tx(async (c) => {
      const rows = (await c.query<Row>(`SELECT * FROM ${this.s}.alerts WHERE id = $1 FOR UPDATE`, [id])).rows;
      if (!rows[0]) return null;
      const next: AlertRecord = { ...alerts.rowToAlert(rows[0]), ...patch, id };
      await c.query(...alerts.updateAlertStatement(this.dialect, next));
      return next;
    });
  }




  // ---------------------------------------------------------------- spans

  async insertSpans(spans: readonly Span[]): Promise<boolean[]> {
    if (spans.length === 0) return [];
    // One JSON document for the batch, as for interactions; duplicates are skipped by the key.
    const docs = spans.map((s) => Object.fromEntries(spanValues(s, this.dialect).map((v, i) => [SPAN_COLUMNS[i]!, v])));
    const res = await this.pool.query<{ trace_id: string; span_id: string }>(
      `INSERT INTO ${this.s}.spans (${SPAN_COLUMNS.join(', ')})
       SELECT ${SPAN_COLUMNS.map((c) => `u.${c}`).join(', ')} FROM json_to_recordset($1::json) AS u(${SPAN_RECORDSET})
       ON CONFLICT (trace_id, span_id) DO NOTHING RETURNING trace_id, span_id`,
      [JSON.stringify(docs)],
    );
    const fresh = new Set(res.rows.map((r) => `${r.trace_id}/${r.span_id}`));
    // The first of two equal spans in one batch is the one stored.
    return spans.map((s) => fresh.delete(`${s.traceId}/${s.spanId}`));
  }

  async linkSpans(links: readonly TraceLink[]): Promise<void> {
    if (links.length === 0) return;
    await this.pool.query(
      `UPDATE ${this.s}.spans s SET interaction_id = u.interaction_id FROM unnest($1::text[], $2::text[]) AS u(trace_id, interaction_id)
       WHERE s.trace_id = u.trace_id AND s.interaction_id IS NULL`,
      [links.map((l) => l.traceId), links.map((l) => l.interactionId)],
    );
  }

  async amendInteraction(id: string, amendment: InteractionAmendment): Promise<boolean> {
    // Serial with the inserts: the minute roll-up rows of this writer are read, added to and written.
    return this.serial(() =>
      this.tx(async (c) => {
        const rows = await c.query<Row>(
          `SELECT i.* FROM ${this.s}.interaction_ids k JOIN ${this.s}.interactions i ON i.ts = k.ts AND i.id = k.id WHERE k.id = $1 FOR UPDATE OF i`,
          [cleanText(id)],
        );
        if (!rows.rows[0]) return false;
        const { record, rollup } = amend(rowToInteraction(rows.rows[0]), amendment, MAX_TOOL_CALLS);
        const tools = record.toolsUsed.map((t) => ({ ...t, tool: cleanText(t.tool) }));
        await c.query(
          `UPDATE ${this.s}.interactions SET tools_used = $1, tool_names = $2, input_tokens = $3, output_tokens = $4, cost_usd = $5, model = $6
           WHERE ts = $7 AND id = $8`,
          [JSON.stringify(tools), tools.map((t) => t.tool), record.inputTokens, record.outputTokens, record.costUsd, record.model === null ? null : cleanText(record.model), record.timestamp, record.id],
        );
        await this.applyRollup(c, rollup);
        return true;
      }),
    );
  }

  // ---------------------------------------------------------------- retention

  async deleteOlderThan(cutoff: number, chunk: number): Promise<number> {
    // Every replica runs retention; one at a time does the work, the others see 0 and stop.
    // A session lock on a dedicated connection: released on return, or when the process dies.
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const got = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [this.lockKey('retention')]);
      if (!got.rows[0]?.ok) return 0;
      try {
        return await this.deleteChunks(cutoff, chunk);
      } finally {
        await c.query('SELECT pg_advisory_unlock(hashtext($1))', [this.lockKey('retention')]).catch((err: unknown) => {
          broken = err as Error; // discarding the connection ends its session, which frees the lock
          throw err;
        });
      }
    } finally {
      c.release(broken);
    }
  }

  private async deleteChunks(cutoff: number, chunk: number): Promise<number> {
    let n = await this.dropOldPartition(cutoff);
    // Older days are dropped whole (above); only the day holding the cutoff is trimmed row by row.
    const dayStart = Math.floor(cutoff / DAY_MS) * DAY_MS;
    n += await this.deleteChunk('interactions', 'ts, seq', 'ts >= $1 AND ts < $2', [dayStart, cutoff], chunk);
    n += await this.deleteChunk('interaction_ids', 'id', 'ts < $1', [cutoff], chunk * ID_CHUNK_FACTOR);
    const minute = Math.floor(cutoff / MINUTE_MS) * MINUTE_MS;
    // Under the write lock: this instance's histogram merge must not see its row vanish midway.
    n += await this.serial(() => this.deleteChunk('rollup_minute', 'minute, writer', 'minute < $1', [minute], chunk));
    n += await this.serial(() => this.deleteChunk('rollup_model', 'minute, model, writer', 'minute < $1', [minute], chunk));
    for (const t of KEYED_ROLLUPS) n += await this.deleteChunk(t.table, `minute, ${t.key}`, 'minute < $1', [minute], chunk);
    const hour = Math.floor(cutoff / HOUR_MS) * HOUR_MS;
    const day = Math.floor(cutoff / RELEASE_DAY_MS) * RELEASE_DAY_MS;
    n += await this.serial(() => this.deleteChunk('rollup_release', 'assistant, version, hour, dimension, key, writer', 'hour < $1', [hour], chunk));
    n += await this.deleteChunk('release_session', 'assistant, version, day, session_id', 'day < $1', [day], chunk);
    n += await this.deleteChunk('release_moments', 'assistant, version, day', 'day < $1', [day], chunk);
    n += await this.deleteChunk('sessions', 'session_id', 'last_ts < $1', [cutoff], chunk);
    n += await this.deleteChunk('alerts', 'id', 'raised_at < $1', [cutoff], chunk);
    n += await this.deleteChunk('spans', 'trace_id, span_id', 'received_at < $1', [cutoff], chunk);
    return n;
  }

  private async deleteChunk(table: string, key: string, cond: string, args: unknown[], limit: number): Promise<number> {
    const t = `${this.s}.${table}`;
    const res = await this.pool.query(
      `DELETE FROM ${t} WHERE (${key}) IN (SELECT ${key} FROM ${t} WHERE ${cond} LIMIT $${args.length + 1})`,
      [...args, limit],
    );
    return res.rowCount ?? 0;
  }

  /**
   * Drops the oldest day partitions lying wholly before `cutoff`, stopping after the first that
   * held rows (bounded work per call); returns how many rows went with them.
   */
  private async dropOldPartition(cutoff: number): Promise<number> {
    const days = await this.partitionDays();
    const cutoffDay = Math.floor(cutoff / DAY_MS);
    for (const day of days.filter((d) => d < cutoffDay)) {
      const n = await this.tx(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockKey('partitions')]);
        const table = `${this.s}.${this.partitionName(day)}`;
        const exists = await c.query('SELECT to_regclass($1) AS t', [table]);
        if (exists.rows[0]?.t === null) return 0; // another replica dropped it
        const count = Number((await c.query<Row>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
        // Dropping locks the parent table briefly; give up rather than queue behind a long query.
        await c.query(`SET LOCAL lock_timeout = '2s'`);
        await c.query(`DROP TABLE ${table}`);
        return count;
      });
      this.knownDays.delete(day);
      if (n > 0) return n;
    }
    return 0;
  }

  /** Days that have a partition, oldest first. */
  private async partitionDays(): Promise<number[]> {
    const rows = await this.rows(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass`,
      [`${this.s}.interactions`],
    );
    const days: number[] = [];
    for (const r of rows) {
      const m = /^interactions_d(m?)(\d+)$/.exec(r.relname as string);
      if (m) days.push(m[1] ? -Number(m[2]) : Number(m[2]));
    }
    return days.sort((a, b) => a - b);
  }

  // ---------------------------------------------------------------- lifecycle

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false; // the contract: /health answers 503 with database false
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeChain;
    await Promise.all([this.pool.end(), this.readPool.end()]);
  }
}

/** Byte order, as the "C" collation sorts (the lock order of the upserts). */
function cmp(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

function compareReleaseKeys(a: ReleaseAgg, b: ReleaseAgg): number {
  return cmp(a.assistant, b.assistant) || cmp(a.version, b.version) || a.hour - b.hour || cmp(a.dimension, b.dimension) || cmp(a.key, b.key);
}

function releaseKey(assistant: string, version: string, hour: number, dimension: string, key: string): string {
  return `${assistant}\u0000${version}\u0000${hour}\u0000${dimension}\u0000${key}`;
}

function releaseKeyArrays(rows: readonly ReleaseAgg[]): unknown[] {
  return [rows.map((a) => a.assistant), rows.map((a) => a.version), rows.map((a) => a.hour), rows.map((a) => a.dimension), rows.map((a) => a.key)];
}

/**
 * PostgreSQL text holds neither NUL nor unpaired UTF-16 surrogates (a truncated emoji, say);
 * both become U+FFFD, so one such record cannot fail its whole batch.
 */
/** The spans table's columns as `json_to_recordset` reads them. */
const SPAN_RECORDSET =
  'trace_id text, span_id text, parent_span_id text, interaction_id text, name text, kind text, start_ms float8, end_ms float8, ' +
  'status_code text, status_message text, attributes text, events text, links text, resource text, received_at int8';

function cleanText(s: string): string {
  return SUSPECT.test(s) ? s.replace(/\u0000/g, '\uFFFD').replace(LONE_SURROGATE, '\uFFFD') : s;
}
const SUSPECT = /[\u0000\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The record with every text field cleaned (the same object when nothing needed it). */
function cleanRecord(r: Interaction): Interaction {
  const suspect = (t: unknown): boolean => typeof t === 'string' && SUSPECT.test(t);
  if (!TEXT_FIELDS.some((f) => suspect(r[f])) && !r.toolsUsed.some((t) => suspect(t.tool))) return r;
  const out: Record<string, unknown> = { ...r, toolsUsed: r.toolsUsed.map((t) => ({ ...t, tool: cleanText(t.tool) })) };
  for (const f of TEXT_FIELDS) {
    const value = r[f];
    if (typeof value === 'string') out[f] = cleanText(value);
  }
  return out as unknown as Interaction;
}

/** SQLSTATE 23514 with "no partition": the row's day has no partition (dropped meanwhile). */
function isNoPartitionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === '23514' && /no partition/i.test(e.message ?? '');
}
