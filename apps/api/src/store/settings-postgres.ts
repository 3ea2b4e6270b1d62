/**
 * The settings concern on PostgreSQL, shared by every replica. A write bumps the row's
 * version and sends `NOTIFY ai_monitor_settings` in the same statement (delivered on
 * commit); each replica LISTENs on a connection of its own and re-reads on a notification.
 * A lost listener connection reconnects; callers also re-read now and then as a safety net.
 * The `settings` table is created by the store's migrations (postgres-schema.ts).
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { parseStoredSetting as parse, type SettingsStore, type StoredSetting } from './settings.js';
import { quoteIdent } from './postgres-schema.js';

const CHANNEL = 'ai_monitor_settings';
/** Wait before reconnecting a lost listener connection. */
const RECONNECT_MS = 1000;

export interface PostgresSettingsOptions {
  url: string;
  schema: string;
  /** A lost listener connection (it reconnects); reported, never thrown. */
  onError?: (err: Error) => void;
}

interface Notice {
  schema: string;
  key: string;
  writer: string;
}

export class PostgresSettingsStore implements SettingsStore {
  readonly shared = true;
  private readonly pool: pg.Pool;
  private readonly s: string;
  /** Tells this instance's own notifications apart. */
  private readonly writer = randomBytes(8).toString('hex');
  private readonly watchers = new Set<(key: string) => void>();
  private listener: pg.Client | null = null;
  private reconnect: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: PostgresSettingsOptions) {
    this.s = quoteIdent(opts.schema);
    this.pool = new pg.Pool({ connectionString: opts.url, max: 2, idleTimeoutMillis: 30_000, application_name: 'ai-monitor settings' });
    this.pool.on('error', (err) => opts.onError?.(err));
  }

  async read(key: string): Promise<StoredSetting | null> {
    const res = await this.pool.query<{ value: string; version: string }>(`SELECT value, version FROM ${this.s}.settings WHERE key = $1`, [key]);
    const row = res.rows[0];
    return row ? { value: parse(key, row.value), version: Number(row.version) } : null;
  }

  async write(key: string, value: unknown): Promise<StoredSetting> {
    const notice: Notice = { schema: this.opts.schema, key, writer: this.writer };
    const res = await this.pool.query<{ version: string }>(
      `WITH up AS (
         INSERT INTO ${this.s}.settings AS t (key, value, version, updated_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = t.version + 1, updated_at = excluded.updated_at
         RETURNING version)
       SELECT version, pg_notify($4, $5) FROM up`,
      [key, JSON.stringify(value), Date.now(), CHANNEL, JSON.stringify(notice)],
    );
    return { value, version: Number(res.rows[0]!.version) };
  }

  watch(onChange: (key: string) => void): () => void {
    this.watchers.add(onChange);
    if (!this.listener && !this.reconnect) void this.listen();
    return () => this.watchers.delete(onChange);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnect) clearTimeout(this.reconnect);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }

  private async listen(): Promise<void> {
    this.reconnect = null;
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.opts.url, application_name: 'ai-monitor settings listener' });
    const lost = (err: Error): void => {
      if (this.listener !== client) return;
      this.listener = null;
      this.opts.onError?.(err);
      void client.end().catch(() => undefined);
      if (!this.closed) this.reconnect = setTimeout(() => void this.listen(), RECONNECT_MS).unref();
    };
    client.on('error', lost);
    client.on('end', () => lost(new Error('settings listener connection closed')));
    client.on('notification', (msg) => this.notified(msg.payload));
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      lost(err as Error);
    }
  }

  private notified(payload: string | undefined): void {
    let notice: Notice;
    try {
      notice = JSON.parse(payload ?? '') as Notice;
    } catch {
      return; // not ours
    }
    if (notice.schema !== this.opts.schema || notice.writer === this.writer) return;
    for (const w of this.watchers) w(notice.key);
  }
}
