/**
 * The TypeScript SDK against the real server (`ai-monitor serve`, HTTP batch ingest at
 * POST /api/interactions), checked through GraphQL. Loopback only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AIMonitorClient, type AIMonitorClientOptions, type AIMonitorError } from '@ai-monitor/client';
import { REPO_ROOT, freePort, gql, makeDataDir, startServer, type RunningServer } from '../helpers/server.js';
import { rmSync } from 'node:fs';

interface ToolNode {
  tool: string;
  params: unknown;
  durationMs: number | null;
  success: boolean | null;
  error: string | null;
}
interface Node {
  id: string;
  sessionId: string;
  intent: string;
  userInput: string;
  success: boolean;
  errorType: string | null;
  environment: string | null;
  responseTimeMs: number;
  toolsUsed: ToolNode[];
}

const NODE_FIELDS = 'id sessionId intent userInput success errorType environment responseTimeMs toolsUsed { tool params durationMs success error }';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch {
      // keep cleaning
    }
  }
});

async function serve(opts: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const s = await startServer(opts);
  cleanups.push(() => s.cleanup());
  cleanups.push(() => s.stop());
  return s;
}

function client(opts: AIMonitorClientOptions): { c: AIMonitorClient; errors: AIMonitorError[] } {
  const errors: AIMonitorError[] = [];
  const c = new AIMonitorClient({ onError: (e) => errors.push(e), ...opts });
  cleanups.push(() => c.close(1000));
  return { c, errors };
}

/** All stored interactions, through relay pagination (bounded). */
async function allInteractions(server: { url: string }, headers: Record<string, string> = {}): Promise<Node[]> {
  const out: Node[] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    const res: Awaited<ReturnType<typeof gql>> = await gql(
      server,
      `query($after: String) { interactions(first: 50, after: $after) {
         edges { node { ${NODE_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
      { after },
      headers,
    );
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    const conn = (res.data as { interactions: { edges: { node: Node }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } })
      .interactions;
    out.push(...conn.edges.map((e) => e.node));
    if (!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor) return out;
    after = conn.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

/** Polls (bounded) until `count` interactions are stored; returns them. */
async function waitForCount(server: { url: string }, count: number, headers: Record<string, string> = {}): Promise<Node[]> {
  let nodes: Node[] = [];
  for (let i = 0; i < 25; i++) {
    nodes = await allInteractions(server, headers);
    if (nodes.length >= count) break;
    await sleep(200);
  }
  return nodes;
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rec(i: number, extra: Record<string, unknown> = {}) {
  return { sessionId: 'sess-a', userInput: `msg-${i}`, intent: 'chat', responseTimeMs: 5 + (i % 50), success: true, ...extra };
}

const inputsOf = (nodes: Node[]) => nodes.map((n) => n.userInput).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `msg-${from + i}`);

describe('TypeScript SDK against the real server', () => {
  it('logInteraction and track show up in GraphQL', async () => {
    const server = await serve();
    const { c, errors } = client({ url: server.url });
    c.logInteraction({
      sessionId: 'sess-1',
      userInput: 'what is the weather',
      intent: 'weather',
      toolsUsed: [{ tool: 'weather_api', params: { city: 'Paris' }, durationMs: 120, success: true }],
      responseTimeMs: 250,
      success: true,
      model: 'm-1',
      environment: 'staging',
      metadata: { channel: 'web' },
    });
    const value = await c.track(
      'search the docs',
      async (t) => {
        t.logIntent('search');
        t.logToolUse('read', { path: 'x' }, { durationMs: 7, success: true });
        t.logToolUse('grep', { q: 'y' }, { durationMs: 3, success: false, error: 'no match' });
        await sleep(30);
        return 'answer';
      },
      { sessionId: 'sess-1', environment: 'production' },
    );
    expect(value).toBe('answer');
    class QuotaExceeded extends Error {}
    const boom = new QuotaExceeded('out of quota');
    await expect(
      c.track(
        'summarise',
        (t) => {
          t.logIntent('summarise');
          throw boom;
        },
        { sessionId: 'sess-2' },
      ),
    ).rejects.toBe(boom);
    const typeErr = new TypeError('bad input');
    await expect(
      c.track('translate', async () => {
        await sleep(5);
        throw typeErr;
      }, { sessionId: 'sess-2', intent: 'translate' }),
    ).rejects.toBe(typeErr);

    await c.flush();
    expect(c.stats()).toMatchObject({ buffered: 0, sent: 4, dropped: 0, rejected: 0 });
    expect(errors).toEqual([]);

    const nodes = await waitForCount(server, 4);
    expect(nodes).toHaveLength(4);
    const by = (input: string) => nodes.find((n) => n.userInput === input)!;

    expect(by('what is the weather')).toMatchObject({ sessionId: 'sess-1', intent: 'weather', success: true, errorType: null, responseTimeMs: 250, environment: 'staging' });
    expect(by('what is the weather').toolsUsed).toEqual([{ tool: 'weather_api', params: { city: 'Paris' }, durationMs: 120, success: true, error: null }]);

    const tracked = by('search the docs');
    expect(tracked).toMatchObject({ sessionId: 'sess-1', intent: 'search', success: true, errorType: null, environment: 'production' });
    expect(by('summarise').environment).toBeNull();
    expect(tracked.responseTimeMs).toBeGreaterThanOrEqual(25);
    expect(tracked.toolsUsed).toEqual([
      { tool: 'read', params: { path: 'x' }, durationMs: 7, success: true, error: null },
      { tool: 'grep', params: { q: 'y' }, durationMs: 3, success: false, error: 'no match' },
    ]);

    expect(by('summarise')).toMatchObject({ sessionId: 'sess-2', intent: 'summarise', success: false, errorType: 'QuotaExceeded' });
    expect(by('translate')).toMatchObject({ sessionId: 'sess-2', intent: 'translate', success: false, errorType: 'TypeError' });

    // interaction(id) finds the same record
    const one = await gql<{ interaction: Node | null }>(server, `query($id: ID!) { interaction(id: $id) { ${NODE_FIELDS} } }`, {
      id: tracked.id,
    });
    expect(one.errors).toBeUndefined();
    expect(one.data?.interaction).toMatchObject({ id: tracked.id, userInput: 'search the docs', intent: 'search' });
  });

  it('buffers while the server is down at first and delivers everything once it starts', async () => {
    const port = await freePort();
    const { c, errors } = client({ url: `http://127.0.0.1:${port}` });
    for (let i = 0; i < 150; i++) c.logInteraction(rec(i));
    await c.track(`msg-150`, (t) => t.logIntent('chat'));
    await sleep(700); // several failed attempts
    expect(c.stats()).toMatchObject({ buffered: 151, sent: 0, dropped: 0 });
    expect(c.stats().failedAttempts).toBeGreaterThan(0);
    expect(errors.some((e) => e.kind === 'network')).toBe(true);

    const server = await serve({ port });
    expect(server.port).toBe(port);
    await c.flush();
    expect(c.stats()).toMatchObject({ buffered: 0, sent: 151, dropped: 0, rejected: 0 });
    const nodes = await waitForCount(server, 151);
    expect(inputsOf(nodes)).toEqual(range(0, 151));
  });

  it('loses nothing across a server restart mid-stream', async () => {
    const dataDir = makeDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const first = await serve({ dataDir });
    const port = first.port;
    const { c } = client({ url: first.url, flushIntervalMs: 20 });
    let n = 0;
    let second: RunningServer | undefined;
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 20; k++) c.logInteraction(rec(n++));
      if (round === 10) await first.stop();
      if (round === 18) second = await serve({ dataDir, port });
      await sleep(40);
    }
    expect(second).toBeDefined();
    await c.flush();
    expect(c.stats()).toMatchObject({ buffered: 0, sent: 600, dropped: 0, rejected: 0 });
    const nodes = await waitForCount(second!, 600);
    expect(nodes).toHaveLength(600); // neither lost nor stored twice
    expect(inputsOf(nodes)).toEqual(range(0, 600));
  });

  it('stores a batch once when its reply is lost and it is re-sent', async () => {
    const server = await serve();
    let calls = 0;
    // The server commits the batch, but the client never sees the reply (connection dropped).
    const lossyFetch: typeof fetch = async (input, init) => {
      calls++;
      const res = await fetch(input, init);
      if (calls % 2 === 1) {
        await res.text();
        throw new TypeError('fetch failed', { cause: new Error('socket hang up') });
      }
      return res;
    };
    const { c } = client({ url: server.url, fetch: lossyFetch, initialBackoffMs: 10 });
    for (let i = 0; i < 300; i++) c.logInteraction(rec(i));
    await c.flush();
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(c.stats()).toMatchObject({ buffered: 0, sent: 300, dropped: 0 });
    const nodes = await waitForCount(server, 300);
    expect(nodes).toHaveLength(300);
    expect(inputsOf(nodes)).toEqual(range(0, 300));
  });

  it('counts overflow in dropped and delivers the newest records of a full buffer', async () => {
    const port = await freePort();
    const { c, errors } = client({ url: `http://127.0.0.1:${port}`, maxBufferSize: 50 });
    for (let i = 0; i < 120; i++) c.logInteraction(rec(i));
    expect(c.stats()).toMatchObject({ buffered: 50, dropped: 70, sent: 0 });
    expect(errors.some((e) => e.kind === 'dropped')).toBe(true);
    const server = await serve({ port });
    await c.flush();
    expect(c.stats()).toMatchObject({ buffered: 0, sent: 50, dropped: 70 });
    const nodes = await waitForCount(server, 50);
    expect(inputsOf(nodes)).toEqual(range(70, 120));
  });

  it('counts invalid records as rejected without blocking the valid ones', async () => {
    const server = await serve();
    const { c, errors } = client({ url: server.url });
    for (let i = 0; i < 20; i++) c.logInteraction(rec(i, i % 4 === 1 ? { responseTimeMs: -1 } : {}));
    await c.flush();
    expect(c.stats()).toMatchObject({ buffered: 0, sent: 15, rejected: 5, dropped: 0 });
    const rejected = errors.filter((e) => e.kind === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    const reasons = rejected.flatMap((e) => e.rejected);
    expect(reasons.map((r) => r.record.user_input).sort()).toEqual(['msg-1', 'msg-13', 'msg-17', 'msg-5', 'msg-9']);
    expect(reasons.every((r) => r.error.includes('response_time_ms') || r.error.includes('responseTimeMs'))).toBe(true);

    // a batch where every record is invalid (HTTP 400) is not retried and does not block later ones
    c.logInteraction(rec(100, { responseTimeMs: -3 }));
    c.logInteraction(rec(101, { responseTimeMs: -4 }));
    await c.flush();
    c.logInteraction(rec(102));
    await c.flush();
    expect(c.stats()).toMatchObject({ buffered: 0, sent: 16, rejected: 7, dropped: 0 });

    const nodes = await waitForCount(server, 16);
    expect(inputsOf(nodes)).toEqual([...range(0, 20).filter((_, i) => i % 4 !== 1), 'msg-102']);
  });

  it('sends the token and backs off while it is refused', async () => {
    const server = await serve({ env: { AI_MONITOR_INGEST_TOKENS: 'ingest-secret', AI_MONITOR_READ_TOKENS: 'read-secret' } });
    let attempts = 0;
    const countingFetch: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const bad = client({ url: server.url, token: 'wrong', fetch: countingFetch, initialBackoffMs: 100 });
    bad.c.logInteraction(rec(1));
    await sleep(1500);
    expect(bad.c.stats()).toMatchObject({ buffered: 1, sent: 0 });
    expect(bad.errors.some((e) => e.kind === 'auth' && (e.status === 401 || e.status === 403))).toBe(true);
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(8); // back-off, not a busy loop

    const good = client({ url: server.url, token: 'ingest-secret' });
    good.c.logInteraction(rec(2));
    await good.c.flush();
    expect(good.c.stats()).toMatchObject({ sent: 1, buffered: 0 });
    const nodes = await waitForCount(server, 1, { authorization: 'Bearer read-secret' });
    expect(inputsOf(nodes)).toEqual(['msg-2']);
  });

  it('never throws, even with a garbage URL', async () => {
    for (const url of ['garbage url ::', 'http://', 'ftp://127.0.0.1/x', `http://127.0.0.1:${await freePort()}`]) {
      const { c } = client({ url, maxRetries: 2, initialBackoffMs: 5 });
      expect(() => c.logInteraction(rec(1))).not.toThrow();
      expect(await c.track('x', (t) => (t.logIntent('i'), 7))).toBe(7);
      await expect(c.flush()).resolves.toBeUndefined();
      expect(c.stats()).toMatchObject({ buffered: 0, sent: 0, dropped: 2 });
      await expect(c.close()).resolves.toBeUndefined();
    }
  });

  it('flushes on natural process exit and on SIGTERM', async () => {
    const server = await serve();
    const entry = pathToFileURL(join(REPO_ROOT, 'packages/client/dist/index.js')).href;
    const prelude = `
      import { AIMonitorClient } from ${JSON.stringify(entry)};
      const c = new AIMonitorClient({ url: ${JSON.stringify(server.url)}, flushIntervalMs: 60000 });
    `;
    const run = async (body: string, onReady?: (child: ReturnType<typeof spawn>) => void) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', prelude + body], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready') && onReady) {
          onReady(child);
          onReady = undefined;
        }
      });
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      clearTimeout(timer);
      return { code, signal, out };
    };

    // 1. the script ends without flush or close: beforeExit delivers
    const natural = await run(`
      for (let i = 0; i < 25; i++) c.logInteraction({ sessionId: 'exit', userInput: 'msg-' + i, intent: 'chat', responseTimeMs: 1, success: true });
    `);
    expect(natural.code, natural.out).toBe(0);
    let nodes = await waitForCount(server, 25);
    expect(inputsOf(nodes)).toEqual(range(0, 25));

    // 2. a long-running process gets SIGTERM: flushed, then terminated by the signal as usual
    const term = await run(
      `
      for (let i = 25; i < 40; i++) c.logInteraction({ sessionId: 'term', userInput: 'msg-' + i, intent: 'chat', responseTimeMs: 1, success: true });
      setInterval(() => {}, 1000);
      console.log('ready');
    `,
      (child) => child.kill('SIGTERM'),
    );
    expect(term.signal, term.out).toBe('SIGTERM');
    nodes = await waitForCount(server, 40);
    expect(inputsOf(nodes)).toEqual(range(0, 40));
  });
});
