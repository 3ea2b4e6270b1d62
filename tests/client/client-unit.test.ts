/**
 * The TypeScript SDK's own behaviour (mapping, batching, back-off, splitting, accounting, never
 * throwing), driven through its `fetch` option so that every server answer can be staged.
 * The same behaviours against the real server are in client-server.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import {
  AIMonitorClient,
  AIMonitorError,
  errorTypeOf,
  toWireRecord,
  type AIMonitorClientOptions,
  type InteractionWire,
} from '@ai-monitor/client';
import { REPO_ROOT } from '../helpers/server.js';

interface Call {
  url: string;
  headers: Record<string, string>;
  records: InteractionWire[];
  bytes: number;
  at: number;
}

type Responder = (call: Call, n: number) => Response | Promise<Response> | 'throw';

/** A `fetch` that records each request and answers with `responder`. */
function fakeFetch(responder: Responder): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = String(init?.body ?? '');
    const parsed = JSON.parse(body) as { data: InteractionWire[] };
    const call: Call = {
      url: String(input),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      records: parsed.data,
      bytes: Buffer.byteLength(body),
      at: Date.now(),
    };
    calls.push(call);
    const r = await responder(call, calls.length);
    if (r === 'throw') throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    return r;
  };
  return { fetch: f as typeof fetch, calls };
}

const ok = (call: Call): Response =>
  Response.json({ accepted: call.records.length, ids: call.records.map((r) => r.id), rejected: [] });

function record(i: number, extra: Record<string, unknown> = {}) {
  return { sessionId: 's1', userInput: `msg-${i}`, intent: 'chat', responseTimeMs: 10 + i, success: true, ...extra };
}

function makeClient(opts: AIMonitorClientOptions): { client: AIMonitorClient; errors: AIMonitorError[] } {
  const errors: AIMonitorError[] = [];
  const client = new AIMonitorClient({ url: 'http://127.0.0.1:9', onError: (e) => errors.push(e), ...opts });
  return { client, errors };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapping camelCase → wire snake_case', () => {
  it('maps every field in one function', () => {
    const at = new Date('2025-01-02T03:04:05.678Z');
    const wire = toWireRecord({
      id: 'abc',
      sessionId: 'sess',
      timestamp: at,
      userInput: 'hello',
      intent: 'greet',
      toolsUsed: [
        { tool: 'search', params: { q: 'x' }, durationMs: 12, success: false, error: new Error('boom') },
        { tool: 'read', params: {} },
      ],
      responseTimeMs: 42,
      success: false,
      errorType: 'TimeoutError',
      assistant: 'bot',
      version: '1.2.3',
      model: 'm-1',
      userId: 'u1',
      inputTokens: 10,
      outputTokens: 20,
      costUsd: 0.01,
      feedbackScore: 4,
      metadata: { a: 1 },
    });
    expect(wire).toEqual({
      id: 'abc',
      session_id: 'sess',
      timestamp: '2025-01-02T03:04:05.678Z',
      user_input: 'hello',
      intent: 'greet',
      tools_used: [
        { tool: 'search', params: { q: 'x' }, duration_ms: 12, success: false, error: 'boom' },
        { tool: 'read', params: {} },
      ],
      response_time_ms: 42,
      success: false,
      error_type: 'TimeoutError',
      assistant: 'bot',
      version: '1.2.3',
      model: 'm-1',
      user_id: 'u1',
      input_tokens: 10,
      output_tokens: 20,
      cost_usd: 0.01,
      feedback_score: 4,
      metadata: { a: 1 },
    });
  });

  it('applies defaults, fills the timestamp and omits undefined fields', () => {
    const now = new Date('2025-05-05T00:00:00.000Z');
    const wire = toWireRecord(
      { userInput: 'x', intent: 'i', responseTimeMs: 1, success: true, metadata: { b: 2 } },
      { sessionId: 'd', assistant: 'bot', metadata: { a: 1 } },
      now,
    );
    expect(wire).toEqual({
      session_id: 'd',
      timestamp: '2025-05-05T00:00:00.000Z',
      user_input: 'x',
      intent: 'i',
      response_time_ms: 1,
      success: true,
      assistant: 'bot',
      metadata: { a: 1, b: 2 },
    });
    expect(toWireRecord({ userInput: 'x', intent: 'i', responseTimeMs: 1, success: true, timestamp: '2025-01-01T00:00:00' }).timestamp).toBe(
      '2025-01-01T00:00:00',
    );
  });

  it('names error types by name or class', () => {
    class QuotaError extends Error {}
    class NamedError extends Error {
      override name = 'RateLimited';
    }
    expect(errorTypeOf(new TypeError('x'))).toBe('TypeError');
    expect(errorTypeOf(new QuotaError('x'))).toBe('QuotaError');
    expect(errorTypeOf(new NamedError('x'))).toBe('RateLimited');
    expect(errorTypeOf(new Error('x'))).toBe('Error');
    expect(errorTypeOf('oops')).toBe('String');
    expect(errorTypeOf(undefined)).toBe('UnknownError');
  });
});

