/** Configuration precedence and validation, through the real CLI. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, makeDataDir, startServer } from '../helpers/server.js';

function serveFails(args: string[], env: Record<string, string> = {}): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'serve', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stderr: `${r.stderr}${r.stdout}` };
}

describe('configuration', () => {
  it('flags override environment, which overrides the config file', async () => {
    const dir = makeDataDir();
    const file = join(dir, 'ai-monitor.json');
    writeFileSync(file, JSON.stringify({ host: '127.0.0.1', port: 1, userInputMaxLength: 10 }));
    // The file says port 1 and the environment 2; the flag (0 = any free port) wins.
    const s = await startServer({ dataDir: dir, args: ['--config', file], env: { AI_MONITOR_PORT: '2', AI_MONITOR_USER_INPUT_MAX_LENGTH: '5' } });
    expect(s.port).toBeGreaterThan(2);
    const res = await fetch(`${s.url}/api/interactions`, {
      method: 'POST',
      body: JSON.stringify({ session_id: 's', user_input: 'abcdefghijkl', intent: 'i', response_time_ms: 1, success: true }),
    });
    const id = ((await res.json()) as { ids: string[] }).ids[0];
    const q = await fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ interaction(id: "${id}") { userInput } }` }),
    });
    // The environment's truncation (5) beats the file's (10).
    expect(((await q.json()) as { data: { interaction: { userInput: string } } }).data.interaction.userInput).toBe('abcde');
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects bad values with a message naming the setting, exit code 2', () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--port', 'eighty'], {}, /port: /],
      [['--port', '70000'], {}, /port: /],
      [[], { AI_MONITOR_RETENTION_DAYS: '-3' }, /retentionDays: must be more than 0/],
      [[], { AI_MONITOR_STORAGE: 'mysql' }, /storage: /],
      [[], { AI_MONITOR_STORAGE: 'postgres' }, /needs databaseUrl \(AI_MONITOR_DATABASE_URL\)/],
      [[], { AI_MONITOR_TLS_CERT: 'cert.pem' }, /must be set together/],
      [['--config', '/nonexistent/ai-monitor.json'], {}, /config file .* does not exist/],
      [[], { AI_MONITOR_HEADERS_TIMEOUT_MS: '5000', AI_MONITOR_REQUEST_TIMEOUT_MS: '1000' }, /headersTimeoutMs \(AI_MONITOR_HEADERS_TIMEOUT_MS, 5000\) must not exceed requestTimeoutMs/],
      [[], { AI_MONITOR_HEADERS_TIMEOUT_MS: '0' }, /headersTimeoutMs: /],
    ];
    for (const [args, env, pattern] of cases) {
      const r = serveFails(['--port', '0', '--host', '127.0.0.1', ...args], env);
      expect(r.code, `${args.join(' ')} ${JSON.stringify(env)}`).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
  });

  it('rejects a broken or unknown config file', () => {
    const dir = makeDataDir();
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"port": 8765,');
    expect(serveFails(['--config', broken]).stderr).toMatch(/is not valid JSON/);
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ prot: 1 }));
    expect(serveFails(['--config', unknown]).stderr).toMatch(/unknown setting "prot"/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says so when the port is taken', async () => {
    const s = await startServer();
    const r = serveFails(['--host', '127.0.0.1', '--port', String(s.port), '--data-dir', makeDataDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    await s.stop();
    s.cleanup();
  });
});
