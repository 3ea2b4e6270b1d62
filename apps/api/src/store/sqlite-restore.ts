/**
 * Putting a backup in place of the live SQLite file: only when no process has the database
 * open, keeping the current file (and its WAL) under a `.before-restore-<ts>` name.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError } from './types.js';

/** Another process (a running server) has the database open. */
export class DatabaseInUseError extends StoreError {
  override name = 'DatabaseInUseError';
}

/** The current database cannot be opened as SQLite at all (e.g. corrupt). */
export class DatabaseUnreadableError extends StoreError {
  override name = 'DatabaseUnreadableError';
}

const SIDE_FILES = ['-wal', '-shm', '-journal'] as const;

/**
 * Folds the WAL into the main file and switches it to rollback-journal mode. Leaving WAL mode
 * needs an exclusive lock, which SQLite refuses while any other connection is open — so
 * success proves that no server is using the file, and leaves one self-contained file.
 */
export function releaseDatabase(file: string): void {
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true, timeout: 0 });
  } catch (err) {
    throw new DatabaseUnreadableError(`cannot open ${file}: ${(err as Error).message}`);
  }
  try {
    db.pragma('journal_mode = DELETE');
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new DatabaseInUseError(`${file} is in use by another process (a running ai-monitor server?)`);
    }
    throw new DatabaseUnreadableError(`cannot use ${file}: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

/** Copies a backup (and a WAL beside it, if any) to `staged`, as one rollback-journal file. */
export function stageBackup(backup: string, staged: string): void {
  mkdirSync(dirname(staged), { recursive: true });
  discard(staged);
  copyFileSync(backup, staged);
  if (existsSync(`${backup}-wal`)) copyFileSync(`${backup}-wal`, `${staged}-wal`);
  try {
    releaseDatabase(staged);
  } catch (err) {
    discard(staged);
    if (err instanceof StoreError) throw new StoreError(`${backup} is not a usable SQLite database: ${err.message.replace(`${staged}`, 'the copy')}`);
    throw err;
  }
}

/** Moves `file` and its side files to `dest` (and `dest-wal`, …), keeping them paired. */
export function moveDatabase(file: string, dest: string): void {
  renameSync(file, dest);
  for (const side of SIDE_FILES) if (existsSync(`${file}${side}`)) renameSync(`${file}${side}`, `${dest}${side}`);
}

/** Removes a database file and its side files. */
export function discard(file: string): void {
  rmSync(file, { force: true });
  for (const side of SIDE_FILES) rmSync(`${file}${side}`, { force: true });
}