describe('batching and transport', () => {
  it('returns at once, then sends batches of batchSize to /api/interactions with the token', async () => {
    const { fetch, calls } = fakeFetch(ok);
    const { client } = makeClient({ url: 'http://127.0.0.1:9/', token: 'tok', batchSize: 200, fetch });
    for (let i = 0; i < 450; i++) expect(client.logInteraction(record(i))).toBeUndefined();
    expect(calls).toHaveLength(0); // nothing sent synchronously
    expect(client.stats().buffered).toBe(450);
    await client.flush();
    expect(calls.map((c) => c.records.length)).toEqual([200, 200, 50]);
    expect(calls[0]!.url).toBe('http://127.0.0.1:9/api/interactions');
    expect(calls[0]!.headers.authorization).toBe('Bearer tok');
    expect(calls[0]!.headers['content-type']).toBe('application/json');
    const all = calls.flatMap((c) => c.records);
    expect(all.map((r) => r.user_input)).toEqual(Array.from({ length: 450 }, (_, i) => `msg-${i}`));
    const ids = all.map((r) => r.id!);
    expect(new Set(ids).size).toBe(450);
    expect(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids); // sortable in logging order
    expect(client.stats()).toMatchObject({ buffered: 0, sent: 450, dropped: 0, rejected: 0 });
    await client.close();
  });

  it('sends a lone record after flushIntervalMs without a flush', async () => {
    const { fetch, calls } = fakeFetch(ok);
    const { client } = makeClient({ flushIntervalMs: 50, fetch });
    client.logInteraction(record(1));
    await sleep(20);
    expect(calls).toHaveLength(0);
    for (let i = 0; i < 50 && calls.length === 0; i++) await sleep(20);
    expect(calls).toHaveLength(1);
    await client.close();
  });

  it('keeps requests under maxRequestBytes by splitting batches', async () => {
    const { fetch, calls } = fakeFetch(ok);
    const { client } = makeClient({ fetch, maxRequestBytes: 20_000 });
    const big = 'x'.repeat(3000);
    for (let i = 0; i < 30; i++) client.logInteraction(record(i, { metadata: { big } }));
    await client.flush();
    expect(calls.length).toBeGreaterThan(3);
    expect(calls.every((c) => c.bytes <= 20_000)).toBe(true);
    expect(client.stats()).toMatchObject({ sent: 30, buffered: 0 });
    await client.close();
  });

  it('splits a batch the server answers 413, and rejects a single record still too large', async () => {
    const { fetch, calls } = fakeFetch((call) => (call.bytes > 5_000 ? new Response('too large', { status: 413 }) : ok(call)));
    const { client, errors } = makeClient({ fetch });
    for (let i = 0; i < 20; i++) client.logInteraction(record(i, { metadata: { pad: 'y'.repeat(800) } }));
    client.logInteraction(record(99, { metadata: { pad: 'z'.repeat(10_000) } }));
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 20, rejected: 1, dropped: 0, buffered: 0 });
    expect(errors.some((e) => e.kind === 'rejected' && e.rejected[0]?.record.user_input === 'msg-99')).toBe(true);
    expect(calls.length).toBeGreaterThan(2);
    await client.close();
  });
});

