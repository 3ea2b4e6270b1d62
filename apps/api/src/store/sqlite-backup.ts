/**
 * Online backup of the SQLite database with SQLite's backup API (better-sqlite3 `db.backup()`),
 * safe while the server is ingesting: the copy is one consistent snapshot.
 */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inspectDatabase, type DatabaseInfo } from './sqlite-inspect.js';
import { StoreError } from './types.js';

export interface BackupResult {
  file: string;
  pages: number;
  ms: number;
  info: DatabaseInfo;
}

/** The whole database in one backup step. */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies `source` to `dest` (written as `dest.partial`, verified, then renamed), so a crash
 * never leaves a half-written file under the final name.
 *
 * SQLite restarts a stepwise backup whenever another connection writes to the source, which
 * under steady ingest could go on for ever; copying every page in one step holds one read
 * transaction instead, which in WAL mode does not block the server's writes.
 */
export async function backupDatabase(source: string, dest: string): Promise<BackupResult> {
  if (!existsSync(source)) throw new StoreError(`no database at ${source}`);
  const partial = `${dest}.partial`;
  rmSync(partial, { force: true });
  const started = Date.now();
  let db: Database.Database;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true, timeout: 30_000 });
  } catch (err) {
    throw new StoreError(`cannot open ${source}: ${(err as Error).message}`);
  }
  let pages: number;
  try {
    const progress = await db.backup(partial, { progress: () => ALL_PAGES });
    pages = progress.totalPages;
  } catch (err) {
    rmSync(partial, { force: true });
    throw new StoreError(`backup of ${source} failed: ${(err as Error).message}`);
  } finally {
    db.close();
  }
  try {
    finalise(partial);
    const info = inspectDatabase(partial, { readonly: true, integrity: true });
    if (info.integrity !== 'ok') throw new StoreError(`the copy failed its integrity check: ${info.integrity}`);
    renameSync(partial, dest);
    return { file: dest, pages, ms: Date.now() - started, info: { ...info, file: dest } };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/** A copy of a WAL database is marked WAL; marked rollback-journal, opening it leaves no -wal/-shm files. */
function finalise(file: string): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}

/** `backup_YYYYMMDD_HHMMSS.db` in local time, as the seed's `date` names them. */
export function backupName(now: Date = new Date()): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${two(now.getMonth() + 1)}${two(now.getDate())}_${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`;
  return `backup_${stamp}.db`;
}

/** A free path for a new backup in `dir`: a second backup in the same second gets `_2`, `_3`, …. */
export function newBackupPath(dir: string, now: Date = new Date()): string {
  const base = backupName(now).replace(/\.db$/, '');
  let candidate = join(dir, `${base}.db`);
  for (let i = 2; existsSync(candidate); i++) candidate = join(dir, `${base}_${i}.db`);
  return candidate;
}

const BACKUP_FILE = /^backup_\d{8}_\d{6}(_\d+)?\.db$/;

/** Deletes backups in `dir` last modified more than `keepDays` ago, except `keep`; returns their paths. */
export function pruneBackups(dir: string, keepDays: number, keep: string, now = Date.now()): string[] {
  const cutoff = now - keepDays * 86_400_000;
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!BACKUP_FILE.test(name)) continue;
    const path = join(dir, name);
    if (path === keep) continue;
    const stat = statSync(path);
    if (!stat.isFile() || stat.mtimeMs >= cutoff) continue;
    rmSync(path);
    removed.push(path);
  }
  return removed.sort();
}
