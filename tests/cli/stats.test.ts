/**
 * `ai-monitor stats` over known records: against a running server (GraphQL) and straight from
 * the data directory (read-only, with the server running and after it stopped) — same figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server.js';
import { cli, freePort, ingest, record } from './cli-helpers.js';

interface Report {
  source: string;
  window: string;
  metrics: { count: number; errors: number; errorRate: number; p50: number; p95: number; p99: number; throughputPerSecond: number; activeSessions: number };
  intents: { intent: string; count: number; errors: number }[];
  tools: { tool: string; calls: number; errors: number; meanDurationMs: number }[];
  errorTypes: { errorType: string; count: number }[];
}

let server: RunningServer;
const scratch = mkdtempSync(join(tmpdir(), 'ai-monitor-stats-'));

beforeAll(async () => {
  server = await startServer();
  const search = (i: number) => record({ session_id: `s${i % 3}`, intent: 'search', response_time_ms: 100 * (i + 1), tools_used: [{ tool: 'web_search', params: { q: i }, duration_ms: 50 }] });
  await ingest(server, [
    ...Array.from({ length: 6 }, (_, i) => search(i)),
    record({ session_id: 's3', intent: 'code', response_time_ms: 2000, success: false, error_type: 'timeout', tools_used: [{ tool: 'code_interpreter', params: {}, duration_ms: 1500, success: false }] }),
    record({ session_id: 's3', intent: 'code', response_time_ms: 800, success: false, error_type: 'timeout' }),
    record({ session_id: 's4', intent: 'translate', response_time_ms: 300, success: false, error_type: 'rate_limit' }),
    record({ session_id: 's4', intent: 'translate', response_time_ms: 400 }),
  ]);
});

afterAll(async () => {
  await server.stop();
  server.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

function expectKnownFigures(r: Report): void {
  expect(r.metrics.count).toBe(10);
  expect(r.metrics.errors).toBe(3);
  expect(r.metrics.errorRate).toBeCloseTo(30, 5);
  expect(r.metrics.activeSessions).toBe(5);
  expect(r.metrics.p50).toBeGreaterThan(300);
  expect(r.metrics.p99).toBeGreaterThan(1500);
  expect(r.intents.map((i) => [i.intent, i.count, i.errors])).toEqual([
    ['search', 6, 0],
    ['code', 2, 2],
    ['translate', 2, 1],
  ]);
  expect(r.tools.find((t) => t.tool === 'web_search')).toMatchObject({ calls: 6, errors: 0, meanDurationMs: 50 });
  expect(r.tools.find((t) => t.tool === 'code_interpreter')).toMatchObject({ calls: 1, errors: 1 });
  expect(r.errorTypes.map((e) => [e.errorType, e.count])).toEqual([
    ['timeout', 2],
    ['rate_limit', 1],
  ]);
}

describe('ai-monitor stats', () => {
  it('summarises a running server through GraphQL', async () => {
    const r = await cli(['stats', '--url', server.url, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.source).toBe(server.url);
    expect(report.window).toBe('1h');
    expectKnownFigures(report);
  });

  it('prints a readable table', async () => {
    const r = await cli(['stats', '--url', server.url, '--window', '24h', '--top', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`last 24h`);
    expect(r.stdout).toMatch(/interactions\s+10\n/);
    expect(r.stdout).toMatch(/error rate\s+30\.0 %/);
    expect(r.stdout).toMatch(/active sessions\s+5/);
    expect(r.stdout).toMatch(/Top intents\nintent\s+count\s+errors\s+error rate\s+mean time/);
    expect(r.stdout).toMatch(/search\s+6\s+0\s+0\.00 %/);
    expect(r.stdout).not.toMatch(/^translate/m); // --top 2
    expect(r.stdout).toContain('Tools');
    expect(r.stdout).toMatch(/Error types[\s\S]*timeout\s+2/);
  });

  it('reads the data directory directly, while the server runs, with the same figures', async () => {
    const r = await cli(['stats', '--data-dir', server.dataDir, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.source).toBe(join(server.dataDir, 'realtime_monitoring.db'));
    expectKnownFigures(report);
  });

  it('reads a data directory with no server, and refuses a database from a newer version', async () => {
    const dir = join(scratch, 'copy');
    const r0 = await cli(['backup', '--data-dir', server.dataDir, '--dir', dir]);
    expect(r0.code).toBe(0);
    const backup = /backup written: (\S+)/.exec(r0.stdout)![1]!;
    const dataDir = join(scratch, 'offline');
    await cli(['restore', backup, '--data-dir', dataDir]);
    const r = await cli(['stats', '--data-dir', dataDir, '--json']);
    expect(r.code).toBe(0);
    expectKnownFigures(JSON.parse(r.stdout) as Report);

    const newer = join(scratch, 'newer');
    const db = join(newer, 'realtime_monitoring.db');
    await cli(['restore', backup, '--data-dir', newer]);
    const handle = new Database(db);
    handle.pragma('user_version = 99');
    handle.close();
    const r2 = await cli(['stats', '--data-dir', newer]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/schema version 99, newer than this ai-monitor supports/);
  });

  it('fails with exit 1 when the server is unreachable', async () => {
    const port = await freePort();
    const r = await cli(['stats', '--url', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the server at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('refuses a data directory without a database and a file that is not one', async () => {
    const r = await cli(['stats', '--data-dir', join(scratch, 'nothing-here')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no database at .*nothing-here.*realtime_monitoring\.db: check --data-dir/);
    const junk = join(scratch, 'junk');
    mkdirSync(junk);
    writeFileSync(join(junk, 'realtime_monitoring.db'), 'this is not a database at all, just text');
    const r2 = await cli(['stats', '--data-dir', junk]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/ai-monitor stats: .*(not a database|not an ai-monitor database)/);
  });

  it.each([
    [['--window', '5 minutes'], /--window.*expected a duration/],
    [['--window', '9999d'], /--window.*at most 400d/],
    [['--top', 'ten'], /--top.*whole number/],
    [['--url', 'http://127.0.0.1:9', '--data-dir', '/tmp'], /either --url .* or --data-dir/],
    [['--verbose'], /unknown option '--verbose'/],
  ])('refuses %j with exit 2', async (args, message) => {
    const r = await cli(['stats', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
