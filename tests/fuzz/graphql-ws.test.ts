/**
 * Fuzzing graphql-ws (sub-protocol graphql-transport-ws on /graphql) against a real server
 * process: unknown message types, `subscribe` before `connection_init`, duplicate ids, invalid
 * payloads, the per-connection operation limit, oversized frames. The server answers with the
 * protocol's close codes (naming the problem in the reason) or an error for that one
 * operation, and always survives.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import WebSocket from 'ws';
import { seedRecord } from '../helpers/seed-client.js';
import { hostileValue } from './arbitraries.js';
import { fuzzServer } from './invariant.js';
import { countCase, fuzzTimeout, params, reportCases } from './settings.js';

reportCases('graphql-ws');

const MiB = 1024 * 1024;
const MAX_OPERATIONS = 5;
/** The close codes graphql-ws uses for a client's mistakes, and ws's for an oversized frame. */
const CLIENT_FAULT_CLOSES = [4400, 4401, 4403, 4408, 4409, 4429, 1009];
const SERVER_MESSAGE_TYPES = ['connection_ack', 'next', 'error', 'complete', 'ping', 'pong'];

type Msg = Record<string, unknown>;

/** A raw graphql-transport-ws client: send anything, read everything, see how it closed. */
class GqlWs {
  readonly inbox: Msg[] = [];
  private readonly watchers = new Set<() => void>();
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.inbox.push(JSON.parse(String(data)) as Msg);
      this.notify();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.notify();
    });
    ws.on('error', () => {});
  }

  static async open(url: string): Promise<GqlWs> {
    const ws = new WebSocket(`${url}/graphql`, 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new GqlWs(ws);
  }

  send(msg: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg));
  }

  /** Waits until `check` holds or the connection closes (then false), up to `ms`. */
  until(check: () => boolean, ms = 20_000): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.watchers.delete(watch);
        resolve(ok);
      };
      const watch = (): void => {
        if (check()) done(true);
        else if (this.closed) done(false);
      };
      const timer = setTimeout(() => done(false), ms);
      this.watchers.add(watch);
      watch();
    });
  }

  /** The server still answers on this connection (ping → pong). */
  async answers(): Promise<boolean> {
    const before = this.inbox.filter((m) => m.type === 'pong').length;
    this.send({ type: 'ping' });
    return this.until(() => this.inbox.filter((m) => m.type === 'pong').length > before, 15_000);
  }

  close(): void {
    this.ws.terminate();
  }

  private notify(): void {
    for (const w of [...this.watchers]) w();
  }
}

const SUBSCRIPTION = 'subscription { interactionRecorded { id } }';

/** Messages a client might send, well-formed or not. */
const clientMessage: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom({ type: 'connection_init' }, { type: 'connection_init', payload: {} }, { type: 'ping' }, { type: 'pong' }) },
  { weight: 3, arbitrary: fc.record({ id: fc.constantFrom('1', '2', 'a'), type: fc.constant('subscribe'), payload: fc.constant({ query: SUBSCRIPTION }) }) },
  { weight: 1, arbitrary: fc.record({ id: fc.constantFrom('1', '2', 'a'), type: fc.constant('subscribe'), payload: fc.constant({ query: '{ metrics(window: "1h") { count } }' }) }) },
  { weight: 2, arbitrary: fc.record({ id: fc.oneof(fc.constantFrom('1', '2'), hostileValue), type: fc.constant('complete') }) },
  { weight: 3, arbitrary: fc.record({ id: hostileValue, type: fc.constant('subscribe'), payload: fc.oneof(hostileValue, fc.record({ query: hostileValue, variables: hostileValue, operationName: hostileValue })) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.oneof(fc.constantFrom('start', 'stop', 'connection_terminate', 'next', 'error', 'connection_ack', 'Subscribe', ''), hostileValue), id: hostileValue, payload: hostileValue }) },
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
);

/** Every message the server sent is a protocol message; a close is the client's fault, with a reason. */
function expectWellBehaved(c: GqlWs): void {
  for (const m of c.inbox) expect(SERVER_MESSAGE_TYPES).toContain(m.type);
  if (!c.closed) return;
  expect(CLIENT_FAULT_CLOSES, `closed ${c.closed.code} ${c.closed.reason}`).toContain(c.closed.code);
  if (c.closed.code !== 1009) expect(c.closed.reason).toMatch(/\w/);
}

async function settle(c: GqlWs): Promise<void> {
  // A ping flushes what the server had to say about the messages before it (or the close).
  if (!c.closed) await c.answers();
}

