/**
 * Fuzzing the seed WebSocket protocol against a real server process: random and mutated
 * messages, binary frames, sizes around the 1 MiB and 4 MiB limits and far beyond, deep
 * nesting, huge numbers, lone surrogates, fragmented messages, frames cut off mid-way, ping
 * floods, protocol violations, and (on a second server with tokens) everything before `auth`.
 * A bad message gets an error reply on an open connection; the server always survives.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import WebSocket from 'ws';
import { SeedClient, seedRecord as baseRecord, type SeedReply } from '../helpers/seed-client.js';
import { deepJson, hostileValue, mutatedRecord, seedRecord } from './arbitraries.js';
import { fuzzServer, type ServerInvariant } from './invariant.js';
import { OP, closeCodeOf, encodeFrame, hangUp, rawWebSocket } from './raw.js';
import { countCase, fuzzTimeout, params, reportCases } from './settings.js';

reportCases('seed-ws');

const MiB = 1024 * 1024;
const LIMIT = MiB;
const HARD_LIMIT = 4 * MiB;
const REPLY_TYPES = ['ack', 'error', 'pong', 'auth_ok'];

interface Frame {
  data: string | Buffer;
  binary: boolean;
}

const text = (data: string): Frame => ({ data, binary: false });
const json = (value: unknown): Frame => text(JSON.stringify(value));

/** One record message as raw text with a number JSON cannot hold in a double, or with too many digits. */
const hugeNumberMessage = fc
  .tuple(fc.constantFrom('response_time_ms', 'cost_usd', 'input_tokens', 'timestamp', 'feedback_score'), fc.constantFrom('1e400', '-1e400', '9'.repeat(400), '1e-400', '123456789012345678901234567890'))
  .map(([field, number]) => {
    const body = JSON.stringify(baseRecord()).slice(0, -1);
    return text(`{"type":"metrics","data":${body},"${field}":${number}}}`);
  });

/** A record whose metadata nests `depth` levels (the store cannot serialise very deep values). */
const deepMetadataMessage = fc.integer({ min: 1, max: 20_000 }).map((depth) => {
  const body = JSON.stringify(baseRecord({ session_id: 'fuzz-deep' })).slice(0, -1);
  return text(`{"type":"metrics","data":${body},"metadata":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`);
});

/** Any message below the 1 MiB limit. */
const seedMessage: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('metrics'), data: fc.oneof(seedRecord, mutatedRecord, hostileValue), request_id: hostileValue }, { requiredKeys: ['type', 'data'] }).map(json) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('metrics_batch'), data: fc.array(fc.oneof(seedRecord, mutatedRecord, hostileValue), { maxLength: 25 }) }).map(json) },
  { weight: 2, arbitrary: fc.record({ type: fc.oneof(fc.constantFrom('metrics', 'metrics_batch', 'auth', 'ping', 'subscribe', 'ack', ''), hostileValue), data: hostileValue, token: hostileValue, request_id: hostileValue }, { requiredKeys: ['type'] }).map(json) },
  { weight: 2, arbitrary: fc.jsonValue().map(json) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 500 }).map(text) },
  { weight: 1, arbitrary: deepJson.map(text) },
  { weight: 1, arbitrary: deepMetadataMessage },
  { weight: 1, arbitrary: hugeNumberMessage },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((b) => ({ data: Buffer.from(b), binary: true })) },
);

/** Sends one frame and returns its one reply, or the close that came instead. */
function exchange(client: SeedClient, frame: Frame): Promise<SeedReply> {
  client.sendRaw(frame.data, frame.binary);
  return client.nextOrClose(20_000);
}

function expectReply(reply: SeedReply, inv: ServerInvariant): void {
  expect(REPLY_TYPES).toContain(reply.type);
  if (reply.type === 'error') expect(String(reply.error)).toMatch(/\w/);
  if (reply.type === 'ack') inv.acknowledge(reply.ids as string[]);
}

/** A record message of exactly `bytes` bytes (UTF-8), padded in user_input. */
function recordOfSize(bytes: number): string {
  const empty = JSON.stringify({ type: 'metrics', data: baseRecord({ session_id: 'fuzz-size', user_input: '' }) });
  return empty.replace('"user_input":""', `"user_input":"${'x'.repeat(bytes - empty.length)}"`);
}

