/**
 * `ai-monitor cleanup`: runs retention now (the server also runs it hourly): deletes
 * interactions, their roll-ups, sessions and alerts older than the retention period.
 */
import type { Command } from 'commander';
import { createStore } from '../store/create.js';
import { runRetention } from '../store/retention.js';
import { SqliteStore } from '../store/sqlite.js';
import { countOlderThan, type OldRecords } from '../store/sqlite-inspect.js';
import type { Store } from '../store/types.js';
import { action, configOrExit, EXIT, numberArg, sqliteFile, withDataOptions } from './common.js';
import { formatCount } from './output.js';

interface CleanupFlags {
  dataDir?: string;
  config?: string;
  retentionDays?: number;
  dryRun?: boolean;
}

const DAY_MS = 86_400_000;

export function registerCleanup(program: Command): void {
  withDataOptions(
    program
      .command('cleanup')
      .description('delete data older than the retention period now (interactions, roll-ups, sessions, alerts)'),
  )
    .option('-r, --retention-days <days>', 'keep this many days (env AI_MONITOR_RETENTION_DAYS, default 30)', numberArg(0, 36_500, { exclusiveMin: true }))
    .option('-n, --dry-run', 'only count what would be deleted')
    .addHelpText(
      'after',
      `
Safe while the server is running: deletes in small transactions. The server also does this
every hour with its own retention setting.

Examples:
  ai-monitor cleanup --dry-run
  ai-monitor cleanup --retention-days 7 --data-dir /var/lib/ai-monitor`,
    )
    .action(action('cleanup', (flags: CleanupFlags) => runCleanup(flags)));
}

async function runCleanup(flags: CleanupFlags): Promise<number> {
  const config = configOrExit({ dataDir: flags.dataDir, config: flags.config, retentionDays: flags.retentionDays });
  const file = sqliteFile(config);
  const now = Date.now();
  const cutoff = now - config.retentionDays * DAY_MS;
  const store: Store = await createStore(config);
  try {
    await store.migrate();
    say(`retention ${config.retentionDays} days: data older than ${new Date(cutoff).toISOString()} in ${file}`);
    const old = store instanceof SqliteStore ? countOlderThan(store, cutoff) : null;
    if (old) say(`found ${describe(old)} older than that`);
    if (flags.dryRun) {
      say('dry run: nothing deleted');
      return EXIT.OK;
    }
    const started = Date.now();
    const rows = await runRetention(store, config.retentionDays, { now });
    say(`removed ${formatCount(rows)} rows${old ? ` (${describe(old)}, and their per-minute roll-ups)` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return EXIT.OK;
  } finally {
    await store.close();
  }
}

function describe(o: OldRecords): string {
  return `${formatCount(o.interactions)} interactions, ${formatCount(o.sessions)} sessions, ${formatCount(o.alerts)} alerts`;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
