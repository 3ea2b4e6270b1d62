/** Options and helpers shared by the CLI commands. */
import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config/load.js';

export interface CommonFlags {
  dataDir?: string;
  config?: string;
}

/** Adds --data-dir and --config, which every command that touches data accepts. */
export function withDataOptions(cmd: Command): Command {
  return cmd
    .option('-d, --data-dir <dir>', 'data directory holding realtime_monitoring.db and alert_config.json (env AI_MONITOR_DATA_DIR)')
    .option('-c, --config <file>', 'JSON config file (env AI_MONITOR_CONFIG)');
}

/** Loads configuration or exits 2 with the reason. */
export function configOrExit(flags: Record<string, unknown>): Config {
  try {
    return loadConfig({ flags });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ai-monitor: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

export function fail(message: string, code = 1): never {
  process.stderr.write(`ai-monitor: ${message}\n`);
  process.exit(code);
}
