/**
 * The explorer benchmark (PRODUCT.md §9, issue 13): a large SQLite database built outside the
 * repository (BENCH_EXPLORER_ROWS, default 20 M), then p50/p95 of each explorer query, export
 * rate and peak RSS, the acknowledgement p99 of a 1,000/s seed stream while four clients run the
 * heaviest queries, and the server's RSS. Every loop is bounded.
 */
import http from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import Database from 'better-sqlite3';
import { ROOT, fmt, percentile, rssOf, startServer, tempDir } from './lib.mjs';

const ROWS = Number(process.env.BENCH_EXPLORER_ROWS ?? 20_000_000);
const ITERATIONS = Number(process.env.BENCH_EXPLORER_ITERATIONS ?? 20);
const SPAN = 7 * 86_400_000;

const INTENTS = ['search', 'summarize', 'code', 'translate', 'schedule', 'chitchat'];
const TOOLS = ['web_search', 'read', 'write', 'calendar', 'python'];
const ASSISTANTS = ['support-bot', 'coder', 'travel-zh'];
const MODELS = ['gpt-x', 'claude-y', 'qwen-z'];
const EN = ['what is the weather in paris tomorrow', 'summarize this meeting transcript please', 'fix the failing unit test in the parser',
  'translate the contract into german', 'book a table for two at seven', 'how do I reset my password'];
const ZH = ['帮我查询北京明天的天气', '把这份会议记录总结一下', '这个单元测试为什么失败', '请把合同翻译成英文', '帮我订一张去上海的高铁票', '我的密码忘了怎么办'];

/** Realistic text: English and Chinese requests, each with a number that makes rare tokens (zz<i>). */
function text(i) {
  const base = i % 3 === 0 ? ZH[(i / 3) % ZH.length] : EN[(i >> 1) % EN.length];
  return `${base} (ref zz${i})`;
}