describe('graphql-ws fuzz', () => {
  const server = fuzzServer({ env: { AI_MONITOR_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(MAX_OPERATIONS) } });

  it('random message sequences get protocol answers or a client-fault close naming the problem', async () => {
    const inv = server();
    await fc.assert(
      fc.asyncProperty(fc.array(clientMessage, { minLength: 1, maxLength: 12 }), async (messages) => {
        countCase('graphql-ws');
        const c = await GqlWs.open(inv.server.wsUrl);
        for (const m of messages) c.send(m);
        await settle(c);
        inv.assertAlive();
        expectWellBehaved(c);
        c.close();
      }),
      params(120),
    );
    await inv.check();
  });

  it('subscribe before connection_init closes with 4401; a second connection_init with 4429', async () => {
    const inv = server();
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.string({ minLength: 1, maxLength: 20 }), async (early, id) => {
        countCase('graphql-ws');
        const c = await GqlWs.open(inv.server.wsUrl);
        if (early) {
          c.send({ id, type: 'subscribe', payload: { query: SUBSCRIPTION } });
          await c.until(() => c.closed !== null);
          expect(c.closed?.code).toBe(4401);
        } else {
          c.send({ type: 'connection_init' });
          c.send({ type: 'connection_init' });
          await c.until(() => c.closed !== null);
          expect(c.closed?.code).toBe(4429);
        }
        expect(c.closed?.reason).toMatch(/\w/);
        inv.assertAlive();
      }),
      params(10),
    );
    await inv.check();
  });

  it('a message type only servers send (connection_ack, next, error) closes with 4400 naming it', async () => {
    const inv = server();
    const wrongWay = fc.record({
      type: fc.constantFrom('connection_ack', 'next', 'error'),
      id: fc.oneof(fc.string({ maxLength: 10 }), hostileValue),
      payload: fc.oneof(fc.constant(undefined), fc.constant(null), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })),
    });
    await fc.assert(
      fc.asyncProperty(fc.boolean(), wrongWay, async (init, msg) => {
        countCase('graphql-ws');
        const c = await GqlWs.open(inv.server.wsUrl);
        if (init) {
          c.send({ type: 'connection_init' });
          expect(await c.until(() => c.inbox.some((m) => m.type === 'connection_ack'))).toBe(true);
        }
        c.send(msg);
        await c.until(() => c.closed !== null);
        expect(c.closed?.code).toBe(4400);
        expectWellBehaved(c);
        inv.assertAlive();
      }),
      params(20),
    );
    await inv.check();
  });

  it('a duplicate id of a running subscription closes with 4409', async () => {
    const inv = server();
    await fc.assert(
      // Long and multi-byte ids too: graphql-ws puts the id in the close reason (at most 123 bytes).
      fc.asyncProperty(fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ unit: 'grapheme', minLength: 60, maxLength: 400 })), async (id) => {
        countCase('graphql-ws');
        const c = await GqlWs.open(inv.server.wsUrl);
        c.send({ type: 'connection_init' });
        expect(await c.until(() => c.inbox.some((m) => m.type === 'connection_ack'))).toBe(true);
        c.send({ id, type: 'subscribe', payload: { query: SUBSCRIPTION } });
        c.send({ id, type: 'subscribe', payload: { query: SUBSCRIPTION } });
        await c.until(() => c.closed !== null);
        expect(c.closed?.code).toBe(4409);
        expect(c.closed?.reason).toMatch(/^Subscriber for /);
        inv.assertAlive();
      }),
      params(10),
    );
    await inv.check();
  });

  it('operations beyond the per-connection limit get an error naming the limit; the others keep running', async () => {
    const inv = server();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 * MAX_OPERATIONS }), async (n) => {
        countCase('graphql-ws');
        const c = await GqlWs.open(inv.server.wsUrl);
        c.send({ type: 'connection_init' });
        expect(await c.until(() => c.inbox.some((m) => m.type === 'connection_ack'))).toBe(true);
        for (let i = 0; i < n; i++) c.send({ id: `s${i}`, type: 'subscribe', payload: { query: SUBSCRIPTION } });
        const refused = Math.max(0, n - MAX_OPERATIONS);
        expect(await c.until(() => c.inbox.filter((m) => m.type === 'error').length >= refused)).toBe(true);
        expect(await c.answers()).toBe(true);
        const errors = c.inbox.filter((m) => m.type === 'error');
        expect(errors).toHaveLength(refused);
        for (const e of errors) expect(JSON.stringify(e.payload)).toMatch(/too many operations on this connection \(limit 5\)/);
        // The running subscriptions still deliver.
        if (n > 0) {
          const ack = await fetch(`${inv.server.url}/api/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(seedRecord({ session_id: 'fuzz-gqlws' })) });
          const body = (await ack.json()) as { ids: string[] };
          inv.acknowledge(body.ids);
          const running = Math.min(n, MAX_OPERATIONS);
          expect(await c.until(() => c.inbox.filter((m) => m.type === 'next').length >= running)).toBe(true);
        }
        expect(c.closed).toBeNull();
        c.close();
        inv.assertAlive();
      }),
      params(6),
    );
    await inv.check();
  });

  it('frames around and beyond the 1 MiB limit: refused as an operation error or closed with 1009', async () => {
    const inv = server();
    const size = fc.oneof(fc.integer({ min: MiB - 128, max: MiB + 128 }), fc.constantFrom(4 * MiB, 5 * MiB, 16 * MiB));
    await fc.assert(
      fc.asyncProperty(size, async (bytes) => {
        countCase('graphql-ws');
        const c = await GqlWs.open(inv.server.wsUrl);
        c.send({ type: 'connection_init' });
        expect(await c.until(() => c.inbox.some((m) => m.type === 'connection_ack'))).toBe(true);
        const empty = JSON.stringify({ id: 'big', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { pad: '' } } });
        const frame = empty.replace('"pad":""', `"pad":"${'x'.repeat(bytes - empty.length)}"`);
        c.send(frame);
        if (bytes > MiB) {
          await c.until(() => c.closed !== null, 30_000);
          expect(c.closed?.code).toBe(1009);
        } else {
          expect(await c.answers()).toBe(true);
          expectWellBehaved(c);
        }
        c.close();
        inv.assertAlive();
      }),
      params(6),
    );
    await inv.check();
  }, fuzzTimeout(120_000));
});

