/**
 * Every size and backlog limit the README documents, driven from a real client, each asserting
 * the documented answer and that the server still serves afterwards (health 200 and a record
 * acknowledged): the default 1 MiB / 4 MiB message limits literally on the seed socket,
 * graphql-ws and HTTP, and a configured one; the rate limit on WebSocket upgrades; the batch
 * size on every ingest path; the 4 MiB of unsent seed replies;
 * the graphql-ws slow-consumer close (4008) and the subscriber queue limit with its drop counter.
 */
import { describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { RECORD, TOKENS, TOKEN_ENV, expectServing, gqlAs, graphqlWs, http, onCleanup, openSeed, rawGraphqlWs, serve, upgradeStatus, wsOnce, wsSubscribe } from './helpers.js';

const MiB = 1024 * 1024;
const NORMAL = '{ metrics(window: "7d") { count } }';

/** A seed `metrics` message of exactly `bytes` bytes (user_input padded; stored truncated). */
function seedMessageOf(bytes: number): string {
  const base = JSON.stringify({ type: 'metrics', data: { ...RECORD, user_input: '' } });
  const text = JSON.stringify({ type: 'metrics', data: { ...RECORD, user_input: 'x'.repeat(bytes - base.length) } });
  expect(Buffer.byteLength(text)).toBe(bytes);
  return text;
}

/** An HTTP ingest body of exactly `bytes` bytes. */
function ingestBodyOf(bytes: number): string {
  const base = JSON.stringify([{ ...RECORD, user_input: '' }]);
  const text = JSON.stringify([{ ...RECORD, user_input: 'y'.repeat(bytes - base.length) }]);
  expect(Buffer.byteLength(text)).toBe(bytes);
  return text;
}

describe('message size limits at their defaults (1 MiB soft, 4 MiB hard)', () => {
  it('seed socket: up to 1 MiB is stored, above it an error reply, above 4 MiB close 1009', async () => {
    const s = await serve();
    const seed = await openSeed(s.wsUrl);
    seed.send(seedMessageOf(MiB));
    expect(await seed.next()).toMatchObject({ type: 'ack', accepted: 1 });
    seed.send(seedMessageOf(MiB + 1));
    expect(await seed.next()).toEqual({ type: 'error', error: `message of ${MiB + 1} bytes exceeds the limit of ${MiB} bytes; split the batch` });
    // Right at the hard cap: still only an error reply, and the connection stays.
    seed.send(seedMessageOf(4 * MiB));
    expect((await seed.next()).error).toMatch(/exceeds the limit of 1048576 bytes/);
    seed.send({ type: 'metrics', data: RECORD, request_id: 'after-4MiB' });
    expect(await seed.next()).toMatchObject({ type: 'ack', request_id: 'after-4MiB', accepted: 1 });
    // One byte over the hard cap closes the connection (1009, message too big).
    seed.send(seedMessageOf(4 * MiB + 1));
    expect((await seed.closed).code).toBe(1009);
    await expectServing(s.url);
    const again = await openSeed(s.wsUrl);
    again.send({ type: 'metrics', data: RECORD });
    expect(await again.next()).toMatchObject({ type: 'ack', accepted: 1 });
  }, 60_000);

  it('graphql-ws: a frame up to 1 MiB is executed, a larger one closes that connection (1009) only', async () => {
    const s = await serve();
    const other = graphqlWs(s.wsUrl);
    const feed = wsSubscribe(other.client, 'subscription { interactionRecorded { id } }');
    expect((await wsOnce(other.client, NORMAL)).data).toEqual({ metrics: { count: 0 } });

    const raw = await rawGraphqlWs(s.wsUrl);
    const frameOf = (bytes: number, id: string): string => {
      const base = JSON.stringify({ id, type: 'subscribe', payload: { query: NORMAL, variables: { pad: '' } } });
      return JSON.stringify({ id, type: 'subscribe', payload: { query: NORMAL, variables: { pad: 'p'.repeat(bytes - base.length) } } });
    };
    raw.ws.send(frameOf(MiB, 'at-limit'));
    expect(await raw.next()).toEqual({ id: 'at-limit', type: 'next', payload: { data: { metrics: { count: 0 } } } });
    raw.ws.send(frameOf(MiB + 1, 'over'));
    expect(await raw.closed).toBe(1009);

    // The other connection and its subscription keep running.
    await expectServing(s.url);
    await feed.until(() => feed.results.length === 1);
    expect((await wsOnce(other.client, NORMAL)).data).toEqual({ metrics: { count: 1 } });
  }, 60_000);

  it('HTTP: bodies up to 1 MiB are read, larger ones and unsized GraphQL bodies get 413', async () => {
    const s = await serve();
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      http(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    expect((await post('/api/interactions', ingestBodyOf(MiB))).json()).toMatchObject({ accepted: 1 });
    const over = await post('/api/interactions', ingestBodyOf(MiB + 1));
    expect(over.status).toBe(413);
    expect(over.json<{ error: string }>().error).toBe(`request body of ${MiB + 1} bytes exceeds the limit of ${MiB} bytes`);
    // Without a Content-Length the body is counted as it arrives.
    const chunkedOver = await post('/api/interactions', ingestBodyOf(MiB + 1), { 'transfer-encoding': 'chunked' });
    expect(chunkedOver.status).toBe(413);
    expect(chunkedOver.json<{ error: string }>().error).toBe(`request body exceeds the limit of ${MiB} bytes`);

    const gqlBody = (bytes: number): string => {
      const base = JSON.stringify({ query: NORMAL, variables: { pad: '' } });
      return JSON.stringify({ query: NORMAL, variables: { pad: 'g'.repeat(bytes - base.length) } });
    };
    expect((await post('/graphql', gqlBody(MiB))).json()).toEqual({ data: { metrics: { count: 1 } } });
    const gqlOver = await post('/graphql', gqlBody(MiB + 1));
    expect(gqlOver.status).toBe(413);
    expect(gqlOver.body).toMatch(/Content-Length of at most 1048576 bytes/);
    expect((await post('/graphql', JSON.stringify({ query: NORMAL }), { 'transfer-encoding': 'chunked' })).status).toBe(413);
    await expectServing(s.url);
  }, 60_000);
});

describe('a configured message size (AI_MONITOR_MAX_PAYLOAD_BYTES)', () => {
  it('moves both WebSocket limits and the HTTP one', async () => {
    const LIMIT = 4096;
    const s = await serve({ env: { AI_MONITOR_MAX_PAYLOAD_BYTES: String(LIMIT) } });
    const seed = await openSeed(s.wsUrl);
    seed.send(seedMessageOf(LIMIT));
    expect((await seed.next()).type).toBe('ack');
    seed.send(seedMessageOf(LIMIT + 1));
    expect((await seed.next()).error).toBe(`message of ${LIMIT + 1} bytes exceeds the limit of ${LIMIT} bytes; split the batch`);
    seed.send(seedMessageOf(4 * LIMIT + 1));
    expect((await seed.closed).code).toBe(1009);
    const raw = await rawGraphqlWs(s.wsUrl);
    raw.ws.send(JSON.stringify({ id: 'big', type: 'subscribe', payload: { query: NORMAL, variables: { pad: 'x'.repeat(LIMIT) } } }));
    expect(await raw.closed).toBe(1009);
    const over = await http(`${s.url}/api/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ingestBodyOf(LIMIT + 1) });
    expect(over.status).toBe(413);
    await expectServing(s.url);
  }, 60_000);
});

describe('rate limit on WebSocket upgrades', () => {
  it('refuses an upgrade over the limit with 429; open connections and other clients go on', async () => {
    const s = await serve({ env: { ...TOKEN_ENV, AI_MONITOR_RATE_LIMIT: '0.01', AI_MONITOR_RATE_LIMIT_BURST: '3' } });
    const asIngest = { headers: { authorization: `Bearer ${TOKENS.ingest}` } };
    const seed = await openSeed(s.wsUrl, asIngest); // takes one from the ingest token's bucket
    expect(await upgradeStatus(s.wsUrl, asIngest)).toBe(101); // two
    expect(await upgradeStatus(s.wsUrl, asIngest)).toBe(101); // three
    expect(await upgradeStatus(s.wsUrl, asIngest)).toBe(429);
    // A record message on the open connection is refused with an error; the connection stays.
    seed.send({ type: 'metrics', data: RECORD, request_id: 'limited' });
    expect(await seed.next()).toMatchObject({ type: 'error', request_id: 'limited', error: expect.stringMatching(/^rate limit exceeded/) });
    seed.send({ type: 'ping' });
    expect((await seed.next()).type).toBe('pong');
    // Other clients (here: another token, and anonymous /health by address) have their own buckets.
    await expectServing(s.url, TOKENS.admin);
  }, 60_000);
});

describe('batch size (AI_MONITOR_MAX_BATCH_SIZE)', () => {
  it('refuses a batch over the limit on the seed socket, HTTP and GraphQL, and accepts one at it', async () => {
    const s = await serve({ env: { AI_MONITOR_MAX_BATCH_SIZE: '10' } });
    const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ ...RECORD, id: `b-${n}-${i}` }));
    const seed = await openSeed(s.wsUrl);
    seed.send({ type: 'metrics_batch', data: batch(11), request_id: 'big' });
    expect(await seed.next()).toEqual({ type: 'error', request_id: 'big', error: 'batch of 11 records exceeds the limit of 10; split it' });
    seed.send({ type: 'metrics_batch', data: batch(10) });
    expect(await seed.next()).toMatchObject({ type: 'ack', accepted: 10 });

    const httpOver = await http(`${s.url}/api/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: batch(11) }) });
    expect(httpOver.status).toBe(413);
    expect(httpOver.json<{ error: string }>().error).toBe('batch of 11 records exceeds the limit of 10; split it');

    const mutation = 'mutation ($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { acceptedCount } }';
    const inputs = (n: number) => Array.from({ length: n }, () => ({ sessionId: 'b', userInput: 'u', intent: 'i', responseTimeMs: 1, success: true }));
    const gqlOver = await gqlAs(s.url, mutation, undefined, { inputs: inputs(11) });
    expect(gqlOver.errors?.[0]).toMatchObject({ message: 'batch of 11 records exceeds the limit of 10; split it', extensions: { code: 'BAD_USER_INPUT' } });
    expect((await gqlAs(s.url, mutation, undefined, { inputs: inputs(10) })).data).toEqual({ recordInteractions: { acceptedCount: 10 } });
    expect((await gqlAs(s.url, NORMAL)).data).toEqual({ metrics: { count: 20 } });
    await expectServing(s.url);
  }, 60_000);
});