/** What the README promises for a message of `bytes`: processed, refused with an error, or the connection closed. */
function sizeVerdict(bytes: number): 'processed' | 'refused' | 'closed' {
  if (bytes <= LIMIT) return 'processed';
  return bytes <= HARD_LIMIT ? 'refused' : 'closed';
}

async function connect(inv: ServerInvariant): Promise<SeedClient> {
  const client = await SeedClient.connect(inv.server.wsUrl);
  // The server may close mid-send (1009); the test judges the close code, not the write.
  client.ws.on('error', () => {});
  return client;
}

describe('seed socket fuzz', () => {
  const server = fuzzServer();

  it('answers every message under 1 MiB with one reply on a connection that stays open', async () => {
    const inv = server();
    const client = await connect(inv);
    await fc.assert(
      fc.asyncProperty(seedMessage, async (frame) => {
        countCase('seed');
        const reply = await exchange(client, frame);
        inv.assertAlive();
        if (reply.type === 'closed') throw new Error(`the connection closed (${reply.code}) on a message under the limit`);
        expectReply(reply, inv);
      }),
      params(250),
    );
    await client.close();
    await inv.check();
  });

  it('a record nested too deep is refused alone: records committed with it are stored', async () => {
    const inv = server();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 65, max: 12_000 }), fc.integer({ min: 1, max: 5 }), async (depth, good) => {
        countCase('seed');
        const client = await connect(inv);
        const deep = `{"type":"metrics","data":${JSON.stringify(baseRecord()).slice(0, -1)},"metadata":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`;
        // Sent back to back, so the server reads them in one turn: one group commit.
        client.sendRaw(deep);
        for (let i = 0; i < good; i++) client.send({ type: 'metrics', data: baseRecord({ session_id: `fuzz-neighbour-${i}` }) });
        const first = await client.next(20_000);
        expect(first.type).toBe('error');
        expect(String(first.error)).toMatch(/metadata: must not nest/);
        for (let i = 0; i < good; i++) {
          const reply = await client.next(20_000);
          expect(reply.type).toBe('ack');
          inv.acknowledge(reply.ids as string[]);
        }
        await client.close();
        inv.assertAlive();
      }),
      params(8),
    );
    await inv.check();
  });

  it.each([LIMIT - 1, LIMIT, LIMIT + 1, HARD_LIMIT - 1, HARD_LIMIT, HARD_LIMIT + 1, 5 * MiB, 16 * MiB])(
    'a %i-byte text message gets the documented answer',
    async (bytes) => {
      const inv = server();
      countCase('seed');
      const client = await connect(inv);
      const reply = await exchange(client, text(recordOfSize(bytes)));
      inv.assertAlive();
      const verdict = sizeVerdict(bytes);
      if (verdict === 'closed') {
        expect(reply).toEqual({ type: 'closed', code: 1009 });
      } else if (verdict === 'refused') {
        expect(reply.type).toBe('error');
        expect(String(reply.error)).toMatch(/exceeds the limit of 1048576 bytes/);
        expect((await exchange(client, json({ type: 'ping' }))).type).toBe('pong');
      } else {
        expect(reply.type).toBe('ack');
        inv.acknowledge(reply.ids as string[]);
      }
      await client.close();
      await inv.check();
    },
    120_000,
  );

  it('sizes near the limits, text or binary, whole or fragmented, get the documented answer', async () => {
    const inv = server();
    const size = fc.oneof(
      fc.integer({ min: LIMIT - 256, max: LIMIT + 256 }),
      fc.integer({ min: HARD_LIMIT - 256, max: HARD_LIMIT + 256 }),
      fc.integer({ min: 2 * MiB, max: 3 * MiB }),
      fc.integer({ min: 6 * MiB, max: 9 * MiB }),
    );
    await fc.assert(
      fc.asyncProperty(size, fc.boolean(), fc.integer({ min: 1, max: 12 }), async (bytes, binary, pieces) => {
        countCase('seed');
        const client = await connect(inv);
        const payload = Buffer.from(recordOfSize(bytes));
        const step = Math.ceil(payload.length / pieces);
        for (let at = 0; at < payload.length; at += step) {
          if (client.ws.readyState !== WebSocket.OPEN) break;
          client.ws.send(payload.subarray(at, at + step), { binary, fin: at + step >= payload.length });
        }
        const reply = await client.nextOrClose(30_000);
        inv.assertAlive();
        const verdict = sizeVerdict(bytes);
        if (verdict === 'closed') expect(reply).toEqual({ type: 'closed', code: 1009 });
        else if (verdict === 'refused') expect(String(reply.error)).toMatch(/exceeds the limit/);
        else if (binary) expect(String(reply.error)).toMatch(/binary frames are not accepted/);
        else {
          expect(reply.type).toBe('ack');
          inv.acknowledge(reply.ids as string[]);
        }
        await client.close();
      }),
      params(6),
    );
    await inv.check();
  }, fuzzTimeout(180_000));

  it('a valid message split into random fragments, with pings between them, is acknowledged', async () => {
    const inv = server();
    const client = await connect(inv);
    await fc.assert(
      fc.asyncProperty(seedRecord, fc.array(fc.nat(), { maxLength: 20 }), fc.boolean(), async (record, cuts, pingBetween) => {
        countCase('seed');
        const payload = Buffer.from(JSON.stringify({ type: 'metrics', data: record }));
        const points = [...new Set(cuts.map((c) => c % (payload.length + 1)))].sort((a, b) => a - b);
        const bounds = [0, ...points.filter((p) => p > 0 && p < payload.length), payload.length];
        for (let i = 0; i + 1 < bounds.length; i++) {
          client.ws.send(payload.subarray(bounds[i], bounds[i + 1]), { binary: false, fin: i + 2 === bounds.length });
          if (pingBetween) client.ws.ping();
        }
        const reply = await client.next(20_000);
        expectReply(reply, inv);
        inv.assertAlive();
      }),
      params(40),
    );
    await client.close();
    await inv.check();
  });

  it('a frame cut off mid-way (the client hangs up or resets) costs only that connection', async () => {
    const inv = server();
    const frameArb = fc.oneof(
      seedRecord.map((r) => encodeFrame(OP.text, Buffer.from(JSON.stringify({ type: 'metrics', data: r })))),
      fc.integer({ min: 70_000, max: 300_000 }).map((n) => encodeFrame(OP.text, Buffer.from(recordOfSize(n)))),
      fc.uint8Array({ maxLength: 300 }).map((b) => encodeFrame(OP.binary, Buffer.from(b), { fin: false })),
    );
    await fc.assert(
      fc.asyncProperty(frameArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('end', 'destroy', 'reset') as fc.Arbitrary<'end' | 'destroy' | 'reset'>, async (frame, cutAt, how) => {
        countCase('seed');
        const conn = await rawWebSocket(inv.server.port, '/');
        conn.socket.write(frame.subarray(0, Math.floor(frame.length * cutAt)));
        hangUp(conn.socket, how);
        await conn.closedWithin(5_000);
        inv.assertAlive();
      }),
      params(40),
    );
    await inv.check();
  });

  it('pings in bursts are answered and the connection still records', async () => {
    const inv = server();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), fc.uint8Array({ maxLength: 125 }), async (bursts, payload) => {
        countCase('seed');
        const client = await connect(inv);
        let pongs = 0;
        client.ws.on('pong', () => pongs++);
        for (const burst of bursts) {
          for (let i = 0; i < burst; i++) client.ws.ping(Buffer.from(payload));
          // Each burst is answered before the next: the client reads its pongs.
          const reply = await exchange(client, json({ type: 'ping' }));
          expect(reply.type).toBe('pong');
        }
        const reply = await client.request({ type: 'metrics', data: baseRecord({ session_id: 'fuzz-after-pings' }) });
        expect(reply.type).toBe('ack');
        inv.acknowledge(reply.ids as string[]);
        expect(pongs).toBe(bursts.reduce((a, b) => a + b, 0));
        await client.close();
        inv.assertAlive();
      }),
      params(6),
    );
    await inv.check();
  });

  it('a ping flood ends only the flooding connection; another connection keeps recording', async () => {
    const inv = server();
    const bystander = await connect(inv);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 200, max: 5000 }), fc.uint8Array({ maxLength: 125 }), async (count, payload) => {
        countCase('seed');
        const conn = await rawWebSocket(inv.server.port, '/');
        const ping = encodeFrame(OP.ping, Buffer.from(payload));
        // One write: the server reads the whole flood at once and has over 60 pongs unsent (ws's bound).
        conn.socket.write(Buffer.concat(Array.from({ length: count }, () => ping)));
        expect(await conn.closedWithin(15_000)).toBe(true);
        inv.assertAlive();
        const reply = await bystander.request({ type: 'metrics', data: baseRecord({ session_id: 'fuzz-bystander' }) });
        expect(reply.type).toBe('ack');
        inv.acknowledge(reply.ids as string[]);
      }),
      params(4),
    );
    await bystander.close();
    await inv.check();
  });

  it('frames that break the WebSocket protocol close that connection with the RFC 6455 code', async () => {
    const inv = server();
    const invalidUtf8 = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.concat([Buffer.from('{"type":"'), Buffer.from(b), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]));
    const violation = fc.oneof(
      invalidUtf8.map((b) => ({ frame: encodeFrame(OP.text, b), code: 1007 })),
      fc.uint8Array({ minLength: 126, maxLength: 400 }).map((b) => ({ frame: encodeFrame(OP.ping, Buffer.from(b)), code: 1002 })),
      fc.uint8Array({ maxLength: 50 }).map((b) => ({ frame: encodeFrame(OP.text, Buffer.from(b), { mask: false }), code: 1002 })),
      fc.integer({ min: 1, max: 7 }).map((rsv) => ({ frame: encodeFrame(OP.text, Buffer.from('{}'), { rsv }), code: 1002 })),
      fc.constantFrom(0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf).map((op) => ({ frame: encodeFrame(op, Buffer.from('x')), code: 1002 })),
      fc.constant({ frame: encodeFrame(OP.continuation, Buffer.from('orphan')), code: 1002 }),
      fc.constant({ frame: encodeFrame(OP.ping, Buffer.from('x'), { fin: false }), code: 1002 }),
      // More fragments than ws buffers for one message (16,384).
      fc.integer({ min: 16_385, max: 17_000 }).map((n) => ({
        frame: Buffer.concat([encodeFrame(OP.text, Buffer.from('{'), { fin: false }), ...Array.from({ length: n }, () => encodeFrame(OP.continuation, Buffer.alloc(0), { fin: false }))]),
        code: 1008,
      })),
    );
    await fc.assert(
      fc.asyncProperty(violation, async ({ frame, code }) => {
        countCase('seed');
        const conn = await rawWebSocket(inv.server.port, '/fuzz');
        conn.socket.write(frame);
        // The server sends its close frame, then waits for the client's (which never comes here).
        expect(await conn.until((d) => closeCodeOf(d) !== null, 15_000)).toBe(true);
        expect(closeCodeOf(conn.received())).toBe(code);
        conn.socket.destroy();
        inv.assertAlive();
      }),
      params(30),
    );
    await inv.check();
  });

});

