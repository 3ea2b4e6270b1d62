/**
 * HTTP timeouts against slow clients, over raw TCP sockets: a request head trickled in
 * (slowloris), a connection that sends nothing, a body trickled past the request timeout and an
 * idle keep-alive connection are all closed by the server (408 where Node sends it), while other
 * clients are served meanwhile. Upgraded WebSockets are not subject to these timeouts.
 */
import { describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { expectServing, graphqlWs, http, onCleanup, openSeed, rawGraphqlWs, serve, wsOnce } from './helpers.js';

const HEADERS_MS = 1000;
const REQUEST_MS = 2000;
const KEEP_ALIVE_MS = 1000;
const TIMEOUT_ENV = {
  AI_MONITOR_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
  AI_MONITOR_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
  AI_MONITOR_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
};
/** Bytes are trickled this often; the loops end after TRICKLE_LIMIT sends (far past any timeout). */
const TRICKLE_EVERY_MS = 150;
const TRICKLE_LIMIT = 200;

interface RawClient {
  socket: Socket;
  /** Everything the server sent. */
  received(): string;
  /** Resolves when the server has closed the connection, with what it sent and how long the connection lived. */
  closed: Promise<{ text: string; livedMs: number }>;
}

async function rawConnect(port: number): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  onCleanup(() => void socket.destroy());
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => {}); // a reset after the server's close is expected
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const opened = performance.now();
  const closed = new Promise<{ text: string; livedMs: number }>((resolve) => socket.once('close', () => resolve({ text, livedMs: performance.now() - opened })));
  return { socket, received: () => text, closed };
}

/** Writes `next()` every TRICKLE_EVERY_MS until the server closes the connection or the bound is reached. */
async function trickle(client: RawClient, next: (i: number) => string): Promise<number> {
  let sent = 0;
  let open = true;
  void client.closed.then(() => (open = false));
  while (open && sent < TRICKLE_LIMIT) {
    client.socket.write(next(sent++));
    await new Promise((r) => setTimeout(r, TRICKLE_EVERY_MS));
  }
  return sent;
}

const REQUEST_TIMEOUT_REPLY = /^HTTP\/1\.1 408 Request Timeout\r\n/;

describe('HTTP timeouts against slow clients', () => {
  it('closes a connection whose request head trickles in (slowloris) with 408, serving others meanwhile', async () => {
    const s = await serve({ env: TIMEOUT_ENV });
    const slow = await rawConnect(s.port);
    slow.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const trickled = trickle(slow, (i) => `X-Slow-${i}: ${'a'.repeat(10)}\r\n`);
    // Served while the slow client holds its connection.
    await expectServing(s.url);
    const { text, livedMs } = await slow.closed;
    expect(text).toMatch(REQUEST_TIMEOUT_REPLY);
    expect(await trickled).toBeLessThan(TRICKLE_LIMIT);
    expect(livedMs).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    await expectServing(s.url);
  }, 60_000);

  it('closes a connection that never sends anything with 408 after the headers timeout', async () => {
    const s = await serve({ env: TIMEOUT_ENV });
    const silent = await Promise.all([0, 1, 2].map(() => rawConnect(s.port)));
    await expectServing(s.url);
    for (const c of silent) {
      const { text, livedMs } = await c.closed;
      expect(text).toMatch(REQUEST_TIMEOUT_REPLY);
      expect(livedMs).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    }
    await expectServing(s.url);
  }, 60_000);

  it('closes a connection whose body trickles past the request timeout with 408, on every route', async () => {
    const s = await serve({ env: TIMEOUT_ENV });
    for (const path of ['/api/interactions', '/graphql']) {
      const slow = await rawConnect(s.port);
      slow.socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[`);
      const trickled = trickle(slow, () => ' ');
      await expectServing(s.url);
      const { text, livedMs } = await slow.closed;
      expect(text, path).toMatch(REQUEST_TIMEOUT_REPLY);
      expect(await trickled).toBeLessThan(TRICKLE_LIMIT);
      // The head arrived at once: the request timeout, not the headers timeout, ended it.
      expect(livedMs).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    }
    await expectServing(s.url);
  }, 60_000);

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const s = await serve({ env: TIMEOUT_ENV });
    const c = await rawConnect(s.port);
    c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    const { text } = await c.closed;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/Keep-Alive: timeout=1\r\n/);
    await expectServing(s.url);
  }, 60_000);

  it('leaves WebSocket connections open past every timeout', async () => {
    const s = await serve({ env: TIMEOUT_ENV });
    const seed = await openSeed(s.wsUrl); // sends nothing after the upgrade
    const g = graphqlWs(s.wsUrl);
    expect((await wsOnce(g.client, '{ metrics { count } }')).data).toEqual({ metrics: { count: 0 } });
    let gqlClosed: number | null = null;
    void g.closed.then((code) => (gqlClosed = code));
    let seedClosed = false;
    void seed.closed.then(() => (seedClosed = true));
    // A slow body opened after the WebSockets is cut by the request timeout, the longest of the
    // three: by then every timeout has passed for the WebSockets too.
    const slow = await rawConnect(s.port);
    slow.socket.write('POST /api/interactions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n[');
    void trickle(slow, () => ' ');
    expect((await slow.closed).text).toMatch(REQUEST_TIMEOUT_REPLY);
    expect(seedClosed).toBe(false);
    seed.send({ type: 'ping', request_id: 'still-open' });
    expect(await seed.next()).toEqual({ type: 'pong', request_id: 'still-open' });
    seed.send({ type: 'metrics', data: { session_id: 'ws-timeout', user_input: 'u', intent: 'i', response_time_ms: 1, success: true } });
    expect(await seed.next()).toMatchObject({ type: 'ack', accepted: 1 });
    expect((await wsOnce(g.client, '{ metrics { count } }')).data).toEqual({ metrics: { count: 1 } });
    expect(gqlClosed).toBeNull();
    await expectServing(s.url);
  }, 60_000);

  it('drops a graphql-ws connection that stops answering keep-alive pings, keeping the others', async () => {
    const s = await serve();
    const healthy = graphqlWs(s.wsUrl); // ws answers pings by itself
    expect((await wsOnce(healthy.client, '{ metrics { count } }')).data).toEqual({ metrics: { count: 0 } });
    const silent = await rawGraphqlWs(s.wsUrl);
    // Stops reading: the server's pings go unanswered.
    (silent.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const connections = async (): Promise<number> => (await http(`${s.url}/health`)).json<{ connections: number }>().connections;
    expect(await connections()).toBe(2);
    // One ping interval (12 s) and one unanswered ping later, the server ends it.
    await expect.poll(connections, { timeout: 90_000, interval: 1000 }).toBe(1);
    expect((await wsOnce(healthy.client, '{ metrics { count } }')).data).toEqual({ metrics: { count: 0 } });
    await expectServing(s.url);
  }, 120_000);
});