describe('seed replies to a client that never reads', () => {
  it('are dropped once 4 MiB are waiting; the connection keeps working', async () => {
    const s = await serve();
    const seed = await openSeed(s.wsUrl);
    const socket = (seed.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    // Each message is small (5,000 empty records) but its error reply lists 5,000 rejections (~250 KB).
    const MESSAGES = 60;
    const empty = JSON.stringify({ type: 'metrics_batch', data: Array.from({ length: 5000 }, () => ({})) });
    for (let i = 0; i < MESSAGES; i++) seed.ws.send(empty);
    // A message after them is handled (in order) once the server has read everything before it.
    seed.send({ type: 'metrics', data: RECORD, request_id: 'marker' });
    await expect.poll(async () => (await gqlAs(s.url, NORMAL)).data?.metrics, { timeout: 60_000 }).toEqual({ count: 1 });
    let errors = 0;
    let pong: Record<string, unknown> | null = null;
    seed.ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      if (m.type === 'error') errors++;
      if (m.type === 'pong') pong = m;
    });
    socket.resume();
    // While more than 4 MiB still wait to be sent, a ping's pong is dropped too: ping until one
    // is answered (bounded), counting the error replies that did arrive.
    for (let round = 0; round < 60 && !pong; round++) {
      seed.send({ type: 'ping', request_id: round });
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(pong).toMatchObject({ type: 'pong' });
    // About 15 MB of replies were due; the socket buffers and 4 MiB held some, the rest were dropped.
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(MESSAGES);
    await expectServing(s.url);
  }, 120_000);
});

