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
import type { Interaction, InteractionFilter, Page, PageRequest, SessionSummary, TimeRange } from '../model/interaction.js';
import type { AlertFilter, AlertRecord } from '../model/alert.js';
import { Histogram } from '../model/histogram.js';
import { BatchRollup, decodeCursor, encodeCursor, toPage, type MinuteAgg } from './rollup.js';
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, quoteIdent } from './postgres-schema.js';
import { rowToAlert, rowToInteraction, rowToSession } from './sqlite.js';
import {
  MINUTE_MS,
  StoreError,
  type ErrorTypeRow,
  type IntentRow,
  type Store,
  type TimeBucket,
  type ToolRow,
  type Totals,
} from './types.js';
import { redactUrl } from '../config/redact.js';

type Row = Record<string, unknown>;
type Client = pg.PoolClient;

export interface PostgresStoreOptions {
  /** postgres:// connection URL. */
  url: string;
  /** Schema holding every table; created when missing. */
  schema?: string;
  /** Most pooled connections. */
  poolSize?: number;
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

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  readonly writerId: string;
  private readonly pool: pg.Pool;
  private readonly s: string;
  /** Days whose partition is known to exist. */
  private readonly knownDays = new Set<number>();
  /** This instance's write transactions run one at a time (see the roll-up note above). */
  private writeChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The URL without its password, for messages. */
  private readonly where: string;

