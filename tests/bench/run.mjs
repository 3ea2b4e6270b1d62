#!/usr/bin/env node
/**
 * `npm run bench`: measures PRODUCT.md section 9 on this machine and prints each figure beside
 * its goal and beside a raw better-sqlite3 baseline of the same rows in the same run.
 * Sizes scale with BENCH_SCALE (default 1); BENCH_STORED_ROWS sets the large-database size;
 * BENCH_EXPLORER_ROWS the explorer's (default 20 M, see explorer.mjs).
 * Loopback only; every loop is bounded.
 */
import http from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import Database from 'better-sqlite3';
import { ROOT, fmt, makeRecord, percentile, printTable, row, rssOf, startServer, tempDir } from './lib.mjs';
import { runFlood } from './flood.mjs';
import { otlpBodies, otlpIngest } from './otlp.mjs';
import { runExplorerBench } from './explorer.mjs';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const STORED_ROWS = Number(process.env.BENCH_STORED_ROWS ?? 5_000_000);
/** Size of the release-comparison database (BENCH_RELEASES_ROWS shrinks it while developing). */
const RELEASE_ROWS = Number(process.env.BENCH_RELEASES_ROWS ?? 5_000_000);
const n = (x) => Math.max(1, Math.round(x * SCALE));
/** BENCH_ONLY=seed,cost,graphql,fanout,otlp,query,releases,explorer,postgres,flood (or `npm run bench -- flood`) runs a subset. */
const PARTS = process.env.BENCH_ONLY ?? (process.argv.length > 2 ? process.argv.slice(2).join(',') : '');
const ONLY = PARTS ? new Set(PARTS.split(',')) : null;
const want = (part) => !ONLY || ONLY.has(part);
const rows = [];
const log = (msg) => console.error(`bench: ${msg}`);