/** Counts `interactionRecorded` events on an SSE stream that can be paused and resumed. */
function sseSubscriber(base: string): Promise<{ pause(): void; resume(): void; count(): number; until(n: number): Promise<void> }> {
  const query = 'subscription { interactionRecorded { id userInput metadata } }';
  return new Promise((resolve, reject) => {
    const req = request(`${base}/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: 'text/event-stream', 'x-graphql-yoga-csrf': '1' }, agent: false });
    onCleanup(() => void req.destroy());
    req.on('error', reject);
    req.on('response', (res) => {
      expect(res.statusCode).toBe(200);
      let events = 0;
      let tail = '';
      const listeners = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const text = tail + chunk;
        const parts = text.split('"interactionRecorded"');
        events += parts.length - 1;
        tail = parts[parts.length - 1]!.slice(-25);
        listeners.forEach((l) => l());
      });
      resolve({
        pause: () => res.pause(),
        resume: () => res.resume(),
        count: () => events,
        until: (n) =>
          new Promise<void>((done, fail) => {
            if (events >= n) return done();
            const timer = setTimeout(() => fail(new Error(`SSE: ${events} of ${n} events`)), 60_000);
            const check = (): void => {
              if (events < n) return;
              clearTimeout(timer);
              listeners.delete(check);
              done();
            };
            listeners.add(check);
          }),
      });
    });
    req.end();
  });
}

async function metricValue(base: string, name: string): Promise<number> {
  const line = (await http(`${base}/metrics`)).body.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('subscribers that stop reading', () => {
  it('a graphql-ws connection with over 4 MiB unsent is closed with 4008; a stalled SSE stream loses its oldest events beyond the queue limit, counted', async () => {
    const QUEUE_LIMIT = 50;
    const s = await serve({ env: { AI_MONITOR_SUBSCRIBER_QUEUE_LIMIT: String(QUEUE_LIMIT) } });
    const healthy = graphqlWs(s.wsUrl);
    const feed = wsSubscribe(healthy.client, 'subscription { interactionRecorded { id } }');
    await wsOnce(healthy.client, NORMAL); // the subscription is registered by the time this answers

    const stalled = await rawGraphqlWs(s.wsUrl);
    stalled.ws.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: 'subscription { interactionRecorded { id userInput metadata } }' } }));
    const sse = await sseSubscriber(s.url);
    // Both stalled subscribers are registered once they see a first event.
    const seed = await openSeed(s.wsUrl);
    seed.send({ type: 'metrics', data: { ...RECORD, id: 'first' } });
    expect((await seed.next()).type).toBe('ack');
    await sse.until(1);
    expect(await stalled.next()).toMatchObject({ id: 'slow', type: 'next' });
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    sse.pause();

    // About 2 KB per event and 24 MB in all: more than the socket buffers and 4 MiB can hold.
    const BATCH = 500;
    const TOTAL = 12_000;
    const padding = 'm'.repeat(1800);
    for (let sent = 0; sent < TOTAL; sent += BATCH) {
      seed.send({ type: 'metrics_batch', data: Array.from({ length: BATCH }, (_, i) => ({ ...RECORD, id: `slow-${sent + i}`, metadata: { padding } })) });
      expect(await seed.next(30_000)).toMatchObject({ type: 'ack', accepted: BATCH });
      // Paced by the healthy subscriber, which receives every event.
      await feed.until(() => feed.results.length === 1 + sent + BATCH, 60_000);
    }

    (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await stalled.closed).toBe(4008);

    // Every event for the SSE subscriber was either delivered or dropped and counted.
    sse.resume();
    seed.send({ type: 'metrics', data: { ...RECORD, id: 'marker' } });
    expect((await seed.next()).type).toBe('ack');
    await feed.until(() => feed.results.length === TOTAL + 2);
    const dropped = await metricValue(s.url, 'ai_monitor_subscriber_events_dropped_total');
    expect(dropped).toBeGreaterThan(0);
    await sse.until(TOTAL + 2 - dropped);
    expect(sse.count()).toBe(TOTAL + 2 - dropped);
    expect(feed.errors).toBeNull();
    await expectServing(s.url);
  }, 240_000);
});