const TOKEN = 'fuzz-ingest-token';
const ADMIN = 'fuzz-admin-token';

type Step = { kind: 'record' | 'batch' | 'ping' | 'auth-good' | 'auth-bad' | 'auth-odd' | 'bare-good' | 'bare-bad' | 'junk' } & { value?: unknown };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom<Step['kind']>('record', 'batch', 'ping', 'auth-good', 'auth-bad', 'bare-good', 'bare-bad').map((kind) => ({ kind })),
  hostileValue.map((value) => ({ kind: 'auth-odd' as const, value })),
  fc.record({ type: fc.constantFrom('subscribe', 'hello', ''), data: hostileValue }).map((value) => ({ kind: 'junk' as const, value })),
);

function frameOf(s: Step): string {
  switch (s.kind) {
    case 'record':
      return JSON.stringify({ type: 'metrics', data: baseRecord({ session_id: 'fuzz-auth' }) });
    case 'batch':
      return JSON.stringify({ type: 'metrics_batch', data: [baseRecord({ session_id: 'fuzz-auth' })] });
    case 'ping':
      return JSON.stringify({ type: 'ping' });
    case 'auth-good':
      return JSON.stringify({ type: 'auth', token: TOKEN });
    case 'auth-bad':
      return JSON.stringify({ type: 'auth', token: 'not-a-token' });
    case 'auth-odd':
      return JSON.stringify({ type: 'auth', token: s.value });
    case 'bare-good':
      return TOKEN;
    case 'bare-bad':
      return 'wrong-token';
    case 'junk':
      return JSON.stringify(s.value);
  }
}