/** Raw better-sqlite3: the same rows, same columns, prepared insert, 1,000 per transaction. */
function rawBaseline(count) {
  const dir = tempDir();
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE t (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, session_id TEXT, ts INTEGER, user_input TEXT, intent TEXT,
    tools_used TEXT, response_time_ms REAL, success INTEGER, error_type TEXT)`);
  const ins = db.prepare('INSERT INTO t (id, session_id, ts, user_input, intent, tools_used, response_time_ms, success, error_type) VALUES (?,?,?,?,?,?,?,?,?)');
  const tx = db.transaction((batch) => {
    for (const r of batch) ins.run(r.id, r.session_id, Date.parse(r.timestamp), r.user_input, r.intent, JSON.stringify(r.tools_used), r.response_time_ms, r.success ? 1 : 0, r.error_type);
  });
  const records = Array.from({ length: count }, (_, i) => ({ ...makeRecord(i), id: `raw-${i}` }));
  const t0 = performance.now();
  for (let i = 0; i < count; i += 1000) tx(records.slice(i, i + 1000));
  const rate = count / ((performance.now() - t0) / 1000);
  db.close();
  return rate;
}

function connectSeed(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Seed socket, one connection, `perMessage` records per message, `window` messages in flight. */
/** Models of the cost part: priced by the package (two spellings), and one without a price. */
const COST_MODELS = ['gpt-4o', 'openai/gpt-4o-mini-2024-07-18', 'claude-3-5-sonnet-20241022', 'my-local-llama'];

/** A bench record naming a model with token counts and no cost: the server computes it from the price table. */
function makeModelRecord(i) {
  return { ...makeRecord(i), model: COST_MODELS[i % COST_MODELS.length], input_tokens: 200 + (i % 900), output_tokens: 50 + (i % 400) };
}

async function seedIngest(server, total, perMessage, window, recordOf = makeRecord) {
  const ws = await connectSeed(server.wsUrl);
  const messages = [];
  for (let i = 0; i < total; i += perMessage) {
    const data = Array.from({ length: Math.min(perMessage, total - i) }, (_, k) => recordOf(i + k));
    messages.push(JSON.stringify(perMessage === 1 ? { type: 'metrics', data: data[0] } : { type: 'metrics_batch', data }));
  }
  let sent = 0;
  let acked = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const t0 = performance.now();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (m.type !== 'ack') throw new Error(`unexpected reply ${d}`);
    acked += m.accepted;
    if (sent < messages.length) ws.send(messages[sent++]);
    if (acked >= total) done();
  });
  while (sent < Math.min(window, messages.length)) ws.send(messages[sent++]);
  await finished;
  const rate = total / ((performance.now() - t0) / 1000);
  ws.close();
  return rate;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function postJson(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function toInput(r) {
  return {
    sessionId: r.session_id, timestamp: r.timestamp, userInput: r.user_input, intent: r.intent,
    toolsUsed: r.tools_used.map((t) => ({ tool: t.tool, params: t.params, durationMs: t.duration_ms })),
    responseTimeMs: r.response_time_ms, success: r.success, errorType: r.error_type,
  };
}

/** Runs `requests` bodies with `concurrency` workers; returns elapsed seconds. */
async function runRequests(url, bodies, concurrency) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await postJson(url, body);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
    }
  }));
  return (performance.now() - t0) / 1000;
}

async function graphqlBatch(server, total) {
  const query = 'mutation ($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { acceptedCount } }';
  const bodies = [];
  for (let i = 0; i < total; i += 100) bodies.push(JSON.stringify({ query, variables: { inputs: Array.from({ length: 100 }, (_, k) => toInput(makeRecord(i + k))) } }));
  const seconds = await runRequests(`${server.url}/graphql`, bodies, 8);
  return (bodies.length * 100) / seconds;
}

async function graphqlSingle(server, total) {
  const query = 'mutation ($input: InteractionInput!) { recordInteraction(input: $input) { id } }';
  const bodies = Array.from({ length: total }, (_, i) => JSON.stringify({ query, variables: { input: toInput(makeRecord(i)) } }));
  const seconds = await runRequests(`${server.url}/graphql`, bodies, 32);
  return total / seconds;
}

/** 100 subscribers; 1,000 interactions/s through the seed socket; latency from ack to event. */
async function fanoutLatency(server, subscribers, rate, seconds) {
  const clients = [];
  const ackAt = new Map();
  const latencies = [];
  let received = 0;
  for (let s = 0; s < subscribers; s++) {
    const client = createClient({ url: `${server.wsUrl}/graphql`, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 });
    clients.push(client);
    client.subscribe({ query: 'subscription { interactionRecorded { id } }' }, {
      next: ({ data }) => {
        const at = ackAt.get(data.interactionRecorded.id);
        // Events may arrive before the ack reaches the sender: count those as 0.
        latencies.push(at === undefined ? { id: data.interactionRecorded.id, t: performance.now() } : Math.max(0, performance.now() - at));
        received++;
      },
      error: (e) => log(`subscriber error ${JSON.stringify(e)}`),
      complete: () => {},
    });
  }
  await new Promise((r) => setTimeout(r, 1500));
  const ws = await connectSeed(server.wsUrl);
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    for (const id of m.ids ?? []) ackAt.set(id, performance.now());
  });
  const total = rate * seconds;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    ws.send(JSON.stringify({ type: 'metrics', data: { ...makeRecord(i), id: `fan-${i}` } }));
  }
  const deadline = performance.now() + 15_000;
  while (received < total * subscribers && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const values = latencies.map((l) => (typeof l === 'number' ? l : Math.max(0, l.t - (ackAt.get(l.id) ?? l.t)))).sort((a, b) => a - b);
  ws.close();
  await Promise.all(clients.map((c) => c.dispose()));
  return { p50: percentile(values, 0.5), p99: percentile(values, 0.99), received, expected: total * subscribers };
}

/** Writes `count` interactions spread over 7 days straight through the store (with roll-ups). */
async function populate(dataDir, count, extra = () => ({})) {
  const { SqliteStore } = await import(join(ROOT, 'apps/api/dist/store/sqlite.js'));
  const { validateRecord } = await import(join(ROOT, 'apps/api/dist/ingest/validate.js'));
  const store = new SqliteStore({ file: join(dataDir, 'realtime_monitoring.db') });
  await store.migrate();
  const now = Date.now();
  const span = 7 * 86_400_000;
  const batch = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < count; i += batch) {
    const records = [];
    for (let k = i; k < Math.min(count, i + batch); k++) {
      const at = now - span + Math.floor((k / count) * span);
      const v = validateRecord({ ...makeRecord(k, at), ...extra(k, at), id: `pop-${k}` }, { userInputMaxLength: 200, naming: 'snake', now });
      records.push(v.record);
    }
    await store.insertInteractions(records);
    if ((i / batch) % 25 === 0) log(`populated ${fmt(i + records.length)} / ${fmt(count)}`);
  }
  await store.close();
  return count / ((performance.now() - t0) / 1000);
}

async function queryLatency(server, query, iterations) {
  const body = JSON.stringify({ query });
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const res = await postJson(`${server.url}/graphql`, body);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return percentile(times, 0.95);
}

async function subscribersMemory(server, count) {
  const clients = [];
  for (let i = 0; i < count; i++) {
    const c = createClient({ url: `${server.wsUrl}/graphql`, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 });
    c.subscribe({ query: 'subscription { metricsUpdated { count p95 } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    clients.push(c);
  }
  await new Promise((r) => setTimeout(r, 3000));
  // Some traffic so the subscriptions are exercised.
  await seedIngest(server, 20_000, 500, 4);
  await new Promise((r) => setTimeout(r, 2000));
  const rss = await rssOf(server.pid);
  await Promise.all(clients.map((c) => c.dispose()));
  return rss;
}

async function main() {
  if (!existsSync(join(ROOT, 'apps/api/dist/cli.js'))) throw new Error('build first: npm run build');
  log(`scale ${SCALE}, large database ${fmt(STORED_ROWS)} rows`);

  // The baseline is only compared with the ingest figures.
  const rawRate = want('seed') || want('graphql') || want('cost') ? rawBaseline(n(200_000)) : NaN;
  const baseline = `raw better-sqlite3 ${fmt(rawRate)}/s`;
  const ratio = (rate) => `${baseline} (×${(rate / rawRate).toFixed(2)})`;

  let server = await startServer();
  let seedBatch = NaN;
  if (want('seed')) {
    log('seed socket, batches');
    seedBatch = await seedIngest(server, n(300_000), 500, 4);
    rows.push(row('seed WebSocket, one connection, batches of 500', seedBatch, 'interactions/s', 50_000, 'higher', ratio(seedBatch)));
    log('seed socket, one message per interaction');
    const seedSingle = await seedIngest(server, n(100_000), 1, 2000);
    rows.push(row('seed WebSocket, one message per interaction', seedSingle, 'interactions/s', 20_000, 'higher', ratio(seedSingle)));
  }
  if (want('cost')) {
    log('seed socket, batches, records with a model and tokens (cost computed at ingest)');
    const costBatch = await seedIngest(server, n(300_000), 500, 4, makeModelRecord);
    rows.push(row('seed WebSocket, batches of 500, with model and tokens (cost computed)', costBatch, 'interactions/s', 50_000, 'higher', ratio(costBatch)));
  }
  if (want('graphql')) {
    log('GraphQL recordInteractions');
    const gBatch = await graphqlBatch(server, n(100_000));
    rows.push(row('GraphQL recordInteractions, 100 per request', gBatch, 'interactions/s', 30_000, 'higher', ratio(gBatch)));
    log('GraphQL recordInteraction');
    const gSingle = await graphqlSingle(server, n(20_000));
    rows.push(row('GraphQL recordInteraction, one per request', gSingle, 'requests/s', 3_000, 'higher', ratio(gSingle)));
  }
  if (want('fanout')) {
    log('fan-out latency');
    const fan = await fanoutLatency(server, 100, 1000, Math.max(3, Math.round(10 * SCALE)));
    rows.push(row(`ack → interactionRecorded p99, 100 subscribers, 1,000/s (${fmt(fan.received)}/${fmt(fan.expected)} delivered)`, fan.p99, 'ms', 50, 'lower'));
  }
  await server.stop();
  if (want('otlp')) await otlp();
  if (want('query')) await largeDatabase();
  if (want('releases')) await releasesDatabase();
  // The explorer part builds its own database (BENCH_EXPLORER_ROWS, default 20 M) in the temp directory.
  if (want('explorer')) rows.push(...(await runExplorerBench({ row, log })));
  if (want('flood')) await flood();

  const pgBench = join(ROOT, 'tests/bench/postgres.mjs');
  if (want('postgres') && existsSync(pgBench) && process.env.BENCH_SKIP_POSTGRES !== '1') {
    try {
      const pg = await import(pgBench);
      if (typeof pg.runPostgresBenchmarks === 'function') rows.push(...(await pg.runPostgresBenchmarks({ scale: SCALE, row, log })));
    } catch (err) {
      log(`PostgreSQL benchmarks skipped: ${err.message}`);
    }
  }

  if (Number.isFinite(seedBatch)) rows.push(row('ratio: seed batch ingest / raw better-sqlite3 insert', seedBatch / rawRate, '×', undefined));
  console.log('');
  printTable(rows);
}

/** OTLP/HTTP protobuf, 512 spans per export, on a fresh server; spans/s and the server's RSS after. */
async function otlp() {
  const built = otlpBodies(n(200_000));
  log(`OTLP/HTTP protobuf: ${fmt(built.spans)} spans in ${fmt(built.bodies.length)} exports of 512`);
  const server = await startServer();
  const rate = await otlpIngest(server, built, 4);
  const rss = (await rssOf(server.pid)) / 1024 / 1024;
  const stored = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ metrics(window: "1h") { count } }' }),
  }).then((r) => r.json());
  log(`OTLP: ${fmt(stored.data?.metrics?.count ?? NaN)} interactions recorded from ${fmt(built.traces)} traces`);
  rows.push(row('OTLP/HTTP protobuf, 512 spans per export', rate, 'spans/s', 50_000, 'higher'));
  rows.push(row('server RSS after the OTLP run', rss, 'MB', undefined));
  await server.stop();
}

/** Memory under attack: 100 clients sending maximum-size frames for 30 s (see flood.mjs). */
async function flood() {
  const clients = 100;
  const seconds = Math.max(5, Math.round(30 * SCALE));
  log(`flood: ${clients} clients sending maximum-size frames for ${seconds} s`);
  const server = await startServer();
  const r = await runFlood({ url: server.url, wsUrl: server.wsUrl, pid: server.pid, clients, seconds });
  const alive = await fetch(`${server.url}/health`).then((res) => res.status === 200, () => false);
  log(`flood: ${fmt(r.bytes / 1024 / 1024)} MiB sent in ${fmt(Object.values(r.frames).reduce((a, b) => a + b, 0))} frames over ${fmt(r.connections)} connections; ` +
    `closes ${JSON.stringify(r.closes)}; ${fmt(r.errorReplies)} size errors; health ${r.healthProbes - r.healthFailures}/${r.healthProbes} during, ${alive ? 'ok' : 'FAILED'} after`);
  const peak = Math.max(r.peakRss, r.hwm) / 1024 / 1024;
  const bounded = alive && peak < 1024;
  rows.push({ ...row(`server peak RSS, ${clients} clients flooding max-size frames for ${seconds} s (idle ${fmt(r.rssBefore / 1024 / 1024)} MB)`, peak, 'MB', undefined), goalText: 'reported, bounded', met: bounded });
  await server.stop();
}

async function largeDatabase() {
  log(`populating ${fmt(STORED_ROWS)} interactions`);
  const dataDir = tempDir();
  const popRate = await populate(dataDir, STORED_ROWS);
  log(`populated at ${fmt(popRate)}/s`);
  const server = await startServer({ dataDir });
  const metricsP95 = await queryLatency(server, '{ metrics(window: "24h") { count errorRate p50 p95 p99 throughputPerSecond activeSessions } }', 200);
  rows.push(row(`metrics over 24 h, ${fmt(STORED_ROWS)} stored, p95`, metricsP95, 'ms', 50, 'lower'));
  const tsP95 = await queryLatency(server, '{ timeseries(window: "24h", bucket: "5m") { start count errorRate p50 p95 p99 } }', 200);
  rows.push(row(`timeseries over 24 h (5 min buckets), ${fmt(STORED_ROWS)} stored, p95`, tsP95, 'ms', 50, 'lower'));
  log('memory with 1,000 subscribers');
  const rss = await subscribersMemory(server, 1000);
  rows.push(row(`server RSS, ${fmt(STORED_ROWS)} stored, 1,000 subscribers`, rss / 1024 / 1024, 'MB', 200, 'lower'));
  await server.stop();
}

/**
 * compareReleases over a large database: two releases of one assistant over 7 days (the
 * candidate ships on day 4 and takes half the traffic), three models, sessions of 8.
 */
async function releasesDatabase() {
  log(`populating ${fmt(RELEASE_ROWS)} interactions of two releases`);
  const dataDir = tempDir();
  const shipped = Date.now() - 3 * 86_400_000;
  const popRate = await populate(dataDir, RELEASE_ROWS, (k, at) => ({
    assistant: 'bench-bot',
    version: at >= shipped && Math.floor(k / 8) % 2 === 1 ? '1.1' : '1.0',
    model: ['model-a', 'model-b', 'model-c'][k % 3],
    input_tokens: 100 + (k % 50),
    output_tokens: 20 + (k % 10),
  }));
  log(`populated at ${fmt(popRate)}/s`);
  const server = await startServer({ dataDir });
  const query = `{ compareReleases(assistant: "bench-bot", baseline: "1.0", candidate: "1.1", window: "7d") {
    overall { verdict sequentialVerdict successDiff successDiffLow successDiffHigh p95Diff p95DiffLow p95DiffHigh qValue baseline { count p95 } candidate { count p95 } }
    rows { dimension key verdict qValue successDiff } note } }`;
  const p95 = await queryLatency(server, query, 100);
  rows.push(row(`compareReleases over 7 days, ${fmt(RELEASE_ROWS)} stored, p95`, p95, 'ms', 100, 'lower'));
  const live = await queryLatency(server, '{ releases(assistant: "bench-bot") { version count successRate p95 } }', 100);
  rows.push(row(`releases (list with headline metrics), ${fmt(RELEASE_ROWS)} stored, p95`, live, 'ms', undefined));
  await server.stop();
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
