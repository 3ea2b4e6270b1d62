/** Options, argument parsers, exit codes and error reporting shared by the CLI commands. */
import { InvalidArgumentError, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config/load.js';
import { InvalidRangeError, parseDuration } from '../metrics/window.js';
import { StoreError } from '../store/types.js';

/** Exit codes scripts can rely on (documented in `ai-monitor --help`). */
export const EXIT = {
  OK: 0,
  /** Something failed while doing the work: server unreachable, database busy, backup invalid. */
  FAILURE: 1,
  /** The command line or the configuration is wrong; nothing was done. */
  USAGE: 2,
} as const;

/** A problem with the command line or configuration: exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The work could not be done: exit 1. The message says what to do about it. */
export class CliFailure extends Error {
  override name = 'CliFailure';
}

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
      process.exit(EXIT.USAGE);
    }
    throw err;
  }
}

/** The configuration's SQLite file, which must exist (a wrong --data-dir is a usage error). */
export function sqliteFile(config: Config): string {
  if (config.storage !== 'sqlite') {
    throw new UsageError('storage is "postgres": this command works on the SQLite file; use PostgreSQL\'s own tools (pg_dump, pg_restore) or query a running server with --url');
  }
  if (!existsSync(config.dbFile)) throw new UsageError(`no database at ${config.dbFile}: check --data-dir / AI_MONITOR_DATA_DIR`);
  return config.dbFile;
}

export function fail(message: string, code: number = EXIT.FAILURE): never {
  process.stderr.write(`ai-monitor: ${message}\n`);
  process.exit(code);
}

/** Exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof InvalidRangeError) return EXIT.USAGE;
  return EXIT.FAILURE;
}

/**
 * Wraps a command's action: its result is the exit code; a thrown error is printed as
 * `ai-monitor <command>: message` on stderr with exit code 2 (usage) or 1 (failure).
 * Unexpected errors also print their stack when AI_MONITOR_DEBUG is set.
 */
export function action<A extends unknown[]>(name: string, fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code: number;
    try {
      code = await fn(...args);
    } catch (err) {
      const known = err instanceof UsageError || err instanceof CliFailure || err instanceof ConfigError || err instanceof InvalidRangeError || err instanceof StoreError;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`ai-monitor ${name}: ${message}\n`);
      if (!known && process.env.AI_MONITOR_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
      code = exitCodeOf(err);
    }
    process.exit(code);
  };
}

// ---- argument parsers for commander's `.argParser` (they throw InvalidArgumentError → exit 2) ----

export function intArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value.trim());
    if (value.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function numberArg(min: number, max: number, opts: { exclusiveMin?: boolean } = {}): (value: string) => number {
  return (value) => {
    const n = Number(value.trim());
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
    if ((opts.exclusiveMin ? n <= min : n < min) || n > max) {
      throw new InvalidArgumentError(`must be ${opts.exclusiveMin ? 'more than' : 'at least'} ${min} and at most ${max}, got ${n}`);
    }
    return n;
  };
}

/** A duration such as 30s, 5m, 1h, 7d, in milliseconds. */
export function durationArg(value: string): number {
  try {
    return parseDuration(value, 'duration');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message.replace(/^duration: /, ''));
  }
}

/** A window such as 5m or 24h, kept as text (the server parses it too) but checked here. */
export function windowArg(value: string): string {
  durationArg(value);
  return value.trim();
}

/** A rate such as `50`, `50/s`, `600/m`, in interactions per second. */
export function rateArg(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m|min|h))?\s*$/i.exec(value);
  if (!m) throw new InvalidArgumentError(`expected a rate such as 10, 10/s or 600/m, got "${value}"`);
  const per = { s: 1, m: 60, min: 60, h: 3600 }[(m[2] ?? 's').toLowerCase() as 's' | 'm' | 'min' | 'h'];
  const rate = Number(m[1]) / per;
  if (!(rate > 0) || rate > 100_000) throw new InvalidArgumentError(`must be more than 0 and at most 100000/s, got "${value}"`);
  return rate;
}

/** The token for the server: --token, else AI_MONITOR_TOKEN. */
export function tokenOf(flag: string | undefined): string | undefined {
  const t = flag ?? process.env.AI_MONITOR_TOKEN;
  return t && t.trim() !== '' ? t.trim() : undefined;
}
