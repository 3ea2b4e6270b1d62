/**
 * `ai-monitor demo` against a real server: the traffic it sends is stored and looks like an
 * assistant's (several assistants, multi-turn sessions, intents, tools with params, errors);
 * both transports; Ctrl-C; bad arguments. The incident schedule is checked on the model itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InteractionWire } from '@ai-monitor/schema';
import { REPO_ROOT, gql, startServer, type RunningServer } from '../helpers/server.js';
import { cli, freePort, startCli, storedCount } from './cli-helpers.js';

interface Node {
  sessionId: string;
  userInput: string;
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
        edges { node { sessionId userInput intent assistant model version success errorType responseTimeMs toolsUsed { tool params durationMs } } }
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
    // Chinese and English questions; multi-turn sessions are checked on the model (below), as
    // turns of one session are seconds apart and this run lasts a fraction of a second.
    expect(nodes.some((n) => /[\u4e00-\u9fff]/.test(n.userInput))).toBe(true);
    expect(nodes.some((n) => /^[\x20-\x7e]+$/.test(n.userInput))).toBe(true);
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

type TrafficModule = typeof import('../../apps/api/src/cli/demo-traffic.js');
type ScenarioModule = typeof import('../../apps/api/src/cli/demo-scenarios.js');
const load = async <T>(name: string): Promise<T> => (await import(pathToFileURL(join(REPO_ROOT, `apps/api/dist/cli/${name}.js`)).href)) as T;

/** Ten simulated minutes at 10/s, on a simulated clock (no waiting). */
async function simulate(seed: number): Promise<InteractionWire[]> {
  const mod = await load<TrafficModule>('demo-traffic');
  const model = new mod.TrafficModel({ assistants: 6, bursts: false, seed });
  const t0 = Date.UTC(2026, 1, 17, 14, 30);
  const out: InteractionWire[] = [];
  for (let i = 0; i < 6000; i++) out.push(model.next(new Date(t0 + i * 100), i / 10).record);
  return out;
}

describe('demo traffic model', () => {
  it("passes each question's subject to its tools, in English and Chinese", async () => {
    const { SUBJECT_PARAM } = await load<ScenarioModule>('demo-scenarios');
    const records = await simulate(11);
    let checked = 0;
    for (const r of records) {
      for (const call of r.tools_used ?? []) {
        const key = SUBJECT_PARAM[call.tool];
        if (!key || !(key in (call.params ?? {}))) continue;
        // Every word of the subject appears in the question.
        for (const word of String(call.params![key]).split(' ')) expect(r.user_input.toLowerCase(), `${call.tool}.${key}`).toContain(word.toLowerCase());
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(2000);
    // "... in Beijing tomorrow?" asks weather_api for Beijing on the next day.
    const dates = { today: '2026-02-17', tomorrow: '2026-02-18', 'the day after tomorrow': '2026-02-19' } as const;
    const weather = records.filter((r) => r.intent === 'weather' && r.user_input.includes(' in Beijing '));
    expect(weather.length).toBeGreaterThan(0);
    for (const r of weather) {
      const day = / in Beijing (.+)\?$/.exec(r.user_input)![1] as keyof typeof dates;
      expect(r.tools_used?.[0]).toMatchObject({ tool: 'weather_api', params: { city: 'Beijing', date: dates[day] } });
    }
    const chinese = records.filter((r) => /[\u4e00-\u9fff]/.test(r.user_input));
    expect(chinese.length / records.length).toBeGreaterThan(0.3);
    expect(chinese.some((r) => r.tools_used?.some((t) => t.tool === 'weather_api' && /[\u4e00-\u9fff]/.test(String(t.params?.city))))).toBe(true);
  });

  it("starts a session's next turn only after the previous one finished plus think time", async () => {
    const { THINK_MS } = await load<TrafficModule>('demo-traffic');
    const records = await simulate(5);
    const bySession = new Map<string, InteractionWire[]>();
    for (const r of records) bySession.set(r.session_id, [...(bySession.get(r.session_id) ?? []), r]);
    const multi = [...bySession.values()].filter((turns) => turns.length >= 3);
    expect(multi.length).toBeGreaterThan(50);
    let gaps = 0;
    for (const turns of bySession.values()) {
      for (let k = 1; k < turns.length; k++) {
        const prev = turns[k - 1]!;
        const gap = Date.parse(String(turns[k]!.timestamp)) - Date.parse(String(prev.timestamp));
        expect(gap).toBeGreaterThanOrEqual(prev.response_time_ms + THINK_MS.min);
        gaps++;
      }
    }
    expect(gaps).toBeGreaterThan(1000);
  });

  it('rates some answers on the 1-5 feedback scale', async () => {
    const scores = (await simulate(9)).flatMap((r) => (r.feedback_score == null ? [] : [r.feedback_score]));
    expect(scores.length).toBeGreaterThan(100);
    expect(scores.every((s) => Number.isInteger(s) && s >= 1 && s <= 5)).toBe(true);
    expect(new Set(scores).size).toBe(5);
  });

  it('puts error bursts and slow spells on a schedule that trips the seed alert rules', async () => {
    const mod = await load<TrafficModule>('demo-traffic');
    const model = new mod.TrafficModel({ assistants: 6, bursts: true, seed: 42 });
    const rate = 10;
    const byPhase = new Map<string, { n: number; errors: number; slow: number; maxRun: number; run: number }>();
    const t0 = Date.now();
    for (let i = 0; i < 600 * rate; i++) {
      const { record, phase } = model.next(new Date(t0 + (i * 1000) / rate), i / rate);
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
