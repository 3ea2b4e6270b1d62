/**
 * Looking at an ai-monitor SQLite file from the outside (CLI maintenance commands): what
 * version and how many records it holds, whether it is intact, and what retention would remove.
 */
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { SqliteStore } from './sqlite.js';
import { SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';
import { StoreError } from './types.js';

export interface DatabaseInfo {
  file: string;
  bytes: number;
  schemaVersion: number;
  /** The schema version this build writes. */
  supportedVersion: number;
  /** "ok", or SQLite's first complaints. */
  integrity: string;
  interactions: number;
  sessions: number;
  alerts: number;
  /** Epoch ms of the oldest and newest interaction; null when there are none. */
  oldest: number | null;
  newest: number | null;
}

const REQUIRED_TABLES = ['interactions', 'sessions', 'alerts', 'rollup_minute'];

/**
 * Opens `file` (read-only unless told otherwise), checks that it is an ai-monitor database and
 * counts its records. `integrity` runs SQLite's full integrity_check.
 */
export function inspectDatabase(file: string, opts: { readonly?: boolean; integrity?: boolean } = {}): DatabaseInfo {
  if (!existsSync(file)) throw new StoreError(`${file} does not exist`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: opts.readonly ?? true, fileMustExist: true });
  } catch (err) {
    throw new StoreError(`cannot open ${file}: ${(err as Error).message}`);
  }
  try {
    const schemaVersion = readVersion(db, file);
    const tables = new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name));
    const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
    if (schemaVersion === 0 || missing.length > 0) {
      throw new StoreError(`${file} is not an ai-monitor database (${schemaVersion === 0 ? 'no schema version' : `missing tables: ${missing.join(', ')}`})`);
    }
    const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    const range = db.prepare('SELECT min(ts) AS oldest, max(ts) AS newest FROM interactions').get() as { oldest: number | null; newest: number | null };
    return {
      file,
      bytes: statSync(file).size,
      schemaVersion,
      supportedVersion: SQLITE_SCHEMA_VERSION,
      integrity: opts.integrity === false ? 'not checked' : integrityOf(db),
      interactions: count('SELECT count(*) AS n FROM interactions'),
      sessions: count('SELECT count(*) AS n FROM sessions'),
      alerts: count('SELECT count(*) AS n FROM alerts'),
      oldest: range.oldest,
      newest: range.newest,
    };
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`${file} cannot be read as a database: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

function readVersion(db: Database.Database, file: string): number {
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } catch (err) {
    throw new StoreError(`${file} is not a SQLite database: ${(err as Error).message}`);
  }
}

function integrityOf(db: Database.Database): string {
  const rows = db.pragma('integrity_check') as { integrity_check: string }[];
  const problems = rows.map((r) => r.integrity_check);
  return problems.length === 1 && problems[0] === 'ok' ? 'ok' : problems.slice(0, 5).join('; ');
}

/**
 * Refuses a database written by a newer ai-monitor, with the store's own migration message.
 * An older one is fine: the server upgrades it at start.
 */
export async function assertNotNewer(file: string): Promise<void> {
  const store = new SqliteStore({ file, readonly: true });
  try {
    const version = store.db.pragma('user_version', { simple: true }) as number;
    // At or above this build's version, migrate() is a no-op or the refusal we want.
    if (version >= SQLITE_SCHEMA_VERSION) await store.migrate();
  } finally {
    await store.close();
  }
}

/**
 * Opens the database read-only for queries through the Store interface. A database that needs
 * migrating cannot be read this way (migrating writes), so that is refused with what to do.
 */
export async function openReadOnlyStore(file: string): Promise<SqliteStore> {
  if (!existsSync(file)) throw new StoreError(`no database at ${file}: check --data-dir / AI_MONITOR_DATA_DIR`);
  const store = new SqliteStore({ file, readonly: true });
  try {
    const version = store.db.pragma('user_version', { simple: true }) as number;
    if (version === 0) throw new StoreError(`${file} is not an ai-monitor database (no schema version)`);
    if (version < SQLITE_SCHEMA_VERSION) {
      throw new StoreError(
        `${file} has schema version ${version}; this ai-monitor reads version ${SQLITE_SCHEMA_VERSION}. ` +
          `Start the server on it once ("ai-monitor serve") to upgrade it, or query a running server with --url`,
      );
    }
    await store.migrate();
    return store;
  } catch (err) {
    await store.close();
    throw err;
  }
}

export interface OldRecords {
  interactions: number;
  sessions: number;
  alerts: number;
}

/** What retention would remove at `cutoff` (epoch ms): the same conditions as deleteOlderThan. */
export function countOlderThan(store: SqliteStore, cutoff: number): OldRecords {
  const n = (sql: string): number => (store.db.prepare(sql).get(cutoff) as { n: number }).n;
  return {
    interactions: n('SELECT count(*) AS n FROM interactions WHERE ts < ?'),
    sessions: n('SELECT count(*) AS n FROM sessions WHERE last_ts < ?'),
    alerts: n('SELECT count(*) AS n FROM alerts WHERE raised_at < ?'),
  };
}