/** Builds the database with direct batched inserts in big transactions; the text index is built once at the end. */
export async function build(file, count, log) {
  const { SqliteStore } = await import(join(ROOT, 'apps/api/dist/store/sqlite.js'));
  const store = new SqliteStore({ file, readers: 1 });
  await store.migrate();
  await store.close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -200000');
  db.function('unicode_lower', { deterministic: true }, (t) => (typeof t === 'string' ? t.toLowerCase() : t));
  const insert = db.prepare(`INSERT INTO interactions (id, session_id, ts, received_at, user_input, intent, tools_used, tool_names, response_time_ms,
    success, error_type, assistant, version, model, user_id, input_tokens, output_tokens, cost_usd, feedback_score, metadata, environment)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const session = db.prepare('INSERT INTO sessions VALUES (?,?,?,?,?,?)');
  const now = Date.now();
  const t0 = performance.now();
  const BATCH = 100_000;
  const tx = db.transaction((from, to) => {
    const sessions = new Map();
    for (let i = from; i < to; i++) {
      const ts = now - SPAN + Math.floor((i / count) * SPAN);
      const ok = i % 20 !== 0;
      const tool = i % 3 === 0 ? null : TOOLS[i % TOOLS.length];
      const rt = 200 + ((i * 7919) % 3000);
      insert.run(`bx-${i}`, `bench-${Math.floor(i / 8)}`, ts, ts + 5, text(i), INTENTS[i % INTENTS.length],
        tool ? JSON.stringify([{ tool, params: { q: `q${i % 100}` }, durationMs: 20 + (i % 50), success: true, error: null }]) : '[]',
        tool ? `\u001f${tool}\u001f` : '', rt, ok ? 1 : 0, ok ? null : i % 40 === 0 ? 'timeout' : 'rate_limit',
        ASSISTANTS[i % 3], `1.${i % 4}.0`, MODELS[(i >> 1) % 3], `u${i % 5000}`, 100 + (i % 900), 50 + (i % 400), ((i % 1000) + 1) / 10000, null, null,
        i % 2 ? 'production' : 'staging');
      const id = `bench-${Math.floor(i / 8)}`;
      const s = sessions.get(id) ?? { first: ts, last: ts, n: 0, errors: 0, rt: 0 };
      s.last = ts;
      s.n++;
      s.errors += ok ? 0 : 1;
      s.rt += rt;
      sessions.set(id, s);
    }
    for (const [id, s] of sessions) session.run(id, s.first, s.last, s.n, s.errors, s.rt);
  });
  // Batches end on a session boundary (8 per session), so each session is inserted once.
  for (let i = 0; i < count; i += BATCH) {
    tx(i, Math.min(count, i + BATCH));
    if ((i / BATCH) % 10 === 0) log(`explorer: inserted ${fmt(i + BATCH)} / ${fmt(count)}`);
  }
  log('explorer: building the text index');
  db.exec('INSERT INTO interactions_fts (rowid, user_input) SELECT seq, unicode_lower(user_input) FROM interactions');
  db.exec('UPDATE interactions_fts_state SET upto = (SELECT max(seq) FROM interactions)');
  db.exec('ANALYZE');
  db.close();
  return count / ((performance.now() - t0) / 1000);
}

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function timed(server, query, iterations) {
  const body = JSON.stringify({ query });
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const res = await post(`${server.url}/graphql`, body);
    if (res.errors) throw new Error(`${query}: ${JSON.stringify(res.errors)}`);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

const list = (filter, extra = '') => `{ interactions(first: 50${filter ? `, filter: ${filter}` : ''}${extra}) { edges { node { id timestamp intent } } } }`;

function queries(now) {
  const day = new Date(now - 86_400_000).toISOString();
  return [
    ['latest 50', list(''), 100],
    ['filter success: false', list('{ success: false }'), 100],
    ['filter tool', list('{ tool: "calendar" }'), 100],
    ['filter intent', list('{ intent: "translate" }'), 100],
    ['filter error type', list('{ errorType: "timeout" }'), 100],
    ['filter session', list('{ sessionId: "bench-12345" }'), 100],
    ['filter assistant + model', list('{ assistant: "coder", model: "qwen-z" }'), 100],
    ['search rare (zz99999)', list('{ search: "zz99999)" }'), 50],
    ['search common (weather)', list('{ search: "weather" }'), 50],
    ['search Chinese (北京明天)', list('{ search: "北京明天" }'), 50],
    ['search 2 characters (天气)', list('{ search: "天气" }'), 50],
    ['search absent (nonexistentword)', list('{ search: "nonexistentword" }'), 50],
    ['combined: intent + failed + search', list('{ intent: "search", success: false, search: "weather" }'), 50],
    ['count, intent (24 h)', `{ interactions(first: 1, filter: { intent: "code", from: "${day}" }) { totalCount } }`, 100],
    ['count, all', '{ interactions(first: 1) { totalCount } }', 100],
    ['histogram (24 h, 5m)', `{ interactionHistogram(filter: { from: "${day}" }, bucket: "5m") { start count errors } }`, 100],
    ['facets (24 h)', `{ interactionFacets(filter: { from: "${day}" }) { intent { value count } tool { value count } errorType { value count } assistant { value count } model { value count } version { value count } environment { value count } } }`, 100],
    ['sort response time', list('', ', sort: { by: RESPONSE_TIME }'), 100],
    ['sort tokens', list('', ', sort: { by: TOKENS }'), 100],
    ['sort cost', list('', ', sort: { by: COST }'), 100],
    ['sort time ascending', list('', ', sort: { by: TIME, direction: ASC }'), 100],
    ['sessions: search', '{ sessions(first: 20, filter: { search: "zz99999)" }) { edges { node { id } } } }', 100],
    ['sessions: by error rate', '{ sessions(first: 20, sort: { by: ERROR_RATE }) { edges { node { id } } } }', 100],
  ];
}

/** Streams an export, sampling the server's RSS; rows/s and the peak. */
async function exportRate(server, query) {
  let peak = await rssOf(server.pid);
  const sampler = setInterval(() => void rssOf(server.pid).then((r) => (peak = Math.max(peak, r)), () => {}), 100);
  const t0 = performance.now();
  const rows = await new Promise((resolve, reject) => {
    http.get(`${server.url}/api/export?${query}`, (res) => {
      let lines = 0;
      res.on('data', (chunk) => {
        for (const b of chunk) if (b === 0x0a) lines++;
      });
      res.on('end', () => resolve(lines - 1));
    }).on('error', reject);
  });
  clearInterval(sampler);
  return { rows, rate: rows / ((performance.now() - t0) / 1000), peak };
}

/** A 1,000/s seed stream (one record per message) for `seconds`, while `clients` run the heaviest queries back to back. */
async function ackUnderLoad(server, seconds, clients, heavy) {
  const ws = new WebSocket(`${server.wsUrl}/`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const sent = [];
  const latencies = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.type === 'ack') latencies.push(performance.now() - sent.shift());
  });
  let running = true;
  let heavyRuns = 0;
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let k = c; running; k++) {
      await post(`${server.url}/graphql`, JSON.stringify({ query: heavy[k % heavy.length] }));
      heavyRuns++;
    }
  });
  const total = seconds * 1000;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    // Paced to 1,000/s against the clock, so a stalled event loop shows as latency, not as a slower stream.
    const due = t0 + i;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sent.push(performance.now());
    ws.send(JSON.stringify({ type: 'metrics', data: { session_id: `ack-${i % 50}`, user_input: `ack probe ${i}`, intent: 'probe', tools_used: [], response_time_ms: 5, success: true } }));
  }
  for (let i = 0; i < 200 && latencies.length < total; i++) await new Promise((r) => setTimeout(r, 50));
  running = false;
  await Promise.all(loops);
  ws.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), acked: latencies.length, total, heavyRuns };
}

export async function runExplorerBench({ row, log }) {
  const rows = [];
  const dataDir = tempDir('ai-monitor-explorer-bench-');
  log(`explorer: building ${fmt(ROWS)} interactions in ${dataDir}`);
  const buildRate = await build(join(dataDir, 'realtime_monitoring.db'), ROWS, log);
  log(`explorer: built at ${fmt(buildRate)} rows/s`);
  const server = await startServer({ dataDir });
  try {
    const size = `${fmt(ROWS)} stored`;
    for (const [name, query, goal] of queries(Date.now())) {
      const { p50, p95 } = await timed(server, query, ITERATIONS);
      rows.push({ ...row(`explorer ${name}, ${size}, p95 (p50 ${fmt(p50, 1)} ms)`, p95, 'ms', goal, 'lower') });
      log(`explorer: ${name}: p50 ${fmt(p50, 1)} ms, p95 ${fmt(p95, 1)} ms`);
    }
    const day = new Date(Date.now() - 86_400_000).toISOString();
    const ex = await exportRate(server, `format=csv&from=${encodeURIComponent(day)}`);
    rows.push(row(`export CSV, last 24 h (${fmt(ex.rows)} rows), ${size}`, ex.rate, 'rows/s', undefined));
    rows.push(row('server peak RSS during that export', ex.peak / 1024 / 1024, 'MB', 256, 'lower'));
    log(`explorer: export ${fmt(ex.rows)} rows at ${fmt(ex.rate)}/s, peak RSS ${fmt(ex.peak / 1048576)} MB`);
    const heavy = [
      `{ interactionFacets(filter: { from: "${day}" }) { intent { value count } tool { value count } model { value count } } }`,
      '{ interactions(first: 1) { totalCount } }',
      '{ interactions(first: 50, filter: { search: "weather" }) { totalCount edges { node { id } } } }',
      `{ interactionHistogram(filter: { from: "${day}" }, bucket: "5m") { count } }`,
    ];
    const seconds = Number(process.env.BENCH_EXPLORER_ACK_SECONDS ?? 10);
    const idle = await ackUnderLoad(server, Math.max(3, Math.round(seconds / 2)), 0, heavy);
    rows.push(row(`ack p99, 1,000/s seed stream, no queries (baseline; p50 ${fmt(idle.p50, 1)} ms)`, idle.p99, 'ms', undefined));
    const ack = await ackUnderLoad(server, seconds, 4, heavy);
    rows.push(row(`ack p99, 1,000/s seed stream, 4 clients running the heaviest queries (${fmt(ack.heavyRuns)} ran; p50 ${fmt(ack.p50, 1)} ms)`, ack.p99, 'ms', 10, 'lower'));
    log(`explorer: ack p50 ${fmt(ack.p50, 1)} ms p99 ${fmt(ack.p99, 1)} ms (${ack.acked}/${ack.total}), heavy queries ${ack.heavyRuns}`);
    const rss = await rssOf(server.pid);
    rows.push(row(`server RSS, ${size}, reader pool running`, rss / 1024 / 1024, 'MB', 256, 'lower'));
  } finally {
    await server.stop();
  }
  return rows;
}
