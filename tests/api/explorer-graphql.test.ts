/**
 * The explorer over GraphQL, from a real client: totalCount, sort with cursors, facets, the
 * match histogram and session queries; hostile filter input (fast-check, seeded, bounded) gets
 * an answer or a clear error, and the server stays up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startServer, gql, type RunningApp } from '../helpers/app.js';
import { storedInteraction } from '../helpers/records.js';

const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const T0 = NOW - 3 * 3_600_000;

const DATA = Array.from({ length: 60 }, (_, i) =>
  storedInteraction({
    id: `g-${String(i).padStart(3, '0')}`,
    sessionId: `sess-${i % 6}`,
    timestamp: T0 + i * 60_000,
    userInput: i % 2 ? `帮我查一下航班 ${i}` : `Find hotel ${i}`,
    intent: i % 3 ? 'travel' : 'chat',
    success: i % 4 !== 0,
    errorType: i % 4 === 0 ? 'timeout' : null,
    assistant: i % 2 ? 'bot-zh' : 'bot-en',
    model: i % 5 ? 'm-large' : 'm-small',
    responseTimeMs: (i % 7) * 100,
    costUsd: i % 3 ? 0.01 : null,
  }),
);

type Conn = { totalCount: number; totalCountEstimated: boolean; edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

describe('explorer over GraphQL', () => {
  let server: RunningApp;
  beforeAll(async () => {
    server = await startServer();
    await server.app.services.store.insertInteractions(DATA);
  });
  afterAll(async () => {
    await server.stop();
    server.cleanup();
  });

  it('totalCount counts every page; sort pages through ties with cursors', async () => {
    const q = `query($f: InteractionFilter, $s: InteractionSort, $after: String) {
      interactions(filter: $f, sort: $s, first: 7, after: $after) { totalCount totalCountEstimated edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
    const ids: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const res = await gql<{ interactions: Conn }>(server, q, { f: { search: '航班' }, s: { by: 'RESPONSE_TIME', direction: 'DESC' }, after });
      expect(res.errors).toBeUndefined();
      const c = res.data!.interactions;
      expect(c.totalCount).toBe(30);
      expect(c.totalCountEstimated).toBe(true); // two characters: counted within the newest 200,000 only
      ids.push(...c.edges.map((e) => e.node.id));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    const want = DATA.map((r, seq) => ({ r, seq }))
      .filter(({ r }) => r.userInput.includes('航班'))
      .sort((a, b) => b.r.responseTimeMs - a.r.responseTimeMs || b.seq - a.seq)
      .map(({ r }) => r.id);
    expect(ids).toEqual(want);

    const exact = await gql<{ interactions: Conn }>(server, '{ interactions(filter: { search: "查一下航班" }, first: 1) { totalCount totalCountEstimated } }');
    expect(exact.data!.interactions).toEqual({ totalCount: 30, totalCountEstimated: false });

    const wrong = await gql(server, q, { s: { by: 'COST' }, after: (await gql<{ interactions: Conn }>(server, q, {})).data!.interactions.pageInfo.endCursor });
    expect(wrong.errors?.[0]?.message).toMatch(/invalid cursor in "after"/);
  });

  it('facets sum to the count and narrow with the filter; the histogram sums to the count', async () => {
    const res = await gql<{
      interactions: { totalCount: number };
      interactionFacets: Record<string, { value: string | null; count: number }[]>;
      interactionHistogram: { start: string; count: number; errors: number }[];
    }>(
      server,
      `query($f: InteractionFilter) {
        interactions(filter: $f, first: 1) { totalCount }
        interactionFacets(filter: $f, limit: 20) { intent { value count } errorType { value count } assistant { value count } model { value count } tool { value count } environment { value count } }
        interactionHistogram(filter: $f, bucket: "30m") { start count errors }
      }`,
      { f: { from: new Date(T0).toISOString(), to: new Date(NOW).toISOString(), intent: 'travel' } },
    );
    expect(res.errors).toBeUndefined();
    const { interactions, interactionFacets: f, interactionHistogram: h } = res.data!;
    expect(interactions.totalCount).toBe(40);
    for (const name of ['intent', 'errorType', 'assistant', 'model', 'environment']) {
      expect(f[name]!.reduce((n, v) => n + v.count, 0), name).toBe(40);
    }
    expect(f.intent).toEqual([{ value: 'travel', count: 40 }]);
    expect(f.environment).toEqual([{ value: null, count: 40 }]);
    expect(f.tool).toEqual([]);
    expect(h.reduce((n, b) => n + b.count, 0)).toBe(40);
    expect(h.reduce((n, b) => n + b.errors, 0)).toBe(DATA.filter((r) => r.intent === 'travel' && !r.success).length);
    for (const b of h) expect(Date.parse(b.start) % 1_800_000).toBe(0);

    // Clicking a facet value is one more filter field: model narrows.
    const narrowed = await gql<{ interactions: { totalCount: number } }>(server, '{ interactions(filter: { intent: "travel", model: "m-small" }) { totalCount } }');
    expect(narrowed.data!.interactions.totalCount).toBe(DATA.filter((r) => r.intent === 'travel' && r.model === 'm-small').length);
  });

  it('sessions: filter by assistant or text, sort by error rate', async () => {
    const res = await gql<{ sessions: { edges: { node: { id: string; errorRate: number } }[] } }>(
      server,
      '{ sessions(filter: { assistant: "bot-zh" }, sort: { by: ERROR_RATE, direction: ASC }, first: 10) { edges { node { id errorRate } } } }',
    );
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.sessions.edges.map((e) => e.node);
    expect(nodes.map((n) => n.id).sort()).toEqual(['sess-1', 'sess-3', 'sess-5']);
    for (let i = 1; i < nodes.length; i++) expect(nodes[i]!.errorRate).toBeGreaterThanOrEqual(nodes[i - 1]!.errorRate);
    const text = await gql<{ sessions: { edges: { node: { id: string } }[] } }>(server, '{ sessions(filter: { search: "hotel 12" }) { edges { node { id } } } }');
    expect(text.data!.sessions.edges.map((e) => e.node.id)).toEqual(['sess-0']);
  });

  it('documented limits: facet limit 1–100, search ≤ 1,000 characters, at most 10,000 histogram buckets, reader threads 1–64', async () => {
    for (const limit of [0, 101]) {
      const res = await gql(server, `{ interactionFacets(limit: ${limit}) { intent { value } } }`);
      expect(res.errors?.[0]?.message).toBe('limit: must be between 1 and 100');
    }
    expect((await gql(server, '{ interactionFacets(limit: 100) { intent { value } } }')).errors).toBeUndefined();
    const long = await gql(server, 'query($s: String) { interactions(filter: { search: $s }) { totalCount } }', { s: 'x'.repeat(1001) });
    expect(long.errors?.[0]?.message).toBe('filter.search: at most 1000 characters (got 1001)');
    expect((await gql(server, 'query($s: String) { interactions(filter: { search: $s }) { totalCount } }', { s: 'x'.repeat(1000) })).errors).toBeUndefined();
    const buckets = await gql(server, `{ interactionHistogram(filter: { from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z" }, bucket: "1m") { count } }`);
    expect(buckets.errors?.[0]?.message).toMatch(/more than 10,000 points/);
    const { loadConfig, ConfigError } = await import('../../apps/api/src/config/load.js');
    for (const bad of ['0', '65']) expect(() => loadConfig({ env: { AI_MONITOR_SQLITE_READERS: bad } })).toThrow(ConfigError);
    expect(loadConfig({ env: {} }).sqliteReaders).toBe(2);
    expect(loadConfig({ env: { AI_MONITOR_POSTGRES_READ_CONNECTIONS: '3' } }).postgresReadConnections).toBe(3);
  });

  it('hostile filter, sort and bucket input gets an answer or a clear error; the server stays up', async () => {
    const hostile = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.constantFrom('"', '""', 'a OR b', 'NEAR(a b)', '*', '%', '_', '\\', "'; DROP TABLE interactions; --", '\u0000abc', '北', 'x'.repeat(1001)),
    );
    await fc.assert(
      fc.asyncProperty(hostile, hostile, fc.constantFrom('TIME', 'COST', 'NAME', 'tokens'), fc.constantFrom('1m', '0m', '-5m', 'soon', '1s', '1h'), async (search, intent, by, bucket) => {
        const res = await gql<Record<string, unknown>>(
          server,
          `query($f: InteractionFilter, $s: InteractionSort, $b: String) {
            interactions(filter: $f, sort: $s, first: 3) { totalCount edges { node { id } } }
            interactionFacets(filter: $f) { intent { value count } }
            interactionHistogram(filter: $f, bucket: $b) { count }
          }`,
          { f: { search, intent }, s: { by }, b: bucket },
        );
        expect(res.status).toBeLessThan(500);
        if (res.errors) {
          for (const e of res.errors) expect(e.message).toMatch(/search|bucket|InteractionSortKey|by|must|invalid|Variable/i);
        } else {
          expect(res.data).toBeTruthy();
        }
      }),
      { seed: 0x13_0013, numRuns: 60 },
    );
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
