/**
 * Per-client rate limits (one rule on HTTP, the seed protocol and graphql-ws), the WebSocket
 * connection limit, the per-connection operation limit, WebSocket compression as a setting,
 * and the start-up warning for a server reachable beyond loopback without tokens.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RECORD, TOKENS, TOKEN_ENV, expectServing, gqlAs, graphqlWs, http, openSeed, serve, upgradeStatus, wsOnce, wsSubscribe } from './helpers.js';

const NORMAL = '{ metrics { count } }';

describe('rate limits', () => {
  it('limits each client on HTTP with 429 and Retry-After, per token, without affecting others', async () => {
    const s = await serve({ env: { ...TOKEN_ENV, AI_MONITOR_RATE_LIMIT: '1', AI_MONITOR_RATE_LIMIT_BURST: '5' } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await gqlAs(s.url, NORMAL, TOKENS.read)).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses).toContain(429);
    const limited = await http(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.read}` },
      body: JSON.stringify({ query: NORMAL }),
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json<{ error: string }>().error).toMatch(/rate limit exceeded: at most 1 requests per second \(burst 5\)/);
    // Another token has its own bucket.
    expect((await gqlAs(s.url, NORMAL, TOKENS.admin)).status).toBe(200);
    await expectServing(s.url, TOKENS.ingest);
  });

  it('limits seed messages and graphql-ws operations with the same rule, keeping the connection open', async () => {
    const s = await serve({ env: { ...TOKEN_ENV, AI_MONITOR_RATE_LIMIT: '1', AI_MONITOR_RATE_LIMIT_BURST: '4' } });
    // The ingest token's bucket: the upgrade takes one token, then each record message one.
    const seed = await openSeed(s.wsUrl, { headers: { authorization: `Bearer ${TOKENS.ingest}` } });
    const replies: string[] = [];
    for (let i = 0; i < 8; i++) {
      seed.send({ type: 'metrics', data: { ...RECORD, id: `rl-${i}` }, request_id: i });
      const r = await seed.next();
      replies.push(r.type === 'ack' ? 'ack' : String(r.error));
    }
    expect(replies[0]).toBe('ack');
    expect(replies.filter((r) => r.startsWith('rate limit exceeded')).length).toBeGreaterThan(0);
    seed.send({ type: 'ping' });
    expect((await seed.next()).type).toBe('pong'); // still open

    // The read token's own bucket, over graphql-ws.
    const { client, closed } = graphqlWs(s.wsUrl, { token: TOKENS.read });
    let code: number | null = null;
    void closed.then((c) => (code = c));
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await wsOnce(client, '{ metrics(window: "7d") { count } }'));
    expect(results[0]?.data?.metrics).toEqual({ count: replies.filter((r) => r === 'ack').length });
    expect(results.some((r) => /rate limit exceeded/.test(r.errors?.[0]?.message ?? ''))).toBe(true);
    expect(code).toBeNull();
    // The ingest token's bucket is spent; the admin token's is not.
    await expectServing(s.url, TOKENS.admin);
  });

  it('is off by default', async () => {
    const s = await serve();
    for (let i = 0; i < 50; i++) expect((await gqlAs(s.url, NORMAL)).status).toBe(200);
  });
});

describe('connection and operation limits', () => {
  it('refuses WebSocket upgrades beyond maxConnections with 503, and admits again once one closes', async () => {
    const s = await serve({ env: { AI_MONITOR_MAX_CONNECTIONS: '5' } });
    const seeds = [];
    for (let i = 0; i < 4; i++) seeds.push(await openSeed(s.wsUrl));
    const g = graphqlWs(s.wsUrl);
    expect((await wsOnce(g.client, NORMAL)).data).toEqual({ metrics: { count: 0 } });
    expect(await upgradeStatus(s.wsUrl)).toBe(503);
    expect(await upgradeStatus(`${s.wsUrl}/graphql`, { headers: { 'sec-websocket-protocol': 'graphql-transport-ws' } })).toBe(503);
    expect((await http(`${s.url}/health`)).json()).toMatchObject({ connections: 5 });
    // The open connections keep working, and HTTP is not counted.
    seeds[0]!.send({ type: 'metrics', data: RECORD });
    expect((await seeds[0]!.next()).type).toBe('ack');
    await expectServing(s.url);
    seeds[3]!.ws.close();
    await seeds[3]!.closed;
    await expect.poll(async () => (await http(`${s.url}/health`)).json<{ connections: number }>().connections).toBe(4);
    const again = await openSeed(s.wsUrl);
    again.send({ type: 'metrics', data: RECORD });
    expect((await again.next()).type).toBe('ack');
    expect((await http(`${s.url}/metrics`)).body).toMatch(/ai_monitor_security_refused_total\{reason="connections"\} 2/);
  });

  it('refuses operations beyond maxSubscriptionsPerConnection on one graphql-ws connection', async () => {
    const s = await serve({ env: { AI_MONITOR_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3' } });
    const { client } = graphqlWs(s.wsUrl);
    const subs = [0, 1, 2].map(() => wsSubscribe(client, 'subscription { interactionRecorded { id } }'));
    const fourth = await wsOnce(client, 'subscription { interactionRecorded { id } }');
    expect(fourth.errors?.[0]?.message).toMatch(/too many operations on this connection \(limit 3\)/);
    subs[0]!.stop();
    // A slot is free again once one completes.
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) ok = (await wsOnce(client, NORMAL)).data !== undefined;
    expect(ok).toBe(true);
    // The two subscriptions still running deliver.
    await expectServing(s.url);
    await subs[1]!.until(() => subs[1]!.results.length === 1);
    await subs[2]!.until(() => subs[2]!.results.length === 1);
  });
});

describe('WebSocket compression', () => {
  const offered = (url: string, protocol?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocol ? [protocol] : [], { perMessageDeflate: true });
      ws.on('open', () => {
        resolve(ws.extensions);
        ws.close();
      });
      ws.on('error', reject);
    });

  it('negotiates permessage-deflate on both protocols only when enabled', async () => {
    const off = await serve();
    expect(await offered(off.wsUrl)).toBe('');
    expect(await offered(`${off.wsUrl}/graphql`, 'graphql-transport-ws')).toBe('');
    const on = await serve({ env: { AI_MONITOR_WS_COMPRESSION: 'true' } });
    expect(await offered(on.wsUrl)).toMatch(/permessage-deflate/);
    expect(await offered(`${on.wsUrl}/graphql`, 'graphql-transport-ws')).toMatch(/permessage-deflate/);
    const seed = await openSeed(on.wsUrl, { perMessageDeflate: true });
    seed.send({ type: 'metrics', data: RECORD });
    expect((await seed.next()).type).toBe('ack');
  });
});

describe('start-up warning', () => {
  const WARNING = /beyond loopback, without tokens/;

  it('warns when listening beyond loopback without tokens, and only then', async () => {
    const open = await serve({ host: '0.0.0.0' });
    expect(open.output()).toMatch(WARNING);
    expect(open.output()).toMatch(/"level":40/);
    const loopback = await serve({ host: '127.0.0.1' });
    expect(loopback.output()).not.toMatch(WARNING);
    const withTokens = await serve({ host: '0.0.0.0', env: TOKEN_ENV });
    expect(withTokens.output()).not.toMatch(WARNING);
  });
});
