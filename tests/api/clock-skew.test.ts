/**
 * The seed's users on UTC+8: the Python client run with TZ=Asia/Shanghai, sending naive local
 * timestamps, against (a) a server in Asia/Shanghai, (b) a server in UTC told the zone, and
 * (c) a server in UTC that is not: there the records are recognised as 8 h ahead, stored at
 * their receive time, counted in the live metrics, logged once per client and summarised.
 * Plus the setting's validation and its display in `config check`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI, REPO_ROOT, gql, makeDataDir, startServer, type RunningServer } from '../helpers/server.js';

interface Sent {
  naive_ids: string[];
  utc_id: string;
  sent: string[];
}

const SENDER = join(REPO_ROOT, 'tests/api/seed_local_time_sender.py');

function sendFromShanghai(server: RunningServer): Sent {
  const r = spawnSync('python3', [SENDER, server.wsUrl], {
    env: { ...process.env, TZ: 'Asia/Shanghai', PYTHONPATH: join(REPO_ROOT, 'clients/python') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`sender failed (${r.status}): ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Sent;
}

interface Node {
  id: string;
  timestamp: string;
  receivedAt?: string;
  metadata: Record<string, unknown> | null;
}

const LIVE = `{
  metrics(window: "5m") { count errors }
  intentBreakdown(window: "5m") { intent count }
  timeseries(window: "5m", bucket: "1m") { count }
  clockSkew { records toleranceMs naiveTimezone
    clients { client assistant address records naiveRecords likelyOffset likelyOffsetMs suggestedTimezone } }
  interactions(first: 20) { edges { node { id timestamp metadata } } }
}`;

interface Live {
  metrics: { count: number; errors: number };
  intentBreakdown: { intent: string; count: number }[];
  timeseries: { count: number }[];
  clockSkew: {
    records: number;
    toleranceMs: number;
    naiveTimezone: string;
    clients: { client: string; assistant: string | null; address: string | null; records: number; naiveRecords: number; likelyOffset: string; likelyOffsetMs: number; suggestedTimezone: string | null }[];
  };
  interactions: { edges: { node: Node }[] };
}

async function live(server: RunningServer): Promise<Live> {
  const r = await gql<Live>(server, LIVE);
  expect(r.errors).toBeUndefined();
  return r.data!;
}

/** Every record is in "now": the 5-minute KPIs, breakdowns and chart count all six. */
function expectAllLive(l: Live, sent: Sent, before: number): void {
  expect(l.metrics).toEqual({ count: 6, errors: 1 });
  expect(Object.fromEntries(l.intentBreakdown.map((i) => [i.intent, i.count]))).toEqual({ calendar: 3, summarize: 2, greet: 1 });
  expect(l.timeseries.reduce((n, p) => n + p.count, 0)).toBe(6);
  const byId = new Map(l.interactions.edges.map((e) => [e.node.id, e.node]));
  for (const id of [...sent.naive_ids, sent.utc_id]) {
    const ts = Date.parse(byId.get(id)!.timestamp);
    expect(ts, id).toBeGreaterThanOrEqual(before - 60_000);
    expect(ts, id).toBeLessThanOrEqual(Date.now() + 60_000);
  }
}

const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
});

async function serve(env: Record<string, string | undefined>): Promise<RunningServer> {
  const s = await startServer({ env });
  servers.push(s);
  return s;
}