/** What the server must answer, given whether the connection is authenticated and whether this is its first message. */
function expected(s: Step, authed: boolean, first: boolean): { reply: string; close?: number; authed: boolean } {
  switch (s.kind) {
    case 'record':
    case 'batch':
      return authed ? { reply: 'ack', authed } : { reply: 'error', close: 4401, authed };
    case 'ping':
      return { reply: 'pong', authed };
    case 'auth-good':
      return { reply: 'auth_ok', authed: true };
    case 'auth-bad':
      return { reply: 'error', close: 4403, authed };
    case 'auth-odd':
      return typeof s.value === 'string' ? (s.value === TOKEN ? { reply: 'auth_ok', authed: true } : { reply: 'error', close: 4403, authed }) : { reply: 'error', authed };
    case 'bare-good':
      return first ? { reply: 'auth_ok', authed: true } : { reply: 'error', authed };
    case 'bare-bad':
      return first ? { reply: 'error', close: 4403, authed } : { reply: 'error', authed };
    case 'junk':
      return { reply: 'error', authed };
  }
}

describe('seed socket fuzz with tokens', () => {
  const server = fuzzServer({ env: { AI_MONITOR_INGEST_TOKENS: TOKEN, AI_MONITOR_ADMIN_TOKENS: ADMIN }, token: ADMIN });

  it('before auth: records are refused (4401), bad tokens close (4403), pings and auth work, records after auth are stored', async () => {
    const inv = server();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        countCase('seed-auth');
        const client = await SeedClient.connect(inv.server.wsUrl);
        let authed = false;
        for (const [i, s] of steps.entries()) {
          const want = expected(s, authed, i === 0);
          client.sendRaw(frameOf(s));
          const reply = await client.next(20_000);
          expect(reply.type, `step ${i} ${s.kind}`).toBe(want.reply);
          if (reply.type === 'ack') inv.acknowledge(reply.ids as string[]);
          authed = want.authed;
          if (want.close !== undefined) {
            await client.closing;
            expect(client.closed?.code).toBe(want.close);
            break;
          }
        }
        await client.close();
        inv.assertAlive();
      }),
      params(60),
    );
    await inv.check();
  });
});

