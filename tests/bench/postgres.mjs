/**
 * PostgreSQL (and Redis) rows of the benchmark, called by run.mjs:
 *   runPostgresBenchmarks({ scale, row, log }) → rows built with run.mjs's `row()`.
 * Each measure is also exported on its own and resolves with { name, value, unit, goal?, better }:
 *   postgresIngest({ total, perMessage, window, log })
 *   postgresQueryLatency({ rows, iterations, log })
 *   twoReplicaIngest({ total, perMessage, window, log })
 * PostgreSQL from AI_MONITOR_BENCH_DATABASE_URL (else AI_MONITOR_TEST_DATABASE_URL, else
 * postgres://postgres@127.0.0.1:5432/test), Redis from AI_MONITOR_BENCH_REDIS_URL (else
 * AI_MONITOR_TEST_REDIS_URL, else redis://127.0.0.1:6379). Every run uses its own schema and
 * Redis prefix and removes them afterwards. Loopback only; every loop is bounded.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import WebSocket from 'ws';
import pg from 'pg';
import { Redis } from 'ioredis';
import { ROOT, fmt, makeRecord, percentile, startServer } from './lib.mjs';

export const DATABASE_URL =
  process.env.AI_MONITOR_BENCH_DATABASE_URL ?? process.env.AI_MONITOR_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.AI_MONITOR_BENCH_REDIS_URL ?? process.env.AI_MONITOR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const quiet = () => {};
const name = (prefix) => `${prefix}_${randomBytes(5).toString('hex')}`;

function env(schema, prefix, redis) {
  return {
    AI_MONITOR_STORAGE: 'postgres',
    AI_MONITOR_DATABASE_URL: DATABASE_URL,
    AI_MONITOR_DATABASE_SCHEMA: schema,
    ...(redis ? { AI_MONITOR_REDIS_URL: REDIS_URL, AI_MONITOR_REDIS_PREFIX: prefix } : {}),
  };
}

async function withClient(fn) {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function dropSchema(schema) {
  await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

async function dropRedisPrefix(prefix) {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    for (let i = 0; i < 10_000; i++) {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await r.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    r.disconnect();
  }
}

/** Throws a clear error when PostgreSQL (and Redis, if asked) cannot be reached. */
export async function checkServices({ redis = false } = {}) {
  await withClient((c) => c.query('SELECT 1')).catch((err) => {
    throw new Error(`PostgreSQL at ${DATABASE_URL} unreachable: ${err.message}`);
  });
  if (!redis) return;
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    throw new Error(`Redis at ${REDIS_URL} unreachable: ${err.message}`);
  } finally {
    r.disconnect();
  }
}

