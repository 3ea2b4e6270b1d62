/** demo, tail and stats against a server that requires tokens: --token / AI_MONITOR_TOKEN. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../helpers/server.js';
import { cli, ingest, record, startCli } from './cli-helpers.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ env: { AI_MONITOR_INGEST_TOKENS: 'ingest-token', AI_MONITOR_READ_TOKENS: 'read-token', AI_MONITOR_ADMIN_TOKENS: 'admin-token' } });
});

afterAll(async () => {
  await server.stop();
  server.cleanup();
});

describe('CLI with tokens', () => {
  it('demo: a missing token fails clearly, a token with ingest scope works on both transports', async () => {
    let r = await cli(['demo', '--url', server.url, '--count', '5', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs a token with ingest access; pass --token or set AI_MONITOR_TOKEN/);
    r = await cli(['demo', '--url', server.url, '--count', '5', '--quiet', '--token', 'ingest-token']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('stored 5, rejected 0, lost 0');
    r = await cli(['demo', '--url', server.url, '--count', '5', '--quiet', '--transport', 'http'], { env: { AI_MONITOR_TOKEN: 'ingest-token' } });
    expect(r.code).toBe(0);
    r = await cli(['demo', '--url', server.url, '--count', '5', '--quiet', '--transport', 'http', '--token', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the records \(HTTP 401.*check --token \/ AI_MONITOR_TOKEN/);
  });

  it('stats: needs a token with read scope', async () => {
    let r = await cli(['stats', '--url', server.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/scope read.*pass a token with read access via --token or AI_MONITOR_TOKEN/);
    r = await cli(['stats', '--url', server.url, '--json'], { env: { AI_MONITOR_TOKEN: 'read-token' } });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { metrics: { count: number } }).metrics.count).toBeGreaterThanOrEqual(10);
  });

  it('tail: a wrong token fails at once, a read token streams', async () => {
    const r = await cli(['tail', '--url', server.url, '--token', 'wrong']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ai-monitor tail: .*token/i);
    const tail = startCli(['tail', '--url', server.url, '--token', 'read-token', '--count', '1', '--json', '--status-every', '0s']);
    try {
      await tail.waitFor('tailing');
      for (let i = 0; i < 30 && tail.proc.exitCode === null; i++) {
        await fetch(`${server.url}/api/interactions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer ingest-token' },
          body: JSON.stringify([record({ user_input: 'token marker' })]),
        });
        await Promise.race([tail.exited, new Promise((res) => setTimeout(res, 300))]);
      }
      expect(await tail.exited).toBe(0);
      expect(tail.output()).toContain('token marker');
    } finally {
      await tail.stop('SIGKILL');
    }
  });

  it('the server really refuses ingest without a token', async () => {
    await expect(ingest(server, [record()])).rejects.toThrow(/401/);
  });
});
