/**
 * `ai-monitor backup`: online backup of the SQLite database to
 * BACKUP_DIR/backup_YYYYMMDD_HHMMSS.db, verified, with old backups pruned (the seed's backup.sh).
 */
import type { Command } from 'commander';
import { mkdirSync, statSync } from 'node:fs';
import { backupDatabase, newBackupPath, pruneBackups } from '../store/sqlite-backup.js';
import type { DatabaseInfo } from '../store/sqlite-inspect.js';
import { action, CliFailure, configOrExit, EXIT, intArg, sqliteFile, withDataOptions } from './common.js';
import { formatCount } from './output.js';

interface BackupFlags {
  dataDir?: string;
  config?: string;
  dir: string;
  keepDays: number;
}

export function registerBackup(program: Command): void {
  withDataOptions(
    program
      .command('backup')
      .description('online backup of the SQLite database, safe while the server is running; verifies it and deletes old backups'),
  )
    .option('-o, --dir <dir>', 'where backups go', 'backups')
    .option('-k, --keep-days <n>', 'delete backups in --dir older than this many days', intArg(0, 36_500), 30)
    .addHelpText(
      'after',
      `
Writes DIR/backup_YYYYMMDD_HHMMSS.db (local time) with SQLite's online backup API: one
consistent snapshot, even while interactions are being written. The copy is checked
(integrity_check, record counts) before it gets its final name. Restore it with
"ai-monitor restore <file>". Daily at 02:00 from cron: see infra/backup.cron.

Examples:
  ai-monitor backup
  ai-monitor backup --data-dir /var/lib/ai-monitor --dir /backups/ai-monitor --keep-days 30`,
    )
    .action(action('backup', (flags: BackupFlags) => runBackup(flags)));
}

async function runBackup(flags: BackupFlags): Promise<number> {
  const config = configOrExit({ dataDir: flags.dataDir, config: flags.config });
  const source = sqliteFile(config);
  try {
    mkdirSync(flags.dir, { recursive: true });
  } catch (err) {
    throw new CliFailure(`cannot create the backup directory ${flags.dir}: ${(err as Error).message}`);
  }
  const dest = newBackupPath(flags.dir);
  say(`backing up ${source} (${megabytes(statSync(source).size)}) to ${dest} …`);
  const result = await backupDatabase(source, dest);
  say(`backup written: ${dest} (${megabytes(result.info.bytes)}, ${formatCount(result.pages)} pages, ${(result.ms / 1000).toFixed(1)} s)`);
  say(`verified: integrity ${result.info.integrity}, schema v${result.info.schemaVersion}, ${describeContents(result.info)}`);
  const removed = pruneBackups(flags.dir, flags.keepDays, dest);
  say(removed.length === 0 ? `no backups older than ${flags.keepDays} days to delete` : `deleted ${removed.length} backup(s) older than ${flags.keepDays} days: ${removed.join(', ')}`);
  return EXIT.OK;
}

export function describeContents(info: DatabaseInfo): string {
  const span = info.oldest !== null && info.newest !== null ? ` from ${new Date(info.oldest).toISOString()} to ${new Date(info.newest).toISOString()}` : '';
  return `${formatCount(info.interactions)} interactions${span}, ${formatCount(info.sessions)} sessions, ${formatCount(info.alerts)} alerts`;
}

export function megabytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