describe('retries and back-off', () => {
  it('retries 503 and network errors with growing delays, then delivers', async () => {
    const { fetch, calls } = fakeFetch((call, n) => (n === 1 ? 'throw' : n <= 3 ? new Response('{"error":"db down"}', { status: 503 }) : ok(call)));
    const { client, errors } = makeClient({ fetch, initialBackoffMs: 40 });
    for (let i = 0; i < 5; i++) client.logInteraction(record(i));
    await client.flush();
    expect(calls).toHaveLength(4);
    expect(client.stats()).toMatchObject({ sent: 5, dropped: 0, buffered: 0, failedAttempts: 0 });
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
    // equal jitter: each delay is at least half of 40, 80, 160 ms
    expect(gaps[0]).toBeGreaterThanOrEqual(15);
    expect(gaps[1]).toBeGreaterThanOrEqual(35);
    expect(gaps[2]).toBeGreaterThanOrEqual(75);
    expect(errors.map((e) => e.kind)).toEqual(['network', 'http', 'http']);
    expect(errors[1]!.status).toBe(503);
    // every retry carried the same ids (idempotent re-send)
    expect(new Set(calls.map((c) => c.records.map((r) => r.id).join()))).toHaveProperty('size', 1);
    await client.close();
  });

  it('honours Retry-After on 429', async () => {
    const { fetch, calls } = fakeFetch((call, n) =>
      n === 1 ? new Response('slow down', { status: 429, headers: { 'retry-after': '0.3' } }) : ok(call),
    );
    const { client } = makeClient({ fetch, initialBackoffMs: 5 });
    client.logInteraction(record(1));
    // flush() skips a running back-off only if the last attempt is older than initialBackoffMs;
    // wait for the first attempt, then let the back-off run.
    for (let i = 0; i < 100 && calls.length === 0; i++) await sleep(10);
    await sleep(20);
    for (let i = 0; i < 100 && calls.length < 2; i++) await sleep(20);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(280);
    await client.close();
  });

  it('backs off on 401 instead of hammering', async () => {
    const { fetch, calls } = fakeFetch(() => Response.json({ error: 'unauthorized' }, { status: 401 }));
    const { client, errors } = makeClient({ fetch, initialBackoffMs: 50 });
    client.logInteraction(record(1));
    await sleep(1000);
    // 50, 100, 200, 400 ms (each at least halved): at most ~6 attempts in a second
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.length).toBeLessThanOrEqual(7);
    expect(errors[0]?.kind).toBe('auth');
    expect(client.stats()).toMatchObject({ buffered: 1, sent: 0 });
    expect(client.stats().failedAttempts).toBeGreaterThan(0);
    await client.close(0);
    expect(client.stats()).toMatchObject({ buffered: 0, dropped: 1 });
  });

  it('drops a batch after maxRetries and resolves flush', async () => {
    const { fetch, calls } = fakeFetch(() => 'throw');
    const { client, errors } = makeClient({ fetch, maxRetries: 3, initialBackoffMs: 5 });
    for (let i = 0; i < 3; i++) client.logInteraction(record(i));
    await client.flush();
    expect(calls).toHaveLength(4);
    expect(client.stats()).toMatchObject({ buffered: 0, sent: 0, dropped: 3 });
    expect(errors.at(-1)!.kind).toBe('dropped');
    await client.close();
  });
});

