/**
 * Starts the real server in this process: `createApp` from the API's sources (through vitest's
 * TypeScript transform, so no build is needed) on an ephemeral port with a temporary data
 * directory. Same options and the same shape as `startServer` in ./server.ts, so a test switches
 * by changing its import. Tests about the process itself (exit codes, kill -9, memory, crashes
 * under fuzzing) keep the spawned server of ./server.ts.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../apps/api/src/config/load.js';
import type { Logger } from '../../apps/api/src/log/logger.js';
import { createApp, type App, type AppOptions } from '../../apps/api/src/server.js';
import { makeDataDir, type ServerHandle, type ServerOptions } from './server.js';

export { gql, freePort, makeDataDir, REPO_ROOT, type ServerHandle, type ServerOptions } from './server.js';

/** A server running in this process: `startServer`'s shape without the child process. */
export interface RunningApp extends ServerHandle {
  app: App;
  config: Config;
}

/** So a test switches between the two harnesses by its import line alone. */
export type { RunningApp as RunningServer };

/** `serve`'s flags (`--data-dir x` → dataDir), as the CLI hands them to loadConfig. */
function parseFlags(args: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw new Error(`in-process server: unexpected argument "${arg}"; pass flags as --name value`);
    const eq = arg.indexOf('=');
    const name = (eq === -1 ? arg.slice(2) : arg.slice(2, eq)).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`in-process server: flag ${arg} needs a value`);
    flags[name] = value;
  }
  return flags;
}

/** The environment `startServer` gives its child: the test's, UTC for naive times, then the test's overrides. */
function testEnv(overrides: ServerOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AI_MONITOR_LOG_LEVEL: process.env.AI_MONITOR_LOG_LEVEL ?? 'info',
    AI_MONITOR_NAIVE_TIMEZONE: process.env.AI_MONITOR_NAIVE_TIMEZONE ?? 'UTC',
  };
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** JSON log lines into `sink` (what the spawned server prints when not on a terminal), and to the log file when configured. */
function captureLogger(config: Config, sink: (line: string) => void): Logger {
  const capture = new Writable({
    write(chunk: Buffer, _enc, done) {
      sink(chunk.toString());
      done();
    },
  });
  const streams: pino.StreamEntry[] = [{ level: config.logLevel as pino.Level, stream: capture }];
  if (config.logFile) {
    mkdirSync(dirname(config.logFile), { recursive: true });
    streams.push({ level: config.logLevel as pino.Level, stream: pino.destination({ dest: config.logFile, mkdir: true, sync: true }) });
  }
  return pino({ name: 'ai-monitor', level: config.logLevel, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream(streams));
}

export async function startServer(opts: ServerOptions & AppOptions = {}): Promise<RunningApp> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? makeDataDir();
  const host = opts.host ?? '127.0.0.1';
  let out = '';
  const cleanup = (): void => {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let app: App;
  let config: Config;
  let where: { url: string; port: number };
  try {
    const flags = { ...parseFlags(opts.args ?? []), host, port: String(opts.port ?? 0), dataDir };
    config = loadConfig({ flags, env: testEnv(opts.env) });
    const logger = captureLogger(config, (line) => (out += line));
    app = await createApp(config, logger, opts.clock ? { clock: opts.clock } : {});
    try {
      where = await app.start();
    } catch (err) {
      await app.stop();
      throw err;
    }
    logger.info({ storage: config.storage }, `listening on ${where.url}`);
  } catch (err) {
    cleanup();
    // The same words the spawned server's failure carries (its message is in the output there).
    throw new Error(`server did not start: ${(err as Error).message}\n${out}`, { cause: err });
  }
  const baseHost = host.includes(':') ? `[${host}]` : host;
  const scheme = where.url.startsWith('https:') ? 'https' : 'http';
  const base = `${scheme}://${baseHost === '0.0.0.0' ? '127.0.0.1' : baseHost}:${where.port}`;
  let stopped: Promise<void> | null = null;
  return {
    url: base,
    wsUrl: base.replace(/^http/, 'ws'),
    port: where.port,
    host,
    dataDir,
    app,
    config,
    output: () => out,
    stop: () => (stopped ??= app.stop()),
    cleanup,
  };
}
