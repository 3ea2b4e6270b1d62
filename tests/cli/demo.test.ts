/**
 * `ai-monitor demo` against a real server: the traffic it sends is stored and looks like an
 * assistant's (several assistants, multi-turn sessions, intents, tools with params, errors);
 * both transports; Ctrl-C; bad arguments. The incident schedule is checked on the model itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, gql, startServer, type RunningServer } from '../helpers/server.js';
import { cli, freePort, startCli, storedCount } from './cli-helpers.js';

interface Node {
  sessionId: string;
  intent: string;
  assistant: string | null;
  model: string | null;
  version: string | null;
  success: boolean;
  errorType: string | null;
  responseTimeMs: number;
  toolsUsed: { tool: string; params: Record<string, unknown>; durationMs: number | null }[];
}

let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server.stop();
  server.cleanup();
});

async function allInteractions(): Promise<Node[]> {
  const nodes: Node[] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    const r: Awaited<ReturnType<typeof gql<{ interactions: { edges: { node: Node }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>>> = await gql(
      server,
      `query($after: String) { interactions(first: 50, after: $after) {
        edges { node { sessionId intent assistant model version success errorType responseTimeMs toolsUsed { tool params durationMs } } }
        pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    nodes.push(...r.data.interactions.edges.map((e) => e.node));
    if (!r.data.interactions.pageInfo.hasNextPage) break;
    after = r.data.interactions.pageInfo.endCursor;
  }
  return nodes;
}

describe('ai-monitor demo', () => {
  it('sends realistic traffic over the seed WebSocket that shows up in GraphQL', async () => {
    const before = await storedCount(server);
    const r = await cli(['demo', '--url', server.url, '--count', '400', '--rate', '2000', '--assistants', '3', '--seed', '7']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/demo finished after [\d.]+ s: sent 400 interactions to ws:\/\//);
    expect(r.stdout).toContain('stored 400, rejected 0, lost 0');
    expect(await storedCount(server)).toBe(before + 400);

    const nodes = await allInteractions();
    expect(new Set(nodes.map((n) => n.assistant)).size).toBe(3);
    expect(nodes.every((n) => n.model && n.version)).toBe(true);
    expect(new Set(nodes.map((n) => n.intent)).size).toBeGreaterThanOrEqual(4);
    // Sessions of several turns.
    const turns = new Map<string, number>();
    for (const n of nodes) turns.set(n.sessionId, (turns.get(n.sessionId) ?? 0) + 1);
    expect([...turns.values()].some((t) => t >= 3)).toBe(true);
    // Tool calls with parameters and durations.
    const tools = nodes.flatMap((n) => n.toolsUsed);
    expect(tools.length).toBeGreaterThan(100);
    expect(tools.every((t) => typeof t.durationMs === 'number' && Object.keys(t.params).length > 0)).toBe(true);
    // A long tail: the slowest response is many times the median.
    const times = nodes.map((n) => n.responseTimeMs).sort((a, b) => a - b);
    expect(times[times.length - 1]!).toBeGreaterThan(5 * times[Math.floor(times.length / 2)]!);
    // Some failures with error types, most interactions fine.
    const failed = nodes.filter((n) => !n.success);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(nodes.length / 5);
    expect(failed.every((n) => typeof n.errorType === 'string' && n.errorType.length > 0)).toBe(true);
  });

  it('sends through HTTP batch ingest with --transport http', async () => {
    const before = await storedCount(server);
    const r = await cli(['demo', '--url', server.url, '--transport', 'http', '--count', '120', '--rate', '1000', '--batch', '25', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('/api/interactions');
    expect(r.stdout).toContain('stored 120, rejected 0, lost 0');
    expect(await storedCount(server)).toBe(before + 120);
  });

  it('prints progress every second and stops cleanly on SIGINT with a summary', async () => {
    const demo = startCli(['demo', '--url', server.url, '--rate', '200']);
    await demo.waitFor(/\d+s\s+sent [\d,]+ \([\d.]+\/s\)\s+stored [\d,]+\s+rejected 0/);
    const code = await demo.stop('SIGINT');
    expect(code).toBe(0);
    const out = demo.output();
    expect(out).toMatch(/demo interrupted after [\d.]+ s: sent [\d,]+ interactions/);
    const sent = Number(/sent ([\d,]+) interactions/.exec(out)![1]!.replaceAll(',', ''));
    expect(out).toContain(`stored ${sent.toLocaleString('en-US')}, rejected 0, lost 0`);
  });

  it('stops after --duration', async () => {
    const r = await cli(['demo', '--url', server.url, '--duration', '1s', '--rate', '50', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/demo finished after [\d.]+ s: sent [\d,]+ interactions/);
  });

  it('fails with exit 1 and a clear message when the server is unreachable', async () => {
    const port = await freePort();
    for (const transport of ['ws', 'http']) {
      const r = await cli(['demo', '--url', `http://127.0.0.1:${port}`, '--count', '5', '--transport', transport]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot (connect to|reach) .*127\.0\.0\.1:\d+.*ECONNREFUSED.*ai-monitor serve/s);
    }
  });

  it.each([
    [['--rate', '0'], /--rate.*must be more than 0/],
    [['--rate', 'fast'], /--rate.*expected a rate such as 10/],
    [['--count', '1.5'], /--count.*whole number/],
    [['--assistants', '9'], /--assistants.*between 1 and 6/],
    [['--duration', '10 parsecs'], /--duration.*expected a duration/],
    [['--transport', 'pigeon'], /--transport.*Allowed choices are ws, http/],
    [['--url', 'ftp://example.org'], /--url: expected an http, https, ws or wss URL/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ])('refuses %j with exit 2', async (args, message) => {
    const r = await cli(['demo', '--count', '1', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('demo traffic model', () => {
  it('puts error bursts and slow spells on a schedule that trips the seed alert rules', async () => {
    const mod = (await import(pathToFileURL(join(REPO_ROOT, 'apps/api/dist/cli/demo-traffic.js')).href)) as typeof import('../../apps/api/src/cli/demo-traffic.js');
    const model = new mod.TrafficModel({ assistants: 6, bursts: true, seed: 42 });
    const rate = 10;
    const byPhase = new Map<string, { n: number; errors: number; slow: number; maxRun: number; run: number }>();
    for (let i = 0; i < 600 * rate; i++) {
      const { record, phase } = model.next(new Date(), i / rate);
      const p = byPhase.get(phase) ?? { n: 0, errors: 0, slow: 0, maxRun: 0, run: 0 };
      p.n += 1;
      if (!record.success) {
        p.errors += 1;
        p.run += 1;
        p.maxRun = Math.max(p.maxRun, p.run);
      } else p.run = 0;
      if (record.response_time_ms > 30_000) p.slow += 1;
      byPhase.set(phase, p);
    }
    const normal = byPhase.get('normal')!;
    const burst = byPhase.get('error burst')!;
    const slow = byPhase.get('slow spell')!;
    // Baseline below the 5 % threshold; bursts far above it, with 3+ failures in a row.
    expect(normal.errors / normal.n).toBeLessThan(0.05);
    expect(burst.errors / burst.n).toBeGreaterThan(0.3);
    expect(burst.maxRun).toBeGreaterThanOrEqual(3);
    // Slow spells: nearly every response above the 30 s threshold (p95 clearly over it).
    expect(slow.slow / slow.n).toBeGreaterThan(0.95);
    expect(normal.slow / normal.n).toBeLessThan(0.02);
    // Each incident lasts a minute of the ten-minute cycle: in any 5-minute window holding
    // one, the share is far above the 5 % the rules need.
    expect(burst.n).toBe(60 * rate);
    expect(slow.n).toBe(60 * rate);
    expect(mod.phaseAt(45, false)).toBe('normal');
  });
});
