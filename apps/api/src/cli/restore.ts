/**
 * `ai-monitor restore <file>`: puts a backup in place of the database, with the server stopped.
 * The backup is copied next to the database, checked, and swapped in; the current database is
 * kept as `realtime_monitoring.db.before-restore-<ts>`.
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { assertNotNewer, inspectDatabase } from '../store/sqlite-inspect.js';
import { DatabaseInUseError, DatabaseUnreadableError, discard, moveDatabase, releaseDatabase, stageBackup } from '../store/sqlite-restore.js';
import { backupName } from '../store/sqlite-backup.js';
import { action, CliFailure, configOrExit, EXIT, UsageError, withDataOptions } from './common.js';
import { describeContents } from './backup.js';

interface RestoreFlags {
  dataDir?: string;
  config?: string;
  force?: boolean;
}

export function registerRestore(program: Command): void {
  withDataOptions(
    program
      .command('restore')
      .description('replace the database with a backup (stop the server first); keeps the current database')
      .argument('<file>', 'backup file, e.g. backups/backup_20260217_020000.db'),
  )
    .option('-f, --force', 'replace a current database that cannot be opened or checked (e.g. corrupt)')
    .addHelpText(
      'after',
      `
Steps: copy the backup next to the database and check it (integrity, ai-monitor schema not
newer than this version); make sure no process has the database open (a running server
makes this fail: stop it first); move the current database to
realtime_monitoring.db.before-restore-<YYYYMMDD_HHMMSS>; put the backup in its place.
Then start the server again; an older schema is upgraded at start.

Examples:
  ai-monitor restore backups/backup_20260217_020000.db
  ai-monitor restore /backups/ai-monitor/backup_20260217_020000.db --data-dir /var/lib/ai-monitor`,
    )
    .action(action('restore', (file: string, flags: RestoreFlags) => runRestore(file, flags)));
}

async function runRestore(file: string, flags: RestoreFlags): Promise<number> {
  const config = configOrExit({ dataDir: flags.dataDir, config: flags.config });
  if (config.storage !== 'sqlite') throw new UsageError('storage is "postgres": restore it with pg_restore; this command restores the SQLite file');
  if (!existsSync(file)) throw new UsageError(`backup file ${file} does not exist`);
  if (!statSync(file).isFile()) throw new UsageError(`backup file ${file} is not a file`);
  const target = config.dbFile;
  const stamp = backupName().slice('backup_'.length, -'.db'.length);
  const staged = `${target}.restore-${stamp}.partial`;

  say(`checking ${file} …`);
  stageBackup(file, staged);
  let info;
  try {
    await assertNotNewer(staged);
    info = inspectDatabase(staged, { readonly: true, integrity: true });
    if (info.integrity !== 'ok') throw new CliFailure(`${file} failed its integrity check: ${info.integrity}`);
  } catch (err) {
    discard(staged);
    throw err instanceof Error ? new CliFailure(err.message.replaceAll(staged, file)) : err;
  }
  say(`backup ok: schema v${info.schemaVersion}, ${describeContents(info)}`);

  const kept = existsSync(target) ? keepCurrent(target, `${target}.before-restore-${stamp}`, flags.force === true, staged) : null;
  moveDatabase(staged, target);
  if (kept) say(`previous database kept as ${kept}`);
  say(`restored ${file} to ${target}`);
  if (info.schemaVersion < info.supportedVersion) say(`its schema (v${info.schemaVersion}) is upgraded to v${info.supportedVersion} when the server starts`);
  say(`start the server: ai-monitor serve${flags.dataDir ? ` --data-dir ${flags.dataDir}` : ''}`);
  return EXIT.OK;
}

/** Proves nothing uses the current database, then moves it (with its WAL) aside. */
function keepCurrent(target: string, keep: string, force: boolean, staged: string): string {
  try {
    releaseDatabase(target);
  } catch (err) {
    if (err instanceof DatabaseInUseError) {
      discard(staged);
      throw new CliFailure(`${err.message}. Stop the server first (Ctrl-C, "systemctl stop ai-monitor" or "./start_monitoring.sh stop"), then run restore again.`);
    }
    if (!(err instanceof DatabaseUnreadableError) || !force) {
      discard(staged);
      throw new CliFailure(`${(err as Error).message}. If no server is using it, run again with --force to replace it anyway (it is kept aside).`);
    }
    say(`current database cannot be opened (${err.message}); replacing it anyway (--force)`);
  }
  moveDatabase(target, keep);
  return keep;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
