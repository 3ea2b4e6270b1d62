/**
 * Running the built `ai-monitor` CLI (and start_monitoring.sh) as child processes: one-shot
 * runs with their exit code and output, long-running ones with output matching, a pseudo-
 * terminal for commands that behave differently on a TTY, and a few GraphQL/ingest helpers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { CLI, gql } from '../helpers/server.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, AI_MONITOR_URL: undefined, AI_MONITOR_TOKEN: undefined };
  for (const [k, v] of Object.entries(extra)) env[k] = v;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

/** Runs a command to completion (bounded by `timeoutMs`). */
export async function run(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const proc = spawn(command, args, { env: childEnv(opts.env), cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const [code] = (await once(proc, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** `ai-monitor <args>` to completion. */
export function cli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], opts);
}

/** A running process whose output can be awaited. */
export interface Running {
  proc: ChildProcess;
  output(): string;
  /** Resolves when the output matches, or rejects after `timeoutMs` with what was printed. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Signals the process (or its group when started detached) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface StartOptions extends RunOptions {
  detached?: boolean;
  /** Keep stdin open as a pipe (`proc.stdin`) to type into the process. */
  stdin?: boolean;
}

export function start(command: string, args: string[], opts: StartOptions = {}): Running {
  const proc = spawn(command, args, { env: childEnv(opts.env), cwd: opts.cwd, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const l of listeners) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const matches = (p: RegExp | string): string | null => {
    if (typeof p === 'string') return out.includes(p) ? p : null;
    return p.exec(out)?.[0] ?? null;
  };
  return {
    proc,
    output: () => out,
    exited,
    waitFor: (pattern, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = matches(pattern);
          if (m === null) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${String(pattern)}; output so far:\n${out}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) {
        try {
          if (opts.detached && proc.pid) process.kill(-proc.pid, signal);
          else proc.kill(signal);
        } catch {
          // already gone
        }
      }
      return exited;
    },
  };
}

export function startCli(args: string[], opts: StartOptions = {}): Running {
  return start(process.execPath, [CLI, ...args], opts);
}

export interface PtyOptions extends StartOptions {
  /** The terminal's width in columns (160 unless told). */
  cols?: number;
}

/**
 * Gives `command <args>` a pseudo-terminal (util-linux `script`, else Python's pty module) of
 * `cols` columns and 40 rows; with `stdin`, what is written to `proc.stdin` is typed into it.
 */
export function startInPty(command: string, args: string[], opts: PtyOptions = {}): Running {
  const cols = opts.cols ?? 160;
  const quoted = [command, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const env = { COLUMNS: String(cols), LINES: '40', ...opts.env };
  const shell = `stty cols ${cols} rows 40; exec ${quoted}`;
  if (spawnSync('script', ['--version']).status === 0) return start('script', ['-qfec', shell, '/dev/null'], { ...opts, env });
  return start('python3', ['-c', 'import pty, sys; pty.spawn(["sh", "-c", sys.argv[1]])', shell], { ...opts, env });
}

/** Gives `ai-monitor <args>` a pseudo-terminal (see startInPty). */
export function startCliInPty(args: string[], opts: PtyOptions = {}): Running {
  return startInPty(process.execPath, [CLI, ...args], opts);
}

export { freePort } from '../helpers/server.js';

/** Polls `check` (bounded by `attempts`) until it returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, attempts = 100, everyMs = 100): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met after ${attempts} attempts`);
}

/** POSTs seed-style (snake_case) records to the server's HTTP ingest. */
export async function ingest(server: { url: string }, records: Record<string, unknown>[]): Promise<{ accepted: number; ids: string[] }> {
  const res = await fetch(`${server.url}/api/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) });
  const body = (await res.json()) as { accepted: number; ids: string[]; rejected: unknown[] };
  if (res.status !== 200 || body.rejected.length > 0) throw new Error(`ingest failed (${res.status}): ${JSON.stringify(body)}`);
  return body;
}

export function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    session_id: 'test-session',
    user_input: 'hello',
    intent: 'chitchat',
    tools_used: [],
    response_time_ms: 100,
    success: true,
    error_type: null,
    ...overrides,
  };
}

/** Interactions stored (all of them, from the roll-ups) over a wide window. */
export async function storedCount(server: { url: string }, window = '400d'): Promise<number> {
  const r = await gql<{ metrics: { count: number } }>(server, `query($w: String) { metrics(window: $w) { count } }`, { w: window });
  if (!r.data) throw new Error(`metrics query failed: ${JSON.stringify(r.errors)}`);
  return r.data.metrics.count;
}

/** True while the process with this PID exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