describe('rejected records', () => {
  const validating: Responder = (call) => {
    const rejected = call.records.flatMap((r, index) => (r.response_time_ms < 0 ? [{ index, error: 'response_time_ms: must be ≥ 0' }] : []));
    const accepted = call.records.length - rejected.length;
    if (call.records.length > 0 && accepted === 0) return Response.json({ accepted: 0, ids: [], rejected }, { status: 400 });
    return Response.json({ accepted, ids: [], rejected });
  };

  it('counts per-record rejections without retrying them or blocking the valid ones', async () => {
    const { fetch, calls } = fakeFetch(validating);
    const { client, errors } = makeClient({ fetch });
    for (let i = 0; i < 10; i++) client.logInteraction(record(i, i % 3 === 0 ? { responseTimeMs: -1 } : {}));
    await client.flush();
    expect(calls).toHaveLength(1);
    expect(client.stats()).toMatchObject({ sent: 6, rejected: 4, dropped: 0, buffered: 0 });
    const rej = errors.filter((e) => e.kind === 'rejected');
    expect(rej).toHaveLength(1);
    expect(rej[0]!.rejected.map((r) => r.record.user_input)).toEqual(['msg-0', 'msg-3', 'msg-6', 'msg-9']);
    expect(rej[0]!.rejected[0]!.error).toContain('response_time_ms');
    // an all-invalid batch (HTTP 400) is not retried either
    client.logInteraction(record(20, { responseTimeMs: -5 }));
    await client.flush();
    expect(calls).toHaveLength(2);
    expect(client.stats()).toMatchObject({ sent: 6, rejected: 5 });
    await client.close();
  });

  it('isolates invalid records when a 400 does not say which', async () => {
    const { fetch } = fakeFetch((call) =>
      call.records.some((r) => r.response_time_ms < 0) ? Response.json({ error: 'invalid batch' }, { status: 400 }) : ok(call),
    );
    const { client } = makeClient({ fetch });
    for (let i = 0; i < 16; i++) client.logInteraction(record(i, i === 5 || i === 11 ? { responseTimeMs: -1 } : {}));
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 14, rejected: 2, buffered: 0 });
    await client.close();
  });
});

describe('bounded buffer', () => {
  it('drops the oldest records by default and counts them', async () => {
    let up = false;
    const { fetch, calls } = fakeFetch((call) => (up ? ok(call) : 'throw'));
    const { client, errors } = makeClient({ fetch, maxBufferSize: 10, initialBackoffMs: 5, maxBackoffMs: 20 });
    for (let i = 0; i < 25; i++) client.logInteraction(record(i));
    expect(client.stats()).toMatchObject({ buffered: 10, dropped: 15 });
    expect(errors.filter((e) => e.kind === 'dropped')).toHaveLength(1); // once per overflow episode
    await sleep(50);
    up = true;
    await client.flush();
    const delivered = calls.filter((c) => c.records.length > 0).at(-1)!.records.map((r) => r.user_input);
    expect(delivered).toEqual(Array.from({ length: 10 }, (_, i) => `msg-${i + 15}`));
    expect(client.stats()).toMatchObject({ buffered: 0, sent: 10, dropped: 15 });
    await client.close();
  });

  it("drops the newest with dropPolicy 'newest'", async () => {
    const { fetch, calls } = fakeFetch(ok);
    const { client } = makeClient({ fetch, maxBufferSize: 10, dropPolicy: 'newest' });
    for (let i = 0; i < 25; i++) client.logInteraction(record(i));
    expect(client.stats()).toMatchObject({ buffered: 10, dropped: 15 });
    await client.flush();
    expect(calls.flatMap((c) => c.records.map((r) => r.user_input))).toEqual(Array.from({ length: 10 }, (_, i) => `msg-${i}`));
    await client.close();
  });
});

describe('track', () => {
  it('records intent, tools, timing and success, and returns the result', async () => {
    const { fetch, calls } = fakeFetch(ok);
    const { client } = makeClient({ fetch });
    const result = await client.track(
      'find the file',
      async (t) => {
        t.logIntent('search');
        t.logToolUse('read', { path: 'x' }, { durationMs: 5, success: true });
        t.logToolUse('grep', { q: 'y' }, { durationMs: 2, error: new Error('no match') });
        await t.useTool('fetch', { u: 1 }, async () => sleep(15));
        t.set({ model: 'm-2', inputTokens: 7 });
        await sleep(20);
        return 42;
      },
      { sessionId: 'sess-t' },
    );
    expect(result).toBe(42);
    await client.flush();
    const r = calls[0]!.records[0]!;
    expect(r).toMatchObject({ session_id: 'sess-t', user_input: 'find the file', intent: 'search', success: true, error_type: null, model: 'm-2', input_tokens: 7 });
    expect(r.response_time_ms).toBeGreaterThanOrEqual(30);
    expect(r.tools_used).toEqual([
      { tool: 'read', params: { path: 'x' }, duration_ms: 5, success: true },
      { tool: 'grep', params: { q: 'y' }, duration_ms: 2, success: false, error: 'no match' },
      { tool: 'fetch', params: { u: 1 }, duration_ms: expect.any(Number), success: true },
    ]);
    await client.close();
  });

  it('re-throws the original error and records its type', async () => {
    const { fetch, calls } = fakeFetch(ok);
    const { client } = makeClient({ fetch });
    class ToolTimeout extends Error {}
    const boom = new ToolTimeout('too slow');
    await expect(
      client.track('q1', async (t) => {
        t.logIntent('lookup');
        throw boom;
      }),
    ).rejects.toBe(boom);
    const syncErr = new RangeError('sync');
    await expect(
      client.track('q2', () => {
        throw syncErr;
      }),
    ).rejects.toBe(syncErr);
    await client.track('q3', (t) => t.fail('HandledError'));
    await client.flush();
    const recs = calls.flatMap((c) => c.records);
    expect(recs.map((r) => [r.user_input, r.intent, r.success, r.error_type])).toEqual([
      ['q1', 'lookup', false, 'ToolTimeout'],
      ['q2', 'unknown', false, 'RangeError'],
      ['q3', 'unknown', false, 'HandledError'],
    ]);
    await client.close();
  });
});

