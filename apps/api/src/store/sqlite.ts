/**
 * SQLite storage (better-sqlite3): WAL with the seed's pragmas, one transaction per batch,
 * per-minute roll-ups merged at write time.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Interaction, InteractionFilter, Page, PageRequest, SessionSummary, TimeRange } from '../model/interaction.js';
import type { AlertFilter, AlertRecord } from '../model/alert.js';
import { Histogram } from '../model/histogram.js';
import { BatchRollup, decodeCursor, encodeCursor, toPage } from './rollup.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';
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

type Row = Record<string, unknown>;
type Stmt = Database.Statement<unknown[], Row>;

export interface SqliteStoreOptions {
  file: string;
  readonly?: boolean;
}

const INSERT_SQL = `INSERT OR IGNORE INTO interactions
  (id, session_id, ts, received_at, user_input, intent, tools_used, tool_names, response_time_ms, success,
   error_type, assistant, version, model, user_id, input_tokens, output_tokens, cost_usd, feedback_score, metadata)
  VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly stmts = new Map<string, Stmt>();
  private readonly file: string;

  constructor(opts: SqliteStoreOptions) {
    this.file = opts.file;
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
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  async insertInteractions(records: readonly Interaction[]): Promise<boolean[]> {
    return this.insertTx(records);
  }

  private readonly insertTx = (records: readonly Interaction[]): boolean[] =>
    this.db.transaction((batch: readonly Interaction[]) => {
      const insert = this.stmt(INSERT_SQL);
      const rollup = new BatchRollup();
      const stored = batch.map((r) => {
        const info = insert.run(
          r.id, r.sessionId, r.timestamp, r.receivedAt, r.userInput, r.intent,
          JSON.stringify(r.toolsUsed), toolNames(r), r.responseTimeMs, r.success ? 1 : 0,
          r.errorType, r.assistant, r.version, r.model, r.userId, r.inputTokens, r.outputTokens,
          r.costUsd, r.feedbackScore, r.metadata === null ? null : JSON.stringify(r.metadata),
        );
        if (info.changes === 0) return false;
        rollup.add(r);
        return true;
      });
      this.applyRollup(rollup);
      return stored;
    })(records);

  private applyRollup(r: BatchRollup): void {
    const getHist = this.stmt('SELECT hist FROM rollup_minute WHERE minute = ?');
    const upMinute = this.stmt(`INSERT INTO rollup_minute VALUES (?,?,?,?,?,?,?,?,?)
      ON CONFLICT (minute) DO UPDATE SET count = count + excluded.count, errors = errors + excluded.errors,
        rt_sum = rt_sum + excluded.rt_sum, rt_max = max(rt_max, excluded.rt_max), hist = excluded.hist,
        input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
        cost_usd = cost_usd + excluded.cost_usd`);
    for (const m of r.minutes.values()) {
      const prev = getHist.get(m.minute) as { hist: Buffer } | undefined;
      if (prev) m.hist.addBytes(prev.hist);
      upMinute.run(m.minute, m.count, m.errors, m.rtSum, m.rtMax, m.hist.toBytes(), m.inputTokens, m.outputTokens, m.costUsd);
    }
    const upIntent = this.stmt(`INSERT INTO rollup_intent VALUES (?,?,?,?,?) ON CONFLICT (minute, intent) DO UPDATE SET
      count = count + excluded.count, errors = errors + excluded.errors, rt_sum = rt_sum + excluded.rt_sum`);
    for (const a of r.intents.values()) upIntent.run(a.minute, a.key, a.count, a.errors, a.sum);
    const upTool = this.stmt(`INSERT INTO rollup_tool VALUES (?,?,?,?,?,?) ON CONFLICT (minute, tool) DO UPDATE SET
      calls = calls + excluded.calls, errors = errors + excluded.errors, duration_sum = duration_sum + excluded.duration_sum,
      duration_n = duration_n + excluded.duration_n`);
    for (const a of r.tools.values()) upTool.run(a.minute, a.key, a.count, a.errors, a.sum, a.n);
    const upError = this.stmt(`INSERT INTO rollup_error VALUES (?,?,?) ON CONFLICT (minute, error_type) DO UPDATE SET
      count = count + excluded.count`);
    for (const a of r.errorTypes.values()) upError.run(a.minute, a.key, a.count);
    const upSession = this.stmt(`INSERT INTO sessions VALUES (?,?,?,?,?,?) ON CONFLICT (session_id) DO UPDATE SET
      first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts),
      interactions = interactions + excluded.interactions, errors = errors + excluded.errors, rt_sum = rt_sum + excluded.rt_sum`);
    for (const s of r.sessions.values()) upSession.run(s.id, s.first, s.last, s.count, s.errors, s.rtSum);
  }

  async getInteraction(id: string): Promise<Interaction | null> {
    const row = this.stmt('SELECT * FROM interactions WHERE id = ?').get(id);
    return row ? rowToInteraction(row) : null;
  }

  async listInteractions(filter: InteractionFilter, page: PageRequest): Promise<Page<Interaction>> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.from !== undefined) (where.push('ts >= ?'), args.push(filter.from));
    if (filter.to !== undefined) (where.push('ts < ?'), args.push(filter.to));
    if (filter.sessionId !== undefined) (where.push('session_id = ?'), args.push(filter.sessionId));
    if (filter.intent !== undefined) (where.push('intent = ?'), args.push(filter.intent));
    if (filter.tool !== undefined) (where.push(`instr(tool_names, ?) > 0`), args.push(`\u001f${filter.tool}\u001f`));
    if (filter.success !== undefined) (where.push('success = ?'), args.push(filter.success ? 1 : 0));
    if (filter.errorType !== undefined) (where.push('error_type = ?'), args.push(filter.errorType));
    if (filter.assistant !== undefined) (where.push('assistant = ?'), args.push(filter.assistant));
    if (filter.search) (where.push('instr(unicode_lower(user_input), ?) > 0'), args.push(filter.search.toLowerCase()));
    const cursor = page.after ? decodeCursor(page.after) : null;
    if (page.after && !cursor) throw new StoreError('invalid cursor in "after"');
    if (cursor) (where.push('(ts < ? OR (ts = ? AND seq < ?))'), args.push(cursor.a, cursor.a, Number(cursor.b)));
    const sql = `SELECT * FROM interactions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ts DESC, seq DESC LIMIT ?`;
    const rows = this.stmt(sql).all(...args, page.first + 1);
    const items = rows.slice(0, page.first);
    return toPage(items.map(rowToInteraction), items.map((r) => encodeCursor(r.ts as number, r.seq as number)), rows.length > page.first);
  }

  async getSession(id: string): Promise<SessionSummary | null> {
    const row = this.stmt('SELECT * FROM sessions WHERE session_id = ?').get(id);
    return row ? rowToSession(row) : null;
  }

  async listSessions(range: Partial<TimeRange>, page: PageRequest): Promise<Page<SessionSummary>> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (range.from !== undefined) (where.push('last_ts >= ?'), args.push(range.from));
    if (range.to !== undefined) (where.push('first_ts < ?'), args.push(range.to));
    const cursor = page.after ? decodeCursor(page.after) : null;
    if (page.after && !cursor) throw new StoreError('invalid cursor in "after"');
    if (cursor) (where.push('(last_ts < ? OR (last_ts = ? AND session_id > ?))'), args.push(cursor.a, cursor.a, cursor.b));
    const sql = `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY last_ts DESC, session_id ASC LIMIT ?`;
    const rows = this.stmt(sql).all(...args, page.first + 1);
    const items = rows.slice(0, page.first).map(rowToSession);
    return toPage(items, items.map((s) => encodeCursor(s.lastSeen, s.id)), rows.length > page.first);
  }

  async totals(range: TimeRange): Promise<Totals> {
    const rows = this.stmt('SELECT * FROM rollup_minute WHERE minute >= ? AND minute < ?').all(...minuteBounds(range));
    return sumMinutes(rows);
  }

  async timeseries(range: TimeRange, bucketMs: number): Promise<TimeBucket[]> {
    const rows = this.stmt('SELECT * FROM rollup_minute WHERE minute >= ? AND minute < ? ORDER BY minute').all(...minuteBounds(range));
    const buckets = new Map<number, Row[]>();
    const origin = Math.floor(range.from / bucketMs) * bucketMs;
    for (const row of rows) {
      const start = origin + Math.floor(((row.minute as number) - origin) / bucketMs) * bucketMs;
      let list = buckets.get(start);
      if (!list) buckets.set(start, (list = []));
      list.push(row);
    }
    return [...buckets.entries()].map(([start, list]) => ({ start, ...sumMinutes(list) }));
  }

  async intentBreakdown(range: TimeRange, limit: number): Promise<IntentRow[]> {
    return this.stmt(`SELECT intent, sum(count) AS count, sum(errors) AS errors, sum(rt_sum) AS responseTimeSum
      FROM rollup_intent WHERE minute >= ? AND minute < ? GROUP BY intent ORDER BY count DESC, intent LIMIT ?`)
      .all(...minuteBounds(range), limit) as unknown as IntentRow[];
  }

  async toolBreakdown(range: TimeRange, limit: number): Promise<ToolRow[]> {
    return this.stmt(`SELECT tool, sum(calls) AS calls, sum(errors) AS errors, sum(duration_sum) AS durationSum,
        sum(duration_n) AS durationCount
      FROM rollup_tool WHERE minute >= ? AND minute < ? GROUP BY tool ORDER BY calls DESC, tool LIMIT ?`)
      .all(...minuteBounds(range), limit) as unknown as ToolRow[];
  }

  async errorBreakdown(range: TimeRange, limit: number): Promise<ErrorTypeRow[]> {
    return this.stmt(`SELECT error_type AS errorType, sum(count) AS count
      FROM rollup_error WHERE minute >= ? AND minute < ? GROUP BY error_type ORDER BY count DESC, error_type LIMIT ?`)
      .all(...minuteBounds(range), limit) as unknown as ErrorTypeRow[];
  }

  async activeSessions(since: number): Promise<number> {
    const row = this.stmt('SELECT count(*) AS n FROM sessions WHERE last_ts >= ?').get(since) as { n: number };
    return row.n;
  }

  async insertAlert(a: AlertRecord): Promise<void> {
    this.stmt('INSERT INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?,?,?)').run(
      a.id, a.kind, a.status, a.message, a.value, a.threshold, a.raisedAt, a.resolvedAt, a.acknowledgedAt,
      a.acknowledgedBy, JSON.stringify(a.delivery), JSON.stringify(a.details),
    );
  }

  async updateAlert(id: string, patch: Partial<Omit<AlertRecord, 'id'>>): Promise<AlertRecord | null> {
    const current = await this.getAlert(id);
    if (!current) return null;
    const next: AlertRecord = { ...current, ...patch, id };
    this.stmt(`UPDATE alerts SET kind = ?, status = ?, message = ?, value = ?, threshold = ?, raised_at = ?, resolved_at = ?,
      acknowledged_at = ?, acknowledged_by = ?, delivery = ?, details = ? WHERE id = ?`).run(
      next.kind, next.status, next.message, next.value, next.threshold, next.raisedAt, next.resolvedAt, next.acknowledgedAt,
      next.acknowledgedBy, JSON.stringify(next.delivery), JSON.stringify(next.details), id,
    );
    return next;
  }

  async getAlert(id: string): Promise<AlertRecord | null> {
    const row = this.stmt('SELECT * FROM alerts WHERE id = ?').get(id);
    return row ? rowToAlert(row) : null;
  }

  async listAlerts(filter: AlertFilter, page: PageRequest): Promise<Page<AlertRecord>> {
    const { where, args } = alertWhere(filter);
    const cursor = page.after ? decodeCursor(page.after) : null;
    if (page.after && !cursor) throw new StoreError('invalid cursor in "after"');
    if (cursor) (where.push('(raised_at < ? OR (raised_at = ? AND id < ?))'), args.push(cursor.a, cursor.a, cursor.b));
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_at DESC, id DESC LIMIT ?`;
    const rows = this.stmt(sql).all(...args, page.first + 1);
    const items = rows.slice(0, page.first).map(rowToAlert);
    return toPage(items, items.map((a) => encodeCursor(a.raisedAt, a.id)), rows.length > page.first);
  }

  async countAlerts(filter: AlertFilter): Promise<number> {
    const { where, args } = alertWhere(filter);
    const row = this.stmt(`SELECT count(*) AS n FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`).get(...args) as { n: number };
    return row.n;
  }

  async deleteOlderThan(cutoff: number, chunk: number): Promise<number> {
    return this.db.transaction(() => {
      let n = this.stmt('DELETE FROM interactions WHERE seq IN (SELECT seq FROM interactions WHERE ts < ? ORDER BY ts LIMIT ?)')
        .run(cutoff, chunk).changes;
      const minute = Math.floor(cutoff / MINUTE_MS) * MINUTE_MS;
      for (const [table, key] of ROLLUP_KEYS) {
        n += this.stmt(`DELETE FROM ${table} WHERE (${key}) IN (SELECT ${key} FROM ${table} WHERE minute < ? LIMIT ?)`)
          .run(minute, chunk).changes;
      }
      n += this.stmt('DELETE FROM sessions WHERE session_id IN (SELECT session_id FROM sessions WHERE last_ts < ? LIMIT ?)').run(cutoff, chunk).changes;
      n += this.stmt('DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE raised_at < ? LIMIT ?)').run(cutoff, chunk).changes;
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
    if (this.db.open) this.db.close();
  }
}

const ROLLUP_KEYS: readonly [string, string][] = [
  ['rollup_minute', 'minute'],
  ['rollup_intent', 'minute, intent'],
  ['rollup_tool', 'minute, tool'],
  ['rollup_error', 'minute, error_type'],
];

/** Tool names between unit separators, so `instr` finds whole names only. */
function toolNames(r: Interaction): string {
  return r.toolsUsed.length === 0 ? '' : `\u001f${r.toolsUsed.map((t) => t.tool).join('\u001f')}\u001f`;
}

