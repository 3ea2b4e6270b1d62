/**
 * A newcomer's first commands, in a fresh clone of the current commit: `npm install` (no
 * engine warnings), `npx ai-monitor` before the build (says to build, exit 2), `npm run build`,
 * `npx ai-monitor --help`; again after the build output is restored from turbo's cache; then
 * `npm start` serves, stores an interaction and answers GraphQL.
 *
 * Slow: one real install for the whole file (better-sqlite3 compiles from source: a minute on
 * an idle machine, many more on a busy one, hence the wide bounds).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { REPO_ROOT } from '../helpers/server.js';
import { eventually, start } from '../cli/cli-helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'ai-monitor-clone-'));
const clone = join(scratch, 'ai-monitor');
const started: number[] = [];

afterAll(async () => {
  // Each command ran in its own process group: stop whatever of it is left.
  for (const pid of started) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group has ended
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * The environment of a user's shell: without what the test runner's npm added (npm_* settings,
 * this checkout's node_modules/.bin on PATH), so nothing here leaks into the clone.
 */
function userEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(process.env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD' || key.startsWith('AI_MONITOR_') || key.startsWith('TURBO_')) env[key] = undefined;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules/.bin'))
    .join(delimiter);
  return env;
}

interface Outcome {
  code: number | string;
  /** stdout and stderr, interleaved. */
  output: string;
}

/**
 * Runs a command in the clone in its own process group, so that a bound reached also stops
 * what it started (the compiler under npm install).
 */
async function inClone(command: string, args: string[], timeoutMs: number): Promise<Outcome> {
  const proc = start(command, args, { cwd: clone, env: userEnv(), detached: true });
  started.push(proc.proc.pid!);
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const code = await Promise.race([proc.exited, bound]);
  clearTimeout(timer);
  if (code === 'timeout') await proc.stop('SIGKILL');
  return { code, output: proc.output() };
}

function describeRun(r: Outcome): string {
  return `exit ${r.code}\n--- output\n${r.output.slice(-6000)}`;
}

describe('a fresh clone', () => {
  it(
    'installs without engine warnings, builds, runs npx ai-monitor (also after a rebuild) and npm start',
    async () => {
      const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim();
      expect(head).toMatch(/^[0-9a-f]{40}$/);
      const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', '--no-checkout', REPO_ROOT, clone], { encoding: 'utf8' });
      expect(cloned.status, cloned.stderr).toBe(0);
      const checkout = spawnSync('git', ['checkout', '--quiet', '--detach', head], { cwd: clone, encoding: 'utf8' });
      expect(checkout.status, checkout.stderr).toBe(0);

      // From npm's cache only (this checkout's own install filled it): the test sends nothing off the machine.
      const install = await inClone('npm', ['install', '--offline', '--no-audit', '--no-fund'], 1_200_000);
      expect(install.code, describeRun(install)).toBe(0);
      expect(install.output).not.toMatch(/EBADENGINE/);

      // Linked at install time, before any build: it says what to do.
      const early = await inClone('npx', ['ai-monitor', '--help'], 180_000);
      expect(early.code, describeRun(early)).toBe(2);
      expect(early.output).toContain('run "npm run build" first');

      const build = await inClone('npm', ['run', 'build'], 600_000);
      expect(build.code, describeRun(build)).toBe(0);
      const help = await inClone('npx', ['ai-monitor', '--help'], 180_000);
      expect(help.code, describeRun(help)).toBe(0);
      expect(help.output).toContain('Usage: ai-monitor');

      // Build output restored from turbo's cache (as after any rebuild): still runs.
      rmSync(join(clone, 'apps/api/dist'), { recursive: true, force: true });
      const rebuild = await inClone('npm', ['run', 'build'], 600_000);
      expect(rebuild.code, describeRun(rebuild)).toBe(0);
      const again = await inClone('npx', ['ai-monitor', 'stats', '--help'], 180_000);
      expect(again.code, describeRun(again)).toBe(0);
      expect(again.output).toContain('Usage: ai-monitor stats');

      // The README's first command, on an ephemeral loopback port.
      const server = start('npm', ['start'], {
        cwd: clone,
        detached: true,
        env: { ...userEnv(), AI_MONITOR_HOST: '127.0.0.1', AI_MONITOR_PORT: '0', AI_MONITOR_LOG_LEVEL: 'info' },
      });
      started.push(server.proc.pid!);
      try {
        const url = (await server.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/, 180_000)).replace('listening on ', '');
        const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
        expect(health.status).toBe('healthy');
        const ingest = await fetch(`${url}/api/interactions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ session_id: 'fresh-clone', user_input: 'first hour', intent: 'onboarding', response_time_ms: 120, success: true }),
        });
        expect(ingest.status).toBe(200);
        const stored = await eventually(async () => {
          const res = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1' },
            body: JSON.stringify({ query: '{ interactions(first: 5) { edges { node { sessionId userInput } } } }' }),
          });
          const body = (await res.json()) as { data?: { interactions: { edges: { node: { sessionId: string; userInput: string } }[] } } };
          const nodes = body.data?.interactions.edges.map((e) => e.node) ?? [];
          return nodes.length > 0 ? nodes : undefined;
        }, 50);
        expect(stored).toEqual([{ sessionId: 'fresh-clone', userInput: 'first hour' }]);
      } finally {
        // npm start runs a shell and node: signal the whole group.
        process.kill(-server.proc.pid!, 'SIGTERM');
        await Promise.race([server.exited, new Promise((r) => setTimeout(r, 20_000))]);
      }
    },
    2_400_000,
  );
});