describe('never throws', () => {
  it('survives odd input, a throwing onError, a broken fetch and garbage URLs', async () => {
    const brokenFetch = (() => {
      throw new Error('sync explosion');
    }) as unknown as typeof fetch;
    const c1 = new AIMonitorClient({
      url: 'not a url at all ::',
      fetch: brokenFetch,
      maxRetries: 1,
      initialBackoffMs: 1,
      onError: () => {
        throw new Error('handler explodes');
      },
    });
    const circular: Record<string, unknown> = { n: 1n };
    circular.self = circular;
    expect(() => c1.logInteraction(record(1, { metadata: circular }))).not.toThrow();
    expect(() => c1.logInteraction(null as never)).not.toThrow();
    expect(() => c1.logInteraction({ toJSON: () => { throw new Error('x'); } } as never)).not.toThrow();
    expect(await c1.track('x', () => 'fine')).toBe('fine');
    await c1.flush();
    expect(c1.stats().buffered).toBe(0);
    await c1.close();

    const c2 = new AIMonitorClient({
      url: 'http://[::1', // unparseable
      maxRetries: 1,
      initialBackoffMs: 1,
      onError: () => undefined,
    });
    c2.logInteraction(record(1));
    await c2.flush();
    expect(c2.stats()).toMatchObject({ buffered: 0, sent: 0, dropped: 1 });
    await c2.close();

    const weird = (async () => ({ status: 200, text: async () => 'not json', headers: undefined })) as unknown as typeof fetch;
    const c3 = new AIMonitorClient({ fetch: weird, onError: () => undefined });
    c3.logInteraction(record(1));
    await c3.flush();
    expect(c3.stats()).toMatchObject({ sent: 1, buffered: 0 });
    await c3.close();
  });

  it('drops records logged after close and removes its process hooks', async () => {
    const before = process.listenerCount('beforeExit');
    const { fetch } = fakeFetch(ok);
    const { client, errors } = makeClient({ fetch });
    expect(process.listenerCount('beforeExit')).toBeGreaterThanOrEqual(before);
    await client.close();
    expect(process.listenerCount('beforeExit')).toBe(before);
    client.logInteraction(record(1));
    expect(client.stats()).toMatchObject({ dropped: 1, buffered: 0 });
    expect(errors.at(-1)!.kind).toBe('dropped');
  });

  it('does not keep a process alive when the server is unreachable', async () => {
    const entry = pathToFileURL(join(REPO_ROOT, 'packages/client/dist/index.js')).href;
    const code = `
      import { AIMonitorClient } from ${JSON.stringify(entry)};
      const c = new AIMonitorClient({ url: 'http://127.0.0.1:9', onError: () => {}, exitFlushTimeoutMs: 500 });
      for (let i = 0; i < 10; i++) c.logInteraction({ sessionId: 's', userInput: 'x', intent: 'i', responseTimeMs: 1, success: true });
      console.log('logged');
    `;
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [exitCode] = (await once(child, 'exit')) as [number | null];
    expect(out).toContain('logged');
    expect(exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