function minuteBounds(range: TimeRange): [number, number] {
  return [Math.floor(range.from / MINUTE_MS) * MINUTE_MS, range.to];
}

function sumMinutes(rows: Row[]): Totals {
  const t: Totals = { count: 0, errors: 0, responseTimeSum: 0, responseTimeMax: 0, histogram: new Histogram(), inputTokens: 0, outputTokens: 0, costUsd: 0 };
  for (const r of rows) {
    t.count += r.count as number;
    t.errors += r.errors as number;
    t.responseTimeSum += r.rt_sum as number;
    t.responseTimeMax = Math.max(t.responseTimeMax, r.rt_max as number);
    t.histogram.addBytes(r.hist as Buffer);
    t.inputTokens += r.input_tokens as number;
    t.outputTokens += r.output_tokens as number;
    t.costUsd += r.cost_usd as number;
  }
  return t;
}

function parseJson<T>(text: unknown, fallback: T): T {
  return typeof text === 'string' ? (JSON.parse(text) as T) : fallback;
}

export function rowToInteraction(row: Row): Interaction {
  return {
    id: row.id as string,
    sessionId: row.session_id as string,
    timestamp: Number(row.ts),
    receivedAt: Number(row.received_at),
    userInput: row.user_input as string,
    intent: row.intent as string,
    toolsUsed: parseJson(row.tools_used, []),
    responseTimeMs: Number(row.response_time_ms),
    success: Boolean(row.success),
    errorType: (row.error_type as string | null) ?? null,
    assistant: (row.assistant as string | null) ?? null,
    version: (row.version as string | null) ?? null,
    model: (row.model as string | null) ?? null,
    userId: (row.user_id as string | null) ?? null,
    inputTokens: row.input_tokens === null ? null : Number(row.input_tokens),
    outputTokens: row.output_tokens === null ? null : Number(row.output_tokens),
    costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
    feedbackScore: row.feedback_score === null ? null : Number(row.feedback_score),
    metadata: parseJson(row.metadata, null),
  };
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

/** WHERE terms of an alert filter, shared by listing and counting. */
function alertWhere(filter: AlertFilter): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.status) (where.push('status = ?'), args.push(filter.status));
  if (filter.kind) (where.push('kind = ?'), args.push(filter.kind));
  if (filter.acknowledged !== undefined) where.push(filter.acknowledged ? 'acknowledged_at IS NOT NULL' : 'acknowledged_at IS NULL');
  if (filter.from !== undefined) (where.push('raised_at >= ?'), args.push(filter.from));
  if (filter.to !== undefined) (where.push('raised_at < ?'), args.push(filter.to));
  return { where, args };
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