describe('seed socket fuzz with compression', () => {
  const server = fuzzServer({ env: { AI_MONITOR_WS_COMPRESSION: 'true' } });

  it('compressed messages are judged by their inflated size: a small frame that inflates past 4 MiB closes with 1009', async () => {
    const inv = server();
    const size = fc.oneof(fc.integer({ min: 1000, max: LIMIT }), fc.integer({ min: LIMIT + 1, max: HARD_LIMIT }), fc.integer({ min: HARD_LIMIT + 1, max: 64 * MiB }));
    await fc.assert(
      fc.asyncProperty(size, async (bytes) => {
        countCase('seed-deflate');
        const client = await SeedClient.connect(inv.server.wsUrl, { perMessageDeflate: true });
        client.ws.on('error', () => {});
        // Repetitive text compresses about a thousandfold: a bomb in a few kilobytes.
        const reply = await exchange(client, text(recordOfSize(bytes)));
        inv.assertAlive();
        const verdict = sizeVerdict(bytes);
        if (verdict === 'closed') expect(reply).toEqual({ type: 'closed', code: 1009 });
        else if (verdict === 'refused') expect(String(reply.error)).toMatch(/exceeds the limit/);
        else {
          expect(reply.type).toBe('ack');
          inv.acknowledge(reply.ids as string[]);
        }
        await client.close();
      }),
      params(6),
    );
    await inv.check();
  }, fuzzTimeout(120_000));
});
