/**
 * The settings concern on the embedded SQLite database (one node: nobody else writes). The
 * `settings` table is created by the store's migrations (sqlite-schema.ts).
 */
import type Database from 'better-sqlite3';
import { parseStoredSetting as parse, type SettingsStore, type StoredSetting } from './settings.js';

export class SqliteSettingsStore implements SettingsStore {
  readonly shared = false;

  constructor(private readonly db: Database.Database) {}

  async read(key: string): Promise<StoredSetting | null> {
    const row = this.db.prepare('SELECT value, version FROM settings WHERE key = ?').get(key) as { value: string; version: number } | undefined;
    return row ? { value: parse(key, row.value), version: row.version } : null;
  }

  async write(key: string, value: unknown): Promise<StoredSetting> {
    const row = this.db
      .prepare(
        `INSERT INTO settings (key, value, version, updated_at) VALUES (?, ?, 1, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = settings.version + 1, updated_at = excluded.updated_at
         RETURNING version`,
      )
      .get(key, JSON.stringify(value), Date.now()) as { version: number };
    return { value, version: row.version };
  }

  watch(): () => void {
    return () => undefined;
  }

  /** The database belongs to the SQLite store, which closes it. */
  async close(): Promise<void> {}
}
