/** GraphQL over HTTP: recording mutations, the explorer queries, metrics and bad arguments. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startServer, type RunningServer } from '../helpers/app.js';

let server: RunningServer;
const now = Date.now();
const iso = (msAgo: number): string => new Date(now - msAgo).toISOString();

const RECORD = `mutation ($input: InteractionInput!) { recordInteraction(input: $input) { id sessionId timestamp intent success errorType
  toolsUsed { tool params durationMs success error } metadata model } }`;
const RECORD_MANY = `mutation ($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) {
  acceptedCount rejectedCount results { index id accepted duplicate error } } }`;

function input(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { sessionId: 'gql-s1', userInput: 'hello there', intent: 'greet', responseTimeMs: 100, success: true, timestamp: iso(2 * 86_400_000), ...overrides };
}

beforeAll(async () => {
  server = await startServer();
  // A known data set: 20 interactions over the last minutes in two sessions.
  const inputs = Array.from({ length: 20 }, (_, i) =>
    input({
      sessionId: i % 2 ? 'gql-odd' : 'gql-even',
      intent: i % 4 === 0 ? 'search' : 'chat',
      responseTimeMs: (i + 1) * 100,
      success: i % 5 !== 0,
      errorType: i % 5 === 0 ? 'timeout' : null,
      userInput: `question number ${i} about Paris`,
      toolsUsed: i % 3 === 0 ? [{ tool: 'web_search', params: { q: `q${i}` }, durationMs: 50, success: i % 5 !== 0 }] : [],
      timestamp: iso(60_000 + i * 1000),
    }),
  );
  const r = await gql<{ recordInteractions: { acceptedCount: number } }>(server, RECORD_MANY, { inputs });
  expect(r.data!.recordInteractions.acceptedCount).toBe(20);
});
afterAll(async () => {
  await server.stop();
  server.cleanup();
});

describe('recording', () => {
  it('recordInteraction returns the stored record with tool calls and metadata', async () => {
    const r = await gql<{ recordInteraction: Record<string, unknown> }>(server, RECORD, {
      input: input({
        sessionId: 'gql-single',
        toolsUsed: [{ tool: 'read', params: { path: '/etc/hosts', nested: { a: [1, 2] } }, durationMs: 12.5, success: false, error: 'ENOENT' }],
        metadata: { channel: 'slack' },
        model: 'gpt-x',
        timestamp: '2026-02-17T14:30:00.123456',
      }),
    });
    expect(r.errors).toBeUndefined();
    expect(r.data!.recordInteraction).toMatchObject({
      sessionId: 'gql-single',
      timestamp: '2026-02-17T14:30:00.123Z',
      toolsUsed: [{ tool: 'read', params: { path: '/etc/hosts', nested: { a: [1, 2] } }, durationMs: 12.5, success: false, error: 'ENOENT' }],
      metadata: { channel: 'slack' },
      model: 'gpt-x',
    });
  });

  it('recordInteraction names the field of an invalid record in camelCase', async () => {
    const r = await gql(server, RECORD, { input: input({ responseTimeMs: -1 }) });
    expect(r.errors?.[0]?.message).toBe('input.responseTimeMs: must be 0 or more');
    const r2 = await gql(server, RECORD, { input: input({ timestamp: 'not a date' }) });
    expect(r2.errors?.[0]?.message).toMatch(/^input\.timestamp: not a valid ISO-8601/);
    const r3 = await gql(server, RECORD, { input: input({ feedbackScore: 5.5 }) });
    expect(r3.errors?.[0]?.message).toBe('input.feedbackScore: must be between 1 and 5 (the feedback scale)');
    const r4 = await gql<{ recordInteraction: { feedbackScore: number } }>(server, 'mutation ($input: InteractionInput!) { recordInteraction(input: $input) { feedbackScore } }', { input: input({ feedbackScore: 4 }) });
    expect(r4.data?.recordInteraction.feedbackScore).toBe(4);
  });

  it('GraphQL type errors name the field and store nothing', async () => {
    const r = await gql(server, RECORD, { input: input({ responseTimeMs: 'fast', sessionId: 'never-stored' }) });
    expect(r.errors?.[0]?.message).toMatch(/responseTimeMs/);
    const s = await gql<{ session: unknown }>(server, '{ session(id: "never-stored") { id } }');
    expect(s.data!.session).toBeNull();
  });

  it('recordInteractions keeps valid siblings of an invalid record and reports per index', async () => {
    const r = await gql<{ recordInteractions: { acceptedCount: number; rejectedCount: number; results: Record<string, unknown>[] } }>(server, RECORD_MANY, {
      inputs: [input({ sessionId: 'batch-g', id: 'g-1' }), input({ sessionId: 'batch-g', intent: 'x'.repeat(300) }), input({ sessionId: 'batch-g', id: 'g-1' })],
    });
    const out = r.data!.recordInteractions;
    expect(out.acceptedCount).toBe(2);
    expect(out.rejectedCount).toBe(1);
    expect(out.results).toEqual([
      { index: 0, id: 'g-1', accepted: true, duplicate: false, error: null },
      { index: 1, id: null, accepted: false, duplicate: false, error: 'intent: must be at most 200 characters' },
      { index: 2, id: 'g-1', accepted: true, duplicate: true, error: null },
    ]);
  });
});

describe('queries', () => {
  it('pages through interactions with cursors, newest first, without overlap', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r: Awaited<ReturnType<typeof gql<{ interactions: { edges: { cursor: string; node: { id: string; timestamp: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>>> =
        await gql(server, 'query ($after: String) { interactions(first: 7, after: $after, filter: { sessionId: "gql-odd" }) { edges { cursor node { id timestamp } } pageInfo { hasNextPage endCursor } } }', { after });
      const conn = r.data!.interactions;
      seen.push(...conn.edges.map((e) => e.node.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
  });

  it('filters by intent, tool, success, error type, text and time', async () => {
    const count = async (filter: string): Promise<number> => {
      const r = await gql<{ interactions: { edges: unknown[] } }>(server, `{ interactions(first: 100, filter: ${filter}) { edges { node { id } } } }`);
      expect(r.errors).toBeUndefined();
      return r.data!.interactions.edges.length;
    };
    expect(await count('{ intent: "search", sessionId: "gql-even" }')).toBe(5);
    expect(await count('{ tool: "web_search" }')).toBe(7);
    expect(await count('{ tool: "web" }')).toBe(0);
    expect(await count('{ success: false, sessionId: "gql-even" }')).toBe(2);
    expect(await count('{ errorType: "timeout" }')).toBe(4);
    expect(await count('{ search: "NUMBER 1" }')).toBe(11);
    expect(await count(`{ from: "${iso(70_500)}", to: "${iso(60_500)}" }`)).toBe(10);
  });

  it('answers sessions and one session with its interactions', async () => {
    const r = await gql<{ sessions: { edges: { node: { id: string; interactionCount: number } }[] }; session: Record<string, unknown> }>(
      server,
      `{ sessions(first: 100) { edges { node { id interactionCount } } }
         session(id: "gql-odd") { id interactionCount errorCount errorRate interactions(first: 3) { edges { node { sessionId } } pageInfo { hasNextPage } } } }`,
    );
    expect(r.errors).toBeUndefined();
    const ids = r.data!.sessions.edges.map((e) => e.node.id);
    expect(ids).toContain('gql-odd');
    expect(r.data!.session).toMatchObject({ id: 'gql-odd', interactionCount: 10, errorCount: 2, errorRate: 20 });
    expect((r.data!.session.interactions as { pageInfo: { hasNextPage: boolean } }).pageInfo.hasNextPage).toBe(true);
  });

  it('computes metrics, timeseries and breakdowns from roll-ups', async () => {
    const r = await gql<Record<string, unknown>>(
      server,
      `{ m: metrics(from: "${iso(120_000)}", to: "${iso(0)}") { count errors errorRate p50 p95 p99 meanResponseTimeMs activeSessions throughputPerMinute }
         ts: timeseries(window: "1h", bucket: "1m") { start count errors p95 }
         intents: intentBreakdown(window: "1h") { intent count errors errorRate meanResponseTimeMs }
         tools: toolBreakdown(window: "1h") { tool calls errors errorRate meanDurationMs }
         errs: errorBreakdown(window: "1h") { errorType count share } }`,
    );
    expect(r.errors).toBeUndefined();
    const m = r.data!.m as Record<string, number>;
    expect(m.count).toBe(20);
    expect(m.errors).toBe(4);
    expect(m.errorRate).toBe(20);
    expect(m.meanResponseTimeMs).toBe(1050);
    // Histogram percentiles are within ~5 % of the exact values (1000, 1900, 2000 ms).
    expect(m.p50!).toBeGreaterThan(950);
    expect(m.p50!).toBeLessThan(1100);
    expect(m.p95!).toBeGreaterThan(1800);
    expect(m.p99!).toBeLessThanOrEqual(2000);
    expect(m.activeSessions).toBeGreaterThanOrEqual(2);
    const ts = r.data!.ts as { count: number }[];
    expect(ts.reduce((s, p) => s + p.count, 0)).toBeGreaterThanOrEqual(20);
    const intents = r.data!.intents as { intent: string; count: number }[];
    expect(intents.find((i) => i.intent === 'search')).toMatchObject({ count: 5 });
    const tools = r.data!.tools as { tool: string; calls: number; errors: number; meanDurationMs: number }[];
    expect(tools.find((t) => t.tool === 'web_search')).toMatchObject({ calls: 7, errors: 2, meanDurationMs: 50 });
    expect(r.data!.errs).toContainEqual({ errorType: 'timeout', count: 4, share: 1 });
  });

  it('rejects bad arguments with errors naming them', async () => {
    const cases: [string, RegExp][] = [
      ['{ metrics(window: "five minutes") { count } }', /window: expected a duration like 30s, 5m/],
      ['{ metrics(window: "500d") { count } }', /window: must be more than 0 and at most 400d/],
      [`{ metrics(from: "${iso(0)}", to: "${iso(60_000)}") { count } }`, /from: must be earlier than to/],
      ['{ timeseries(window: "7d", bucket: "30s") { count } }', /bucket: must be a whole number of minutes/],
      ['{ timeseries(window: "30d", bucket: "1m") { count } }', /bucket: too small for this range/],
      ['{ interactions(first: 501) { edges { cursor } } }', /first: must be between 1 and 500/],
      ['{ interactions(after: "garbage") { edges { cursor } } }', /invalid cursor/],
      ['{ interactions(last: 5) { edges { cursor } } }', /last\/before are not supported/],
      ['{ intentBreakdown(limit: 0) { intent } }', /limit: must be between 1 and 1000/],
      ['{ metrics(from: "31/12/2026") { count } }', /DateTime: not a valid ISO-8601/],
      ['{ nope }', /Cannot query field "nope"/],
      ['{ interactions { edges { node { id } }', /Syntax Error/],
    ];
    for (const [query, pattern] of cases) {
      const r = await gql(server, query);
      expect(r.errors?.[0]?.message, query).toMatch(pattern);
    }
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });

  it('serves GraphiQL to a browser', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/graphiql/i);
  });
});
