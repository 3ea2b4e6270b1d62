/**
 * `ai-monitor stats`: a summary table over a window, from a running server (GraphQL, --url)
 * or straight from the SQLite file (--data-dir / --config), read-only.
 */
import type { Command } from 'commander';
import { action, CliFailure, configOrExit, EXIT, intArg, sqliteFile, tokenOf, UsageError, windowArg, withDataOptions } from './common.js';
import { parseServerUrl, URL_HELP } from './remote.js';
import { formatReport, localReport, remoteReport, type StatsReport } from './stats-report.js';
import { openReadOnlyStore } from '../store/sqlite-inspect.js';

interface StatsFlags {
  url?: string;
  dataDir?: string;
  config?: string;
  window: string;
  top: number;
  json?: boolean;
  token?: string;
}

export function registerStats(program: Command): void {
  withDataOptions(
    program
      .command('stats')
      .description('summary of a time window: count, error rate, p50/p95/p99, throughput, sessions, top intents, tools, error types')
      .option('-u, --url <url>', `${URL_HELP}; the default source`),
  )
    .option('-w, --window <window>', 'time window ending now: 15m, 1h, 24h, 7d', windowArg, '1h')
    .option('--top <n>', 'rows per breakdown', intArg(1, 1000), 5)
    .option('--json', 'print the report as JSON')
    .option('--token <token>', 'token with read access, for --url (env AI_MONITOR_TOKEN)')
    .addHelpText(
      'after',
      `
Source: a running server (--url, default http://127.0.0.1:8765), or, with --data-dir or
--config, the SQLite file itself, opened read-only (works with or without a server running).

Examples:
  ai-monitor stats
  ai-monitor stats --window 24h --top 10
  ai-monitor stats --data-dir /var/lib/ai-monitor --json`,
    )
    .action(action('stats', (flags: StatsFlags) => runStats(flags)));
}

async function runStats(flags: StatsFlags): Promise<number> {
  const local = flags.dataDir !== undefined || flags.config !== undefined;
  if (local && flags.url !== undefined) throw new UsageError('give either --url (a running server) or --data-dir / --config (the database file), not both');
  const report = local ? await fromFile(flags) : await fromServer(flags);
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return EXIT.OK;
}

async function fromServer(flags: StatsFlags): Promise<StatsReport> {
  try {
    return await remoteReport(parseServerUrl(flags.url), flags.window, flags.top, tokenOf(flags.token));
  } catch (err) {
    if (err instanceof CliFailure && err.message.startsWith('cannot reach')) {
      throw new CliFailure(`${err.message} Without a server, read the database with --data-dir.`);
    }
    throw err;
  }
}

async function fromFile(flags: StatsFlags): Promise<StatsReport> {
  const config = configOrExit({ dataDir: flags.dataDir, config: flags.config });
  const store = await openReadOnlyStore(sqliteFile(config));
  try {
    return await localReport(store, config.dbFile, flags.window, flags.top);
  } finally {
    await store.close();
  }
}
