/**
 * Hostile GraphQL is refused with clear errors while normal traffic continues, on HTTP and on
 * the same graphql-ws connection: deep nesting, alias bombs, huge documents, token floods,
 * directive floods, cost, batches, introspection in production, CSRF.
 */
import { describe, expect, it } from 'vitest';
import { expectServing, gqlAs, graphqlWs, http, serve, wsOnce, wsSubscribe } from './helpers.js';

const NORMAL = '{ metrics { count } }';
const DEEP = '{ sessions { edges { node { interactions { edges { node { toolsUsed { tool } } } } } } } }';
const ALIASES = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: metrics { count }`).join(' ')} }`;
const TOKEN_FLOOD = `{ metrics { ${'count '.repeat(1500)} } }`;
const DIRECTIVES = `{ metrics ${'@include(if: true) '.repeat(60)} { count } }`;
const firstMessage = (r: { errors?: readonly { message: string }[] }): string => r.errors?.[0]?.message ?? '';

describe('hostile GraphQL over HTTP', () => {
  it('refuses deep, aliased, token- and directive-heavy documents and keeps serving', async () => {
    const s = await serve();
    expect(firstMessage(await gqlAs(s.url, DEEP))).toMatch(/depth limit of 6 exceeded/);
    expect(firstMessage(await gqlAs(s.url, ALIASES))).toMatch(/Aliases limit of 15 exceeded/);
    expect(firstMessage(await gqlAs(s.url, TOKEN_FLOOD))).toMatch(/Token limit of 1000 exceeded/);
    expect(firstMessage(await gqlAs(s.url, DIRECTIVES))).toMatch(/Directives limit of 50 exceeded/);
    // Literal page sizes count towards cost: many full pages in one operation are too costly.
    const pages = `{ ${Array.from({ length: 10 }, (_, i) => `p${i}: interactions(first: 500) { edges { node { id intent userInput toolsUsed { tool params } } } }`).join(' ')} }`;
    expect(firstMessage(await gqlAs(s.url, pages))).toMatch(/Cost limit of 100000 exceeded/);
    // A full page of every field, and a nested query of the dashboard's shape, are within the limits.
    const fullPage = await gqlAs(s.url, '{ interactions(first: 500) { edges { cursor node { id sessionId timestamp userInput intent toolsUsed { tool params durationMs success error } responseTimeMs success errorType metadata } } pageInfo { hasNextPage endCursor } } }');
    expect(fullPage.errors).toBeUndefined();
    const nested = await gqlAs(s.url, '{ session(id: "x") { interactions(first: 5) { edges { node { toolsUsed { tool } } } } } }');
    expect(nested.errors).toBeUndefined();
    expect((await gqlAs(s.url, NORMAL)).data).toEqual({ metrics: { count: 0 } });
    await expectServing(s.url);
  });

  it('applies configured limits, including cost', async () => {
    const s = await serve({ env: { AI_MONITOR_GRAPHQL_MAX_COST: '14', AI_MONITOR_GRAPHQL_MAX_DEPTH: '2' } });
    const pricey = '{ metrics { count errors errorRate p50 p95 p99 activeSessions throughputPerSecond throughputPerMinute meanResponseTimeMs } }';
    expect(firstMessage(await gqlAs(s.url, pricey))).toMatch(/Cost limit of 14 exceeded/i);
    expect(firstMessage(await gqlAs(s.url, '{ session(id: "x") { interactions { pageInfo { endCursor } } } }'))).toMatch(/depth limit of 2 exceeded/);
    expect((await gqlAs(s.url, NORMAL)).data).toEqual({ metrics: { count: 0 } });
    await expectServing(s.url);
  });

  it('refuses oversized bodies, chunked bodies and batched operations', async () => {
    const s = await serve({ env: { AI_MONITOR_MAX_PAYLOAD_BYTES: '4096' } });
    const big = await http(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: NORMAL, variables: { pad: 'x'.repeat(10_000) } }),
    });
    expect(big.status).toBe(413);
    expect(big.body).toMatch(/4096 bytes/);
    const chunked = await http(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: JSON.stringify({ query: NORMAL }),
    });
    expect(chunked.status).toBe(413);
    const batch = await http(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: NORMAL }, { query: NORMAL }]),
    });
    expect(batch.status).toBe(400);
    expect(batch.body).toMatch(/Batching is not supported/);
    expect((await gqlAs(s.url, NORMAL)).data).toEqual({ metrics: { count: 0 } });
    await expectServing(s.url);
  });

  it('requires the CSRF header for requests a browser could send cross-site, not for JSON POSTs', async () => {
    const s = await serve();
    const get = `${s.url}/graphql?query=${encodeURIComponent(NORMAL)}`;
    const bare = await http(get, { headers: { accept: 'application/json' } });
    expect(bare.status).toBe(403);
    expect(bare.body).toMatch(/CSRF/);
    const withHeader = await http(get, { headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' } });
    expect(withHeader.status).toBe(200);
    const form = await http(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: NORMAL }),
    });
    expect(form.status).toBe(403);
    expect((await gqlAs(s.url, NORMAL)).status).toBe(200);
    await expectServing(s.url);
  });

  it('turns introspection, field suggestions and GraphiQL off in production unless enabled', async () => {
    const prod = await serve({ env: { NODE_ENV: 'production' } });
    expect(firstMessage(await gqlAs(prod.url, '{ __schema { types { name } } }'))).toMatch(/introspection has been disabled/);
    expect(firstMessage(await gqlAs(prod.url, '{ metrcs { count } }'))).not.toMatch(/Did you mean/);
    const page = await http(`${prod.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.body).not.toMatch(/graphiql/i);
    expect((await gqlAs(prod.url, NORMAL)).data).toEqual({ metrics: { count: 0 } });
    // Over WebSocket too, where Yoga's HTTP plugin does not reach.
    const ws = graphqlWs(prod.wsUrl);
    expect(firstMessage(await wsOnce(ws.client, '{ __schema { queryType { name } } }'))).toMatch(/introspection/i);
    expect((await wsOnce(ws.client, NORMAL)).data).toEqual({ metrics: { count: 0 } });

    const enabled = await serve({ env: { NODE_ENV: 'production', AI_MONITOR_INTROSPECTION: 'true' } });
    expect((await gqlAs(enabled.url, '{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const dev = await serve();
    expect((await http(`${dev.url}/graphql`, { headers: { accept: 'text/html' } })).body).toMatch(/graphiql/i);
  });
});

describe('hostile GraphQL over graphql-ws', () => {
  it('refuses each hostile operation alone; the socket and its other subscriptions stay open', async () => {
    const s = await serve();
    const { client, closed } = graphqlWs(s.wsUrl);
    let closeCode: number | null = null;
    void closed.then((c) => (closeCode = c));
    const feed = wsSubscribe(client, 'subscription { interactionRecorded { id } }');
    for (const [doc, pattern] of [
      [DEEP, /depth limit/],
      [ALIASES, /Aliases limit/],
      [TOKEN_FLOOD, /Token limit/],
      [DIRECTIVES, /Directives limit/],
      ['{ metrics { ', /Syntax Error/],
    ] as const) {
      expect(firstMessage(await wsOnce(client, doc))).toMatch(pattern);
    }
    const recorded = await wsOnce(client, 'mutation { recordInteraction(input: {sessionId: "w", userInput: "u", intent: "i", responseTimeMs: 1, success: true}) { id } }');
    expect(recorded.data?.recordInteraction).toHaveProperty('id');
    expect((await wsOnce(client, NORMAL)).data).toEqual({ metrics: { count: 1 } });
    // The live subscription opened before the hostile operations still delivers.
    await feed.until(() => feed.results.length === 1);
    expect(feed.errors).toBeNull();
    expect(closeCode).toBeNull();
    await expectServing(s.url);
    await feed.until(() => feed.results.length === 2);
  });
});