  constructor(opts: PostgresStoreOptions) {
    this.schema = opts.schema ?? 'public';
    this.s = quoteIdent(this.schema);
    this.writerId = opts.writerId ?? randomBytes(8).toString('hex');
    this.where = redactUrl(opts.url);
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      application_name: 'ai-monitor',
    });
    // Without a listener an idle connection's error would crash the process.
    this.pool.on('error', (err) => opts.onPoolError?.(err));
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
      for (const r of rows) rollup.add(r);
      await this.applyRollup(c, rollup);
      return stored;
    });
  }

  private async insertRows(c: Client, rows: readonly Interaction[]): Promise<void> {
    // One JSON document for the whole batch: JSON.stringify is native and PostgreSQL parses
    // it in one pass, cheaper on both sides than twenty array parameters.
    const batch = rows.map((r) => ({
      id: r.id,
      session_id: r.sessionId,
      ts: r.timestamp,
      received_at: r.receivedAt,
      user_input: r.userInput,
      intent: r.intent,
      tools_used: JSON.stringify(r.toolsUsed),
      tool_names: r.toolsUsed.map((t) => t.tool),
      response_time_ms: r.responseTimeMs,
      success: r.success,
      error_type: r.errorType,
      assistant: r.assistant,
      version: r.version,
      model: r.model,
      user_id: r.userId,
      input_tokens: r.inputTokens,
      output_tokens: r.outputTokens,
      cost_usd: r.costUsd,
      feedback_score: r.feedbackScore,
      metadata: r.metadata === null ? null : JSON.stringify(r.metadata),
    }));
    // json_to_recordset yields rows in document order, so `seq` follows the batch order (the tie-break of equal timestamps).
    await c.query(
      `INSERT INTO ${this.s}.interactions (seq, id, session_id, ts, received_at, user_input, intent, tools_used, tool_names,
         response_time_ms, success, error_type, assistant, version, model, user_id, input_tokens, output_tokens, cost_usd,
         feedback_score, metadata)
       SELECT nextval('${this.s}.interactions_seq'), u.id, u.session_id, u.ts, u.received_at, u.user_input, u.intent, u.tools_used,
         u.tool_names, u.response_time_ms, u.success, u.error_type, u.assistant, u.version, u.model, u.user_id, u.input_tokens,
         u.output_tokens, u.cost_usd, u.feedback_score, u.metadata
       FROM json_to_recordset($1::json) AS u(id text, session_id text, ts int8, received_at int8, user_input text, intent text,
         tools_used text, tool_names text[], response_time_ms float8, success bool, error_type text, assistant text, version text,
         model text, user_id text, input_tokens int8, output_tokens int8, cost_usd float8, feedback_score float8, metadata text)`,
      [JSON.stringify(batch)],
    );
  }

  private async applyRollup(c: Client, r: BatchRollup): Promise<void> {
    await this.upsertMinutes(c, [...r.minutes.values()]);
    const intents = [...r.intents.values()];
    if (intents.length > 0) {
      await c.query(
        `INSERT INTO ${this.s}.rollup_intent AS t (minute, intent, count, errors, rt_sum)
         SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[], $4::int8[], $5::float8[]) AS u(minute, k, count, errors, rt_sum)
         ORDER BY u.minute, u.k ${C}
         ON CONFLICT (minute, intent) DO UPDATE SET count = t.count + excluded.count, errors = t.errors + excluded.errors,
           rt_sum = t.rt_sum + excluded.rt_sum`,
        [intents.map((a) => a.minute), intents.map((a) => a.key), intents.map((a) => a.count), intents.map((a) => a.errors), intents.map((a) => a.sum)],
      );
    }
    const tools = [...r.tools.values()];
    if (tools.length > 0) {
      await c.query(
        `INSERT INTO ${this.s}.rollup_tool AS t (minute, tool, calls, errors, duration_sum, duration_n)
         SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[], $4::int8[], $5::float8[], $6::int8[]) AS u(minute, k, calls, errors, dsum, dn)
         ORDER BY u.minute, u.k ${C}
         ON CONFLICT (minute, tool) DO UPDATE SET calls = t.calls + excluded.calls, errors = t.errors + excluded.errors,
           duration_sum = t.duration_sum + excluded.duration_sum, duration_n = t.duration_n + excluded.duration_n`,
        [tools.map((a) => a.minute), tools.map((a) => a.key), tools.map((a) => a.count), tools.map((a) => a.errors), tools.map((a) => a.sum), tools.map((a) => a.n)],
      );
    }
    const errs = [...r.errorTypes.values()];
    if (errs.length > 0) {
      await c.query(
        `INSERT INTO ${this.s}.rollup_error AS t (minute, error_type, count)
         SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[]) AS u(minute, k, count) ORDER BY u.minute, u.k ${C}
         ON CONFLICT (minute, error_type) DO UPDATE SET count = t.count + excluded.count`,
        [errs.map((a) => a.minute), errs.map((a) => a.key), errs.map((a) => a.count)],
      );
    }
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

  /** Merges histograms into this writer's minute rows (read, add, write: safe, only this instance writes them). */
  private async upsertMinutes(c: Client, minutes: MinuteAgg[]): Promise<void> {
    const prev = await c.query<{ minute: string; hist: Buffer }>(
      `SELECT minute, hist FROM ${this.s}.rollup_minute WHERE writer = $1 AND minute = ANY($2::int8[])`,
      [this.writerId, minutes.map((m) => m.minute)],
    );
    const stored = new Map(prev.rows.map((r) => [Number(r.minute), r.hist]));
    for (const m of minutes) {
      const bytes = stored.get(m.minute);
      if (bytes) addEncoded(m.hist, bytes);
    }
    minutes.sort((a, b) => a.minute - b.minute);
    await c.query(
      `INSERT INTO ${this.s}.rollup_minute AS t (minute, writer, count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd)
       SELECT u.minute, $1, u.count, u.errors, u.rt_sum, u.rt_max, u.hist, u.input_tokens, u.output_tokens, u.cost_usd
       FROM unnest($2::int8[], $3::int8[], $4::int8[], $5::float8[], $6::float8[], $7::bytea[], $8::int8[], $9::int8[], $10::float8[])
         AS u(minute, count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd)
       ON CONFLICT (minute, writer) DO UPDATE SET count = t.count + excluded.count, errors = t.errors + excluded.errors,
         rt_sum = t.rt_sum + excluded.rt_sum, rt_max = GREATEST(t.rt_max, excluded.rt_max), hist = excluded.hist,
         input_tokens = t.input_tokens + excluded.input_tokens, output_tokens = t.output_tokens + excluded.output_tokens,
         cost_usd = t.cost_usd + excluded.cost_usd`,
      [
        this.writerId, minutes.map((m) => m.minute), minutes.map((m) => m.count), minutes.map((m) => m.errors),
        minutes.map((m) => m.rtSum), minutes.map((m) => m.rtMax), minutes.map((m) => encodeHistogram(m.hist)),
        minutes.map((m) => m.inputTokens), minutes.map((m) => m.outputTokens), minutes.map((m) => m.costUsd),
      ],
    );
  }

  // ---------------------------------------------------------------- interaction reads

  async getInteraction(id: string): Promise<Interaction | null> {
    // The registry gives the timestamp, so only one partition is searched.
    const rows = await this.rows(
      `SELECT i.* FROM ${this.s}.interaction_ids k JOIN ${this.s}.interactions i ON i.ts = k.ts AND i.id = k.id WHERE k.id = $1`,
      [cleanText(id)],
    );
    return rows[0] ? rowToInteraction(rows[0]) : null;
  }

  async listInteractions(filter: InteractionFilter, page: PageRequest): Promise<Page<Interaction>> {
    const w = new Where();
    if (filter.from !== undefined) w.add('ts >= ?', filter.from);
    if (filter.to !== undefined) w.add('ts < ?', filter.to);
    if (filter.sessionId !== undefined) w.add('session_id = ?', cleanText(filter.sessionId));
    if (filter.intent !== undefined) w.add('intent = ?', cleanText(filter.intent));
    if (filter.tool !== undefined) w.add('? = ANY(tool_names)', cleanText(filter.tool));
    if (filter.success !== undefined) w.add('success = ?', filter.success);
    if (filter.errorType !== undefined) w.add('error_type = ?', cleanText(filter.errorType));
    if (filter.assistant !== undefined) w.add('assistant = ?', cleanText(filter.assistant));
    if (filter.search) w.add('strpos(lower(user_input), ?) > 0', cleanText(filter.search.toLowerCase()));
    const cursor = readCursor(page.after);
    if (cursor) w.add('(ts, seq) < (?, ?)', cursor.a, Number(cursor.b));
    const rows = await this.rows(
      `SELECT * FROM ${this.s}.interactions ${w.sql()} ORDER BY ts DESC, seq DESC LIMIT ${w.param(page.first + 1)}`,
      w.args,
    );
    const items = rows.slice(0, page.first);
    return toPage(items.map(rowToInteraction), items.map((r) => encodeCursor(Number(r.ts), Number(r.seq))), rows.length > page.first);
  }

  async getSession(id: string): Promise<SessionSummary | null> {
    const rows = await this.rows(`SELECT * FROM ${this.s}.sessions WHERE session_id = $1`, [cleanText(id)]);
    return rows[0] ? rowToSession(rows[0]) : null;
  }

  async listSessions(range: Partial<TimeRange>, page: PageRequest): Promise<Page<SessionSummary>> {
    const w = new Where();
    if (range.from !== undefined) w.add('last_ts >= ?', range.from);
    if (range.to !== undefined) w.add('first_ts < ?', range.to);
    const cursor = readCursor(page.after);
    if (cursor) w.add('(last_ts < ? OR (last_ts = ? AND session_id > ?))', cursor.a, cursor.a, cursor.b);
    const rows = await this.rows(
      `SELECT * FROM ${this.s}.sessions ${w.sql()} ORDER BY last_ts DESC, session_id ASC LIMIT ${w.param(page.first + 1)}`,
      w.args,
    );
    const items = rows.slice(0, page.first).map(rowToSession);
    return toPage(items, items.map((s) => encodeCursor(s.lastSeen, s.id)), rows.length > page.first);
  }

  // ---------------------------------------------------------------- aggregates

  async totals(range: TimeRange): Promise<Totals> {
    const rows = await this.rows(
      `SELECT count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd
       FROM ${this.s}.rollup_minute WHERE minute >= $1 AND minute < $2`,
      minuteBounds(range),
    );
    return sumMinutes(rows);
  }

  async timeseries(range: TimeRange, bucketMs: number): Promise<TimeBucket[]> {
    const rows = await this.rows(
      `SELECT minute, count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd
       FROM ${this.s}.rollup_minute WHERE minute >= $1 AND minute < $2 ORDER BY minute`,
      minuteBounds(range),
    );
    const buckets = new Map<number, Row[]>();
    const origin = Math.floor(range.from / bucketMs) * bucketMs;
    for (const row of rows) {
      const start = origin + Math.floor((Number(row.minute) - origin) / bucketMs) * bucketMs;
      let list = buckets.get(start);
      if (!list) buckets.set(start, (list = []));
      list.push(row);
    }
    return [...buckets.entries()].map(([start, list]) => ({ start, ...sumMinutes(list) }));
  }

  async intentBreakdown(range: TimeRange, limit: number): Promise<IntentRow[]> {
    const rows = await this.rows(
      `SELECT intent, sum(count) AS count, sum(errors) AS errors, sum(rt_sum) AS rt_sum
       FROM ${this.s}.rollup_intent WHERE minute >= $1 AND minute < $2
       GROUP BY intent ORDER BY sum(count) DESC, intent ${C} LIMIT $3`,
      [...minuteBounds(range), limit],
    );
    return rows.map((r) => ({ intent: r.intent as string, count: Number(r.count), errors: Number(r.errors), responseTimeSum: Number(r.rt_sum) }));
  }

  async toolBreakdown(range: TimeRange, limit: number): Promise<ToolRow[]> {
    const rows = await this.rows(
      `SELECT tool, sum(calls) AS calls, sum(errors) AS errors, sum(duration_sum) AS duration_sum, sum(duration_n) AS duration_n
       FROM ${this.s}.rollup_tool WHERE minute >= $1 AND minute < $2
       GROUP BY tool ORDER BY sum(calls) DESC, tool ${C} LIMIT $3`,
      [...minuteBounds(range), limit],
    );
    return rows.map((r) => ({
      tool: r.tool as string,
      calls: Number(r.calls),
      errors: Number(r.errors),
      durationSum: Number(r.duration_sum),
      durationCount: Number(r.duration_n),
    }));
  }

  async errorBreakdown(range: TimeRange, limit: number): Promise<ErrorTypeRow[]> {
    const rows = await this.rows(
      `SELECT error_type, sum(count) AS count FROM ${this.s}.rollup_error WHERE minute >= $1 AND minute < $2
       GROUP BY error_type ORDER BY sum(count) DESC, error_type ${C} LIMIT $3`,
      [...minuteBounds(range), limit],
    );
    return rows.map((r) => ({ errorType: r.error_type as string, count: Number(r.count) }));
  }

  async activeSessions(since: number): Promise<number> {
    const rows = await this.rows(`SELECT count(*) AS n FROM ${this.s}.sessions WHERE last_ts >= $1`, [since]);
    return Number(rows[0]!.n);
  }

  // ---------------------------------------------------------------- alerts

  async insertAlert(a: AlertRecord): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.s}.alerts VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`, alertValues(a));
  }

  async updateAlert(id: string, patch: Partial<Omit<AlertRecord, 'id'>>): Promise<AlertRecord | null> {
    // Row-locked read-modify-write: replicas may update one alert concurrently (delivery vs acknowledge).
    return this.tx(async (c) => {
      const rows = (await c.query<Row>(`SELECT * FROM ${this.s}.alerts WHERE id = $1 FOR UPDATE`, [id])).rows;
      if (!rows[0]) return null;
      const next: AlertRecord = { ...rowToAlert(rows[0]), ...patch, id };
      await c.query(
        `UPDATE ${this.s}.alerts SET kind = $2, status = $3, message = $4, value = $5, threshold = $6, raised_at = $7,
           resolved_at = $8, acknowledged_at = $9, acknowledged_by = $10, delivery = $11, details = $12 WHERE id = $1`,
        alertValues(next),
      );
      return next;
    });
  }

  async getAlert(id: string): Promise<AlertRecord | null> {
    const rows = await this.rows(`SELECT * FROM ${this.s}.alerts WHERE id = $1`, [id]);
    return rows[0] ? rowToAlert(rows[0]) : null;
  }

  async listAlerts(filter: AlertFilter, page: PageRequest): Promise<Page<AlertRecord>> {
    const w = alertWhere(filter);
    const cursor = readCursor(page.after);
    if (cursor) w.add('(raised_at < ? OR (raised_at = ? AND id < ?))', cursor.a, cursor.a, cursor.b);
    const rows = await this.rows(
      `SELECT * FROM ${this.s}.alerts ${w.sql()} ORDER BY raised_at DESC, id DESC LIMIT ${w.param(page.first + 1)}`,
      w.args,
    );
    const items = rows.slice(0, page.first).map(rowToAlert);
    return toPage(items, items.map((a) => encodeCursor(a.raisedAt, a.id)), rows.length > page.first);
  }

  async countAlerts(filter: AlertFilter): Promise<number> {
    const w = alertWhere(filter);
    const rows = await this.rows(`SELECT count(*) AS n FROM ${this.s}.alerts ${w.sql()}`, w.args);
    return Number(rows[0]!.n);
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
    n += await this.deleteChunk('rollup_intent', 'minute, intent', 'minute < $1', [minute], chunk);
    n += await this.deleteChunk('rollup_tool', 'minute, tool', 'minute < $1', [minute], chunk);
    n += await this.deleteChunk('rollup_error', 'minute, error_type', 'minute < $1', [minute], chunk);
    n += await this.deleteChunk('sessions', 'session_id', 'last_ts < $1', [cutoff], chunk);
    n += await this.deleteChunk('alerts', 'id', 'raised_at < $1', [cutoff], chunk);
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
    await this.pool.end();
  }
}


/** Builds a WHERE clause with `?` placeholders numbered as PostgreSQL's `$n`. */
class Where {
  readonly args: unknown[] = [];
  private readonly parts: string[] = [];

  add(cond: string, ...values: unknown[]): void {
    this.parts.push(cond.replace(/\?/g, () => this.param(values.shift())));
  }

  param(value: unknown): string {
    this.args.push(value);
    return `$${this.args.length}`;
  }

  sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** WHERE terms of an alert filter, shared by listing and counting. */
function alertWhere(filter: AlertFilter): Where {
  const w = new Where();
  if (filter.status) w.add('status = ?', filter.status);
  if (filter.kind) w.add('kind = ?', filter.kind);
  if (filter.acknowledged !== undefined) w.add(filter.acknowledged ? 'acknowledged_at IS NOT NULL' : 'acknowledged_at IS NULL');
  if (filter.from !== undefined) w.add('raised_at >= ?', filter.from);
  if (filter.to !== undefined) w.add('raised_at < ?', filter.to);
  return w;
}

function readCursor(after: string | null | undefined): { a: number; b: string } | null {
  if (!after) return null;
  const cursor = decodeCursor(after);
  if (!cursor) throw new StoreError('invalid cursor in "after"');
  return cursor;
}

function minuteBounds(range: TimeRange): [number, number] {
  return [Math.floor(range.from / MINUTE_MS) * MINUTE_MS, range.to];
}

function sumMinutes(rows: Row[]): Totals {
  const t: Totals = { count: 0, errors: 0, responseTimeSum: 0, responseTimeMax: 0, histogram: new Histogram(), inputTokens: 0, outputTokens: 0, costUsd: 0 };
  for (const r of rows) {
    t.count += Number(r.count);
    t.errors += Number(r.errors);
    t.responseTimeSum += Number(r.rt_sum);
    t.responseTimeMax = Math.max(t.responseTimeMax, Number(r.rt_max));
    addEncoded(t.histogram, r.hist as Buffer);
    t.inputTokens += Number(r.input_tokens);
    t.outputTokens += Number(r.output_tokens);
    t.costUsd += Number(r.cost_usd);
  }
  return t;
}

/**
 * Histograms are stored compactly: a u16 index of the first non-empty bucket, then the u32
 * counts up to the last non-empty one (little-endian). Latencies cluster in a few dozen of
 * the buckets, so a minute's row is a fraction of the fixed-size form: reading a day of
 * roll-ups moves that much less data.
 */
export function encodeHistogram(h: Histogram): Buffer {
  const c = h.counts;
  let first = 0;
  while (first < c.length && c[first] === 0) first++;
  let last = c.length - 1;
  while (last >= first && c[last] === 0) last--;
  const buf = Buffer.alloc(2 + Math.max(0, last - first + 1) * 4);
  buf.writeUInt16LE(first === c.length ? 0 : first, 0);
  for (let i = first; i <= last; i++) buf.writeUInt32LE(c[i]!, 2 + (i - first) * 4);
  return buf;
}

export function addEncoded(h: Histogram, bytes: Buffer): void {
  if (bytes.length < 2) return;
  const first = bytes.readUInt16LE(0);
  const n = Math.min((bytes.length - 2) >>> 2, h.counts.length - first);
  for (let i = 0; i < n; i++) h.counts[first + i]! += bytes.readUInt32LE(2 + i * 4);
}

/**
 * PostgreSQL text holds neither NUL nor unpaired UTF-16 surrogates (a truncated emoji, say);
 * both become U+FFFD, so one such record cannot fail its whole batch.
 */
function cleanText(s: string): string {
  return SUSPECT.test(s) ? s.replace(/\u0000/g, '\uFFFD').replace(LONE_SURROGATE, '\uFFFD') : s;
}
const SUSPECT = /[\u0000\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function cleanNullable(s: string | null): string | null {
  return s === null ? null : cleanText(s);
}

/** The record with every text column cleaned (the same object when nothing needed it). */
function cleanRecord(r: Interaction): Interaction {
  const texts = [r.id, r.sessionId, r.userInput, r.intent, r.errorType, r.assistant, r.version, r.model, r.userId];
  if (!texts.some((t) => t !== null && SUSPECT.test(t)) && !r.toolsUsed.some((t) => SUSPECT.test(t.tool))) return r;
  return {
    ...r,
    id: cleanText(r.id),
    sessionId: cleanText(r.sessionId),
    userInput: cleanText(r.userInput),
    intent: cleanText(r.intent),
    errorType: cleanNullable(r.errorType),
    assistant: cleanNullable(r.assistant),
    version: cleanNullable(r.version),
    model: cleanNullable(r.model),
    userId: cleanNullable(r.userId),
    toolsUsed: r.toolsUsed.map((t) => ({ ...t, tool: cleanText(t.tool) })),
  };
}

function alertValues(a: AlertRecord): unknown[] {
  return [
    a.id, a.kind, a.status, a.message, a.value, a.threshold, a.raisedAt, a.resolvedAt, a.acknowledgedAt,
    a.acknowledgedBy, JSON.stringify(a.delivery), JSON.stringify(a.details),
  ];
}

/** SQLSTATE 23514 with "no partition": the row's day has no partition (dropped meanwhile). */
function isNoPartitionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === '23514' && /no partition/i.test(e.message ?? '');
}
