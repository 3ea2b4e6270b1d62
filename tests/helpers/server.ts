/**
 * Starts the real server (the built `ai-monitor serve`) as a child process on an ephemeral port
 * with a temporary data directory, and waits for its `listening on` line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { createServer } from 'node:net';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(REPO_ROOT, 'apps/api/dist/cli.js');

export interface ServerOptions {
  /** Reuse a data directory (for restart tests); a fresh temporary one otherwise. */
  dataDir?: string;
  /** Extra CLI arguments after `serve`. */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string | undefined>;
  host?: string;
  port?: number;
}

/** A running server, spawned (this module) or in-process (./app.ts): what tests talk to. */
export interface ServerHandle {
  url: string;
  wsUrl: string;
  port: number;
  host: string;
  dataDir: string;
  /** Everything the server logged so far (the process's stdout and stderr). */
  output(): string;
  /** Graceful stop (SIGTERM for a process) and wait for it. */
  stop(): Promise<void>;
  /** Removes the data directory if it was created here. */
  cleanup(): void;
}

export interface RunningServer extends ServerHandle {
  proc: ChildProcess;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'ai-monitor-test-'));
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? makeDataDir();
  const host = opts.host ?? '127.0.0.1';
  const args = [CLI, 'serve', '--host', host, '--port', String(opts.port ?? 0), '--data-dir', dataDir, ...(opts.args ?? [])];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AI_MONITOR_LOG_LEVEL: process.env.AI_MONITOR_LOG_LEVEL ?? 'info',
    // Naive timestamps in the tests are UTC wall-clock times, whatever the machine's zone.
    AI_MONITOR_NAIVE_TIMEZONE: process.env.AI_MONITOR_NAIVE_TIMEZONE ?? 'UTC',
  };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(proc, 'exit');

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${out}`)), 30_000);
    const onData = (): void => {
      const m = /listening on (https?:\/\/[^\s"]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with code ${code} before listening:\n${out}`));
    });
  });
  const parsed = new URL(url);
  const port = Number(parsed.port);
  const baseHost = host.includes(':') ? `[${host}]` : host;
  const scheme = parsed.protocol === 'https:' ? 'https' : 'http';
  const base = `${scheme}://${baseHost === '0.0.0.0' ? '127.0.0.1' : baseHost}:${port}`;
  const waitExit = async (signal: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    url: base,
    wsUrl: base.replace(/^http/, 'ws'),
    port,
    host,
    dataDir,
    proc,
    output: () => out,
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
    cleanup: () => {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** POSTs a GraphQL operation and returns the parsed JSON body. */
export async function gql<T = Record<string, unknown>>(
  server: { url: string },
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[]; status: number }> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  return { ...body, status: res.status };
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}