describe('naive local timestamps from a UTC+8 sender', () => {
  it('(a) a server in Asia/Shanghai reads them in its own zone by default', async () => {
    const server = await serve({ TZ: 'Asia/Shanghai', AI_MONITOR_NAIVE_TIMEZONE: undefined });
    const before = Date.now();
    const sent = sendFromShanghai(server);
    const l = await live(server);
    expectAllLive(l, sent, before);
    expect(l.clockSkew).toMatchObject({ records: 0, naiveTimezone: 'Asia/Shanghai', clients: [] });
    expect(server.output()).not.toContain('clock skew');
  });

  it('(b) a server in UTC with AI_MONITOR_NAIVE_TIMEZONE=Asia/Shanghai reads them right', async () => {
    const server = await serve({ TZ: 'UTC', AI_MONITOR_NAIVE_TIMEZONE: 'Asia/Shanghai' });
    const before = Date.now();
    const sent = sendFromShanghai(server);
    const l = await live(server);
    expectAllLive(l, sent, before);
    expect(l.clockSkew).toMatchObject({ records: 0, naiveTimezone: 'Asia/Shanghai', clients: [] });
  });

  it('(c) a server in UTC without the setting recognises them as 8 h ahead and still counts them now', async () => {
    const server = await serve({ TZ: 'UTC', AI_MONITOR_NAIVE_TIMEZONE: undefined });
    const before = Date.now();
    const sent = sendFromShanghai(server);
    const l = await live(server);
    expectAllLive(l, sent, before);

    // Summarised per client: the SDK's records by assistant, the raw seed socket's by address.
    expect(l.clockSkew.records).toBe(5);
    expect(l.clockSkew.toleranceMs).toBe(300_000);
    expect(l.clockSkew.naiveTimezone).toBe('UTC');
    const clients = Object.fromEntries(l.clockSkew.clients.map((c) => [c.client, c]));
    expect(Object.keys(clients).sort()).toEqual(['address 127.0.0.1', 'assistant shanghai-bot']);
    for (const [name, n] of [['assistant shanghai-bot', 3], ['address 127.0.0.1', 2]] as const) {
      expect(clients[name]).toMatchObject({ records: n, naiveRecords: n, likelyOffset: '+8 h', likelyOffsetMs: 8 * 3_600_000, suggestedTimezone: 'Asia/Shanghai', address: '127.0.0.1' });
    }

    // The sent time is kept beside the record; the SDK's UTC-with-offset record is untouched.
    const byId = new Map(l.interactions.edges.map((e) => [e.node.id, e.node]));
    sent.naive_ids.forEach((id, i) => {
      const meta = byId.get(id)!.metadata!;
      expect(meta.client_timestamp).toBe(sent.sent[i]);
      expect(Math.round((meta.clock_skew_ms as number) / 900_000) * 900_000).toBe(8 * 3_600_000);
    });
    expect(byId.get(sent.utc_id)!.metadata).toBeNull();

    // Counted for Prometheus.
    const prom = await (await fetch(`${server.url}/metrics`)).text();
    expect(prom).toMatch(/^ai_monitor_clock_skew_records_total 5$/m);

    // One log line per client, naming the offset and the setting, however many records.
    sendFromShanghai(server);
    expect((await live(server)).clockSkew.records).toBe(10);
    const lines = server.output().split('\n').filter((line) => line.includes('clock skew'));
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toContain('+8 h ahead');
      expect(line).toContain('AI_MONITOR_NAIVE_TIMEZONE=Asia/Shanghai');
    }
    expect(lines.some((line) => line.includes('assistant shanghai-bot'))).toBe(true);
    expect(lines.some((line) => line.includes('address 127.0.0.1'))).toBe(true);

    // The GraphQL mutation goes through the same rule.
    const wall = new Date(Date.now() + 8 * 3_600_000).toISOString().replace('Z', '');
    const r = await gql<{ recordInteraction: { id: string; timestamp: string } }>(
      server,
      'mutation ($input: InteractionInput!) { recordInteraction(input: $input) { id timestamp } }',
      { input: { sessionId: 'gql', userInput: 'hi', intent: 'greet', responseTimeMs: 5, success: true, assistant: 'graphql-bot', timestamp: wall } },
    );
    expect(r.errors).toBeUndefined();
    expect(Math.abs(Date.parse(r.data!.recordInteraction.timestamp) - Date.now())).toBeLessThan(60_000);
    const after = await live(server);
    expect(after.clockSkew.records).toBe(11);
    expect(after.clockSkew.clients[0]).toMatchObject({ client: 'assistant graphql-bot', records: 1, likelyOffset: '+8 h', address: '127.0.0.1' });

    // Still serving.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});

describe('the naive-timezone setting', () => {
  it('refuses an unknown zone at start, naming the setting (exit code 2)', () => {
    for (const zone of ['Asia/Shangai', 'UTC+8', 'Mars/Olympus']) {
      const r = spawnSync(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', makeDataDir()], {
        env: { ...process.env, AI_MONITOR_NAIVE_TIMEZONE: zone },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status, zone).toBe(2);
      expect(`${r.stderr}${r.stdout}`).toContain('naiveTimezone');
      expect(`${r.stderr}${r.stdout}`).toContain('AI_MONITOR_NAIVE_TIMEZONE');
      expect(`${r.stderr}${r.stdout}`).toContain(`unknown time zone "${zone}"`);
    }
  });

  it('config check shows the effective zone: the server\'s own by default, else the setting', () => {
    const check = (env: Record<string, string | undefined>): { naiveTimezone: string; clockSkewToleranceMs: number; origin: string } => {
      const fullEnv: NodeJS.ProcessEnv = { ...process.env };
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete fullEnv[k];
        else fullEnv[k] = v;
      }
      const r = spawnSync(process.execPath, [CLI, 'config', 'check', '--json', '--data-dir', makeDataDir()], { env: fullEnv, encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      const body = JSON.parse(r.stdout) as { config: { naiveTimezone: string; clockSkewToleranceMs: number }; origins: Record<string, string> };
      return { ...body.config, origin: body.origins.naiveTimezone! };
    };
    expect(check({ TZ: 'Asia/Shanghai', AI_MONITOR_NAIVE_TIMEZONE: undefined })).toMatchObject({ naiveTimezone: 'Asia/Shanghai', origin: 'derived', clockSkewToleranceMs: 300_000 });
    expect(check({ TZ: 'UTC', AI_MONITOR_NAIVE_TIMEZONE: 'America/New_York', AI_MONITOR_CLOCK_SKEW_TOLERANCE_MS: '60000' })).toMatchObject({
      naiveTimezone: 'America/New_York',
      origin: 'env',
      clockSkewToleranceMs: 60_000,
    });
    const text = spawnSync(process.execPath, [CLI, 'config', 'check', '--data-dir', makeDataDir()], {
      env: { ...process.env, TZ: 'Asia/Shanghai', AI_MONITOR_NAIVE_TIMEZONE: '' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(text.stdout).toMatch(/naiveTimezone\s+Asia\/Shanghai\s+\(derived\)/);
  });
});