function connectSeed(wsUrl) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}/`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends records [from, to) over one seed socket, `window` messages in flight; resolves when all are acknowledged. */
async function seedSend(wsUrl, from, to, perMessage, window) {
  const ws = await connectSeed(wsUrl);
  const messages = [];
  for (let i = from; i < to; i += perMessage) {
    const data = [];
    for (let k = i; k < Math.min(to, i + perMessage); k++) data.push({ ...makeRecord(k), id: `pgb-${k}` });
    messages.push(JSON.stringify({ type: 'metrics_batch', data }));
  }
  const total = to - from;
  let sent = 0;
  let acked = 0;
  await new Promise((resolve, reject) => {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type !== 'ack') return reject(new Error(`unexpected reply ${d}`));
      acked += m.accepted;
      if (sent < messages.length) ws.send(messages[sent++]);
      if (acked >= total) resolve();
    });
    ws.once('close', () => acked < total && reject(new Error(`socket closed after ${acked} of ${total} acknowledgements`)));
    while (sent < Math.min(window, messages.length)) ws.send(messages[sent++]);
  });
  ws.close();
}

/** Seed socket ingest into one server on PostgreSQL: committed interactions per second. */
export async function postgresIngest({ total = 100_000, perMessage = 500, window = 4, log = quiet } = {}) {
  await checkServices();
  const schema = name('aim_bench');
  const server = await startServer({ env: env(schema, '', false) });
  try {
    log(`PostgreSQL ingest: ${fmt(total)} interactions, batches of ${perMessage}`);
    await seedSend(server.wsUrl, 0, Math.min(2000, total), perMessage, window); // warm-up: partitions, pool
    const t0 = performance.now();
    await seedSend(server.wsUrl, 10_000_000, 10_000_000 + total, perMessage, window);
    const rate = total / ((performance.now() - t0) / 1000);
    return { name: `PostgreSQL: seed WebSocket ingest, one connection, batches of ${perMessage}`, value: rate, unit: 'interactions/s', better: 'higher' };
  } finally {
    await server.stop();
    await dropSchema(schema);
  }
}

/** Two replicas (shared schema, Redis fan-out), one seed connection to each, load split evenly. */
export async function twoReplicaIngest({ total = 100_000, perMessage = 500, window = 4, log = quiet } = {}) {
  await checkServices({ redis: true });
  const schema = name('aim_bench');
  const prefix = name('aimbench');
  const a = await startServer({ env: env(schema, prefix, true) });
  const b = await startServer({ env: env(schema, prefix, true) });
  try {
    log(`two replicas: ${fmt(total)} interactions split over both`);
    await Promise.all([seedSend(a.wsUrl, 0, 1000, perMessage, window), seedSend(b.wsUrl, 1000, 2000, perMessage, window)]);
    const half = Math.floor(total / 2);
    const t0 = performance.now();
    await Promise.all([
      seedSend(a.wsUrl, 10_000_000, 10_000_000 + half, perMessage, window),
      seedSend(b.wsUrl, 20_000_000, 20_000_000 + (total - half), perMessage, window),
    ]);
    const rate = total / ((performance.now() - t0) / 1000);
    return { name: `PostgreSQL + Redis: two replicas, seed batches of ${perMessage}, load split`, value: rate, unit: 'interactions/s', better: 'higher' };
  } finally {
    await a.stop();
    await b.stop();
    await dropSchema(schema);
    await dropRedisPrefix(prefix);
  }
}

/** Writes `count` interactions over the last 24 h straight through PostgresStore (with roll-ups). */
async function populate(schema, count, log) {
  const { PostgresStore } = await import(join(ROOT, 'apps/api/dist/store/postgres.js'));
  const { validateRecord } = await import(join(ROOT, 'apps/api/dist/ingest/validate.js'));
  const store = new PostgresStore({ url: DATABASE_URL, schema });
  await store.migrate();
  const now = Date.now();
  const span = 86_400_000;
  const batch = 10_000;
  const t0 = performance.now();
  try {
    for (let i = 0; i < count; i += batch) {
      const records = [];
      for (let k = i; k < Math.min(count, i + batch); k++) {
        const at = now - span + Math.floor((k / count) * span);
        records.push(validateRecord({ ...makeRecord(k, at), id: `pop-${k}` }, { userInputMaxLength: 200, naming: 'snake', now }).record);
      }
      await store.insertInteractions(records);
      if ((i / batch) % 20 === 0) log(`populated ${fmt(i + records.length)} / ${fmt(count)}`);
    }
  } finally {
    await store.close();
  }
  return count / ((performance.now() - t0) / 1000);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function postJson(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString()));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function p95(url, query, iterations) {
  const body = JSON.stringify({ query });
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const res = await postJson(`${url}/graphql`, body);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return percentile(times, 0.95);
}

/**
 * `metrics` and `timeseries` over 24 h on a server whose PostgreSQL schema holds `rows`
 * interactions spread over those 24 h. Resolves with two results (p95 latency) and the
 * population rate.
 */
export async function postgresQueryLatency({ rows = 1_000_000, iterations = 200, log = quiet } = {}) {
  await checkServices();
  const schema = name('aim_bench');
  try {
    log(`PostgreSQL: populating ${fmt(rows)} interactions over 24 h`);
    const popRate = await populate(schema, rows, log);
    log(`populated at ${fmt(popRate)}/s; VACUUM ANALYZE (what autovacuum does soon after a bulk load)`);
    await withClient(async (c) => {
      for (const t of ['interactions', 'interaction_ids', 'sessions', 'rollup_minute', 'rollup_intent', 'rollup_tool', 'rollup_error']) {
        await c.query(`VACUUM ANALYZE "${schema}".${t}`);
      }
    });
    const server = await startServer({ env: env(schema, '', false) });
    try {
      const metrics = await p95(server.url, '{ metrics(window: "24h") { count errorRate p50 p95 p99 throughputPerSecond activeSessions } }', iterations);
      const series = await p95(server.url, '{ timeseries(window: "24h", bucket: "5m") { start count errorRate p50 p95 p99 } }', iterations);
      return [
        { name: `PostgreSQL: metrics over 24 h, ${fmt(rows)} stored, p95`, value: metrics, unit: 'ms', goal: 50, better: 'lower' },
        { name: `PostgreSQL: timeseries over 24 h (5 min buckets), ${fmt(rows)} stored, p95`, value: series, unit: 'ms', goal: 50, better: 'lower' },
        { name: `PostgreSQL: store populate rate (batches of 10,000, direct)`, value: popRate, unit: 'interactions/s', better: 'higher' },
      ];
    } finally {
      await server.stop();
    }
  } finally {
    await dropSchema(schema);
  }
}

/**
 * Everything above, sized by `scale` (1 = 200,000 ingested, 1,000,000 stored; BENCH_PG_ROWS
 * overrides the stored size), as rows of run.mjs's table. A missing service skips with a log line.
 */
export async function runPostgresBenchmarks({ scale = 1, row, log = quiet }) {
  const n = (x) => Math.max(1000, Math.round(x * scale));
  const toRow = (r) => row(r.name, r.value, r.unit, r.goal, r.better);
  const out = [];
  try {
    await checkServices();
  } catch (err) {
    log(`PostgreSQL benchmarks skipped: ${err.message}`);
    return out;
  }
  out.push(toRow(await postgresIngest({ total: n(200_000), log })));
  const stored = Number(process.env.BENCH_PG_ROWS ?? n(1_000_000));
  for (const r of await postgresQueryLatency({ rows: stored, log })) out.push(toRow(r));
  try {
    await checkServices({ redis: true });
    out.push(toRow(await twoReplicaIngest({ total: n(200_000), log })));
  } catch (err) {
    log(`two-replica benchmark skipped: ${err.message}`);
  }
  return out;
}
