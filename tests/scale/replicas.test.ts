/**
 * Scale-out: real server processes as replicas sharing one PostgreSQL schema and one Redis
 * prefix. Subscriptions fan out across replicas, metrics reflect every replica's traffic,
 * an alert is raised (and notified) once, and acknowledged records survive SIGKILL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SeedClient } from '../helpers/seed-client.js';
import { gql, startServer, type RunningServer } from '../helpers/server.js';
import { IN_CI, PG_URL, REDIS_URL, dropSchema, noteSkip, pgQuery, probePostgres, probeRedis, randomName } from '../helpers/services.js';
import { startWebhookSink, writeAlertConfig, type WebhookSink } from '../alerts/support.js';
import { Sub, clusterEnv, metricsCount, recordViaGraphql, seedRecord, sleep, startCluster, storedIds, untilLive, waitUntil, type Cluster } from './support.js';

const pgError = await probePostgres();
const redisError = await probeRedis();
noteSkip('scale-out: replicas', 'PostgreSQL', pgError);
noteSkip('scale-out: replicas', 'Redis', redisError);

describe.runIf(IN_CI)('scale-out services', () => {
  it('PostgreSQL and Redis are reachable (required when CI=true)', () => {
    expect(pgError, `PostgreSQL at ${PG_URL} (AI_MONITOR_TEST_DATABASE_URL) is unreachable`).toBeNull();
    expect(redisError, `Redis at ${REDIS_URL} (AI_MONITOR_TEST_REDIS_URL) is unreachable`).toBeNull();
  });
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function cluster(n: number, opts?: Parameters<typeof startCluster>[1]): Promise<Cluster> {
  const c = await startCluster(n, opts);
  cleanups.push(() => c.close());
  return c;
}

function sub<T>(server: RunningServer, query: string, variables?: Record<string, unknown>): Sub<T> {
  const s = new Sub<T>(server, query, variables);
  cleanups.push(() => s.close());
  return s;
}

async function seedClient(server: RunningServer): Promise<SeedClient> {
  const c = await SeedClient.connect(`${server.wsUrl}/`);
  cleanups.push(() => c.close());
  return c;
}

type Recorded = { interactionRecorded: { id: string; sessionId: string; intent: string; success: boolean; toolsUsed: { tool: string; params: unknown }[] } };
const RECORDED = 'subscription { interactionRecorded { id sessionId intent success toolsUsed { tool params } } }';

describe.skipIf(pgError !== null || redisError !== null)('scale-out: replicas on PostgreSQL and Redis', () => {
  it('an interaction ingested at one replica reaches interactionRecorded subscribers on the other', async () => {
    const { replicas: [a, b] } = await cluster(2);
    for (const r of [a!, b!]) {
      const health = await fetch(`${r.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'healthy', database: true });
    }
    const onB = sub<Recorded>(b!, RECORDED);
    const onA = sub<Recorded>(a!, RECORDED);
    let probes = 0;
    await untilLive(onB, async () => void (await recordViaGraphql(a!, [{ sessionId: 'probe', userInput: 'p', intent: `probe-${probes++}`, responseTimeMs: 1, success: true }])), 'on B');
    await untilLive(onA, async () => void (await recordViaGraphql(b!, [{ sessionId: 'probe', userInput: 'p', intent: `probe-${probes++}`, responseTimeMs: 1, success: true }])), 'on A');

    // Seed socket and GraphQL at A; GraphQL at B.
    const seed = await seedClient(a!);
    const ack = await seed.request({ type: 'metrics_batch', data: [seedRecord(1, { id: 'seed-1', intent: 'from-seed' }), seedRecord(2, { id: 'seed-2', intent: 'from-seed', success: false, error_type: 'timeout' })] });
    expect(ack).toMatchObject({ type: 'ack', accepted: 2 });
    await recordViaGraphql(a!, [{ id: 'gql-a', sessionId: 'scale-x', userInput: 'u', intent: 'from-graphql-a', responseTimeMs: 5, success: true, toolsUsed: [{ tool: 'db', params: { k: [1, 2] } }] }]);
    await recordViaGraphql(b!, [{ id: 'gql-b', sessionId: 'scale-x', userInput: 'u', intent: 'from-graphql-b', responseTimeMs: 5, success: true }]);

    const real = (s: Sub<Recorded>) => s.events.map((e) => e.interactionRecorded).filter((r) => !r.intent.startsWith('probe'));
    await waitUntil(() => real(onB).length >= 4 && real(onA).length >= 4, 'four records on both replicas');
    for (const s of [onA, onB]) {
      expect(s.errors).toEqual([]);
      const byId = new Map(real(s).map((r) => [r.id, r]));
      expect([...byId.keys()].sort()).toEqual(['gql-a', 'gql-b', 'seed-1', 'seed-2']);
      expect(byId.get('seed-2')).toMatchObject({ intent: 'from-seed', success: false, sessionId: 'scale-2' });
      expect(byId.get('gql-a')!.toolsUsed).toEqual([{ tool: 'db', params: { k: [1, 2] } }]);
    }
    // Each replica reads what the other stored.
    const interaction = await gql<{ interaction: { intent: string } | null }>(b!, '{ interaction(id: "seed-1") { intent } }');
    expect(interaction.data?.interaction).toEqual({ intent: 'from-seed' });
  });

  it('metricsUpdated on one replica reflects the traffic ingested at the other', async () => {
    const { replicas: [a, b] } = await cluster(2);
    const onB = sub<{ metricsUpdated: { count: number; errors: number } }>(b!, 'subscription { metricsUpdated(window: "1h") { count errors } }');
    const seed = await seedClient(a!);
    let sent = 0;
    await untilLive(onB, async () => {
      await seed.request({ type: 'metrics', data: seedRecord(sent++) });
    }, 'metricsUpdated on B');
    const batch = Array.from({ length: 50 }, (_, i) => seedRecord(1000 + i, { success: i % 5 !== 0, error_type: i % 5 === 0 ? 'timeout' : null }));
    expect(await seed.request({ type: 'metrics_batch', data: batch })).toMatchObject({ type: 'ack', accepted: 50 });
    const total = sent + 50;
    const last = await waitUntil(() => onB.events.find((e) => e.metricsUpdated.count === total), `a metricsUpdated event on B counting ${total}`);
    expect(last.metricsUpdated.errors).toBe(10);
    expect(onB.errors).toEqual([]);
    expect(await metricsCount(b!)).toEqual({ count: total, errors: 10 });
    expect(await metricsCount(a!)).toEqual({ count: total, errors: 10 });
  });

  it('raises a consecutive_errors alert exactly once, with one webhook delivery, for failures split across replicas', async () => {
    const sink: WebhookSink = await startWebhookSink(() => ({ status: 200 }));
    cleanups.push(() => sink.close());
    const settings = {
      enabled: true,
      consecutive_errors_threshold: 3,
      alert_cooldown_minutes: 15,
      webhook_url: sink.url,
      // Only the streak rule can fire: no error-rate or latency alert from this traffic.
      error_rate_threshold: 100,
      response_time_threshold: 3_600_000,
      min_sample_size: 1000,
    };
    const c = await cluster(2, { prepare: (dir) => writeAlertConfig(dir, settings) });
    const [a, b] = c.replicas;
    const alerts = () => pgQuery<{ kind: string; status: string; delivery: string }>(`SELECT kind, status, delivery FROM "${c.schema}".alerts`);
    const seeds = [await seedClient(a!), await seedClient(b!)];
    // One at a time, alternating replicas: each is committed (and published) before the next.
    for (let i = 0; i < 6; i++) {
      const reply = await seeds[i % 2]!.request({ type: 'metrics', data: seedRecord(i, { success: false, error_type: 'timeout' }) });
      expect(reply.type).toBe('ack');
    }
    await waitUntil(async () => sink.requests.length >= 1 && (await alerts()).some((r) => JSON.parse(r.delivery).length > 0), 'the webhook delivery and its record');
    // The streak ends; the alert is resolved (by one replica), which both replicas follow.
    for (const s of seeds) expect((await s.request({ type: 'metrics', data: seedRecord(9, { success: true }) })).type).toBe('ack');
    await waitUntil(async () => {
      const rows = await alerts();
      if (rows.length !== 1) throw new Error(`expected exactly one alert, found ${rows.length}: ${JSON.stringify(rows)}`);
      return rows[0]!.status === 'resolved';
    }, 'the alert resolved');
    // A quiet period in which a duplicate (raise or delivery) would show up.
    for (let i = 0; i < 10; i++) {
      expect(await alerts()).toHaveLength(1);
      expect(sink.requests).toHaveLength(1);
      await sleep(100);
    }
    const [stored] = await alerts();
    expect(stored!.kind).toBe('consecutive_errors');
    expect(JSON.parse(stored!.delivery)).toMatchObject([{ channel: 'webhook', ok: true }]);
    expect(sink.requests[0]!.body).toMatchObject({ text: expect.any(String) });
    const raisedLines = c.replicas.map((r) => (r.output().match(/alert raised/g) ?? []).length);
    expect(raisedLines.reduce((x, y) => x + y, 0)).toBe(1);
  });

  it('a replica refuses to start, naming the setting, when PostgreSQL or Redis is unreachable', async () => {
    const base = clusterEnv(randomName('aim_scale'), randomName('aimscale'));
    await expect(startServer({ env: { ...base, AI_MONITOR_DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/test' } })).rejects.toThrow(
      /cannot prepare PostgreSQL schema .* at postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:1\/test \(AI_MONITOR_DATABASE_URL/,
    );
    const schema = base.AI_MONITOR_DATABASE_SCHEMA!;
    cleanups.push(() => dropSchema(schema));
    await expect(startServer({ env: { ...base, AI_MONITOR_REDIS_URL: 'redis://127.0.0.1:1' } })).rejects.toThrow(
      /cannot connect to Redis at redis:\/\/127\.0\.0\.1:1 \(AI_MONITOR_REDIS_URL\): connect ECONNREFUSED/,
    );
  });

  it('every acknowledged record survives SIGKILL of the replica that acknowledged it', async () => {
    const { replicas: [a, b] } = await cluster(2);
    const acked = new Set<string>();
    const ws = new WebSocket(`${a!.wsUrl}/`);
    ws.on('error', () => undefined); // the kill resets the connection; that is the point
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let inFlight = 0;
    let sent = 0;
    let killed = false;
    const send = (): void => {
      // Up to 8 batches in flight, so some are mid-commit when the process dies.
      while (!killed && inFlight < 8 && sent < 2000 && ws.readyState === WebSocket.OPEN) {
        const batch = Array.from({ length: 25 }, (_, i) => seedRecord(i, { id: `kill-${sent}-${i}` }));
        ws.send(JSON.stringify({ type: 'metrics_batch', data: batch }));
        sent++;
        inFlight++;
      }
    };
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { type: string; ids?: string[] };
      if (msg.type !== 'ack') return;
      inFlight--;
      for (const id of msg.ids ?? []) acked.add(id);
      send();
    });
    send();
    await waitUntil(() => acked.size >= 40 * 25, 'forty acknowledged batches');
    killed = true;
    await a!.kill();
    await closed;
    const ackedAtKill = acked.size;
    expect(ackedAtKill).toBeGreaterThanOrEqual(1000);

    const stored = await storedIds(b!);
    const missing = [...acked].filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    expect(stored.size).toBeGreaterThanOrEqual(acked.size);
    expect((await metricsCount(b!)).count).toBe(stored.size);
  });
});
