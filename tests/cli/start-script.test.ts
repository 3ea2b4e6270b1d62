/**
 * start_monitoring.sh, non-interactively: choice 1 starts a server that answers /health and
 * is reused when run again; a port taken by another program is refused clearly; choice 5 runs
 * server + demo + text view and stops what it started; bad choices and settings exit 2.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/server.js';
import { alive, eventually, freePort, run, start, startInPty } from './cli-helpers.js';

const SCRIPT = join(REPO_ROOT, 'start_monitoring.sh');
const scratch = mkdtempSync(join(tmpdir(), 'ai-monitor-script-'));
const pids = new Set<number>();

afterAll(async () => {
  for (const pid of pids) {
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    await eventually(async () => (alive(pid) ? undefined : true), 100, 100).catch(() => process.kill(pid, 'SIGKILL'));
  }
  rmSync(scratch, { recursive: true, force: true });
});

async function settings(name: string): Promise<Record<string, string>> {
  return {
    AI_MONITOR_HOST: '127.0.0.1',
    AI_MONITOR_PORT: String(await freePort()),
    AI_MONITOR_DATA_DIR: join(scratch, name),
    AI_MONITOR_NO_BROWSER: '1',
    AI_MONITOR_LOG_LEVEL: 'warn',
  };
}

function pidOf(env: Record<string, string>): number {
  const pid = Number(readFileSync(join(env.AI_MONITOR_DATA_DIR!, 'ai-monitor.pid'), 'utf8').trim());
  pids.add(pid);
  return pid;
}

async function health(env: Record<string, string>): Promise<{ status: string }> {
  const res = await fetch(`http://127.0.0.1:${env.AI_MONITOR_PORT}/health`);
  return (await res.json()) as { status: string };
}

describe('start_monitoring.sh', () => {
  it('passes bash -n and shellcheck', () => {
    expect(spawnSync('bash', ['-n', SCRIPT]).status).toBe(0);
    const check = spawnSync('shellcheck', ['--version']);
    if (check.status === 0) {
      const r = spawnSync('shellcheck', [SCRIPT], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('choice 1 starts a server answering /health; run again, it reuses it; "stop" stops it', async () => {
    const env = await settings('one');
    const first = await run(SCRIPT, ['1'], { env, timeoutMs: 60_000 });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`starting the ai-monitor server on 127.0.0.1:${env.AI_MONITOR_PORT}`);
    expect(first.stdout).toContain(`dashboard        http://127.0.0.1:${env.AI_MONITOR_PORT}/`);
    const pid = pidOf(env);
    expect(alive(pid)).toBe(true);
    expect((await health(env)).status).toBe('healthy');

    const second = await run(SCRIPT, ['1'], { env, timeoutMs: 60_000 });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('already answers');
    expect(second.stdout).toContain('reusing it');
    expect(second.stdout).not.toContain('starting the ai-monitor server');
    expect(pidOf(env)).toBe(pid);

    const status = await run(SCRIPT, ['status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`ai-monitor is running (pid ${pid})`);

    const stop = await run(SCRIPT, ['stop'], { env, timeoutMs: 30_000 });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`stopping the ai-monitor server (pid ${pid})`);
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(env.AI_MONITOR_DATA_DIR!, 'ai-monitor.pid'))).toBe(false);
    const again = await run(SCRIPT, ['status'], { env });
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('no ai-monitor server answers');
  });

  it('refuses a port taken by another program and suggests AI_MONITOR_PORT', async () => {
    const env = await settings('taken');
    const squatter = createServer((socket) => {
      // Probes may hang up abruptly; that is fine here.
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    });
    squatter.listen(Number(env.AI_MONITOR_PORT), '127.0.0.1');
    await once(squatter, 'listening');
    try {
      const r = await run(SCRIPT, ['1'], { env, timeoutMs: 30_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`port ${env.AI_MONITOR_PORT} is taken by another program .*AI_MONITOR_PORT=`));
      expect(existsSync(join(env.AI_MONITOR_DATA_DIR!, 'ai-monitor.pid'))).toBe(false);
    } finally {
      squatter.close();
    }
  });

  it('choice 5 runs server, demo and text view, and stops them all when it ends', async () => {
    const env = await settings('five');
    const full = start(SCRIPT, ['5', '--status-every', '0s'], { env });
    try {
      await full.waitFor('demo client running', 60_000);
      // The text view shows the demo's traffic.
      await full.waitFor(/\d\d:\d\d:\d\d\.\d{3}\s+[✓✗]/, 30_000);
    } catch (err) {
      await full.stop('SIGKILL');
      throw err;
    }
    const server = pidOf(env);
    const demo = Number(/demo client running \(pid (\d+)/.exec(full.output())![1]);
    pids.add(demo);
    expect(alive(server)).toBe(true);
    expect(alive(demo)).toBe(true);
    expect(full.output()).toContain(`dashboard: http://127.0.0.1:${env.AI_MONITOR_PORT}/`);

    expect(await full.stop('SIGTERM')).toBe(0);
    expect(full.output()).toContain('stopping the ai-monitor server');
    expect(alive(demo)).toBe(false);
    expect(alive(server)).toBe(false);
    // The demo's summary went to its log.
    expect(readFileSync(join(env.AI_MONITOR_DATA_DIR!, 'demo.log'), 'utf8')).toMatch(/demo interrupted after [\d.]+ s: sent [\d,]+ interactions/);
  });

  it('choice 5 leaves running a server it did not start', async () => {
    const env = await settings('five-reuse');
    expect((await run(SCRIPT, ['1'], { env, timeoutMs: 60_000 })).code).toBe(0);
    const server = pidOf(env);
    const full = start(SCRIPT, ['5', '--status-every', '0s'], { env });
    await full.waitFor(/\d\d:\d\d:\d\d\.\d{3}\s+[✓✗]/, 60_000).catch(async (err: unknown) => {
      await full.stop('SIGKILL');
      throw err;
    });
    expect(full.output()).toContain('reusing it');
    expect(await full.stop('SIGTERM')).toBe(0);
    expect(full.output()).not.toContain('stopping the ai-monitor server');
    expect(alive(server)).toBe(true);
    expect((await health(env)).status).toBe('healthy');
    expect((await run(SCRIPT, ['stop'], { env, timeoutMs: 30_000 })).code).toBe(0);
    expect(alive(server)).toBe(false);
  });

  it('shows the menu and runs the choice typed in', async () => {
    const env = await settings('menu');
    const menu = spawnSync(SCRIPT, [], { env: { ...process.env, ...env }, input: '3\nx\nq\n', encoding: 'utf8', timeout: 30_000 });
    expect(menu.status).toBe(0);
    for (const item of ['1) start the monitoring server', '2) start the demo client', '3) open the real-time dashboard', '4) view monitoring data as text', '5) start the full environment (server + demo + dashboard)', 'q) quit']) {
      expect(menu.stdout).toContain(item);
    }
    expect(menu.stdout).toContain(`dashboard: http://127.0.0.1:${env.AI_MONITOR_PORT}/`);
    expect(menu.stderr).toContain('no server answers');
    expect(menu.stderr).toContain("unknown choice 'x'");
  });

  it('in a terminal, "q" ends the script with exit code 0 and the menu is printed once', async () => {
    const env = await settings('quit');
    const menu = startInPty(SCRIPT, [], { env, stdin: true });
    try {
      await menu.waitFor('choice: ', 30_000);
      menu.proc.stdin!.write('q\n');
      // Bounded: a menu printed again would wait for input until killed here.
      const code = await Promise.race([menu.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 30_000))]);
      expect(code, menu.output()).toBe(0);
    } finally {
      await menu.stop('SIGKILL');
    }
    expect(menu.output().split('q) quit')).toHaveLength(2);
    expect(menu.output().split('choice: ')).toHaveLength(2);
  });

  it('choice 4 refuses to start without a server', async () => {
    const env = await settings('four');
    const r = await run(SCRIPT, ['4'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no ai-monitor server answers at http:\/\/127\.0\.0\.1:\d+: start it first/);
  });

  it('exits 2 for an unknown choice or a bad port', async () => {
    const env = await settings('bad');
    let r = await run(SCRIPT, ['9'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown choice '9'");
    r = await run(SCRIPT, ['1'], { env: { ...env, AI_MONITOR_PORT: 'eighty' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("AI_MONITOR_PORT must be a port number from 1 to 65535, got 'eighty'");
  });

  it('prints its usage with --help', async () => {
    const r = await run(SCRIPT, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('start the monitoring server in the background');
    expect(r.stdout).toContain('Exit status');
  });
});
