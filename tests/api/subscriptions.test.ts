/** graphql-ws subscriptions: every ingest path reaches interactionRecorded and metricsUpdated. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { gql, startServer, type RunningServer } from '../helpers/app.js';
import { SeedClient, seedRecord } from '../helpers/seed-client.js';

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ url: `${server.wsUrl}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
});
afterAll(async () => {
  await client.dispose();
  await server.stop();
  server.cleanup();
});

/** Collects events of one subscription until `count` arrived. */
function collect<T>(query: string, count: number | ((events: T[]) => boolean), variables?: Record<string, unknown>) {
  const enough = typeof count === 'number' ? (events: T[]) => events.length >= count : count;
  const events: T[] = [];
  const errors: unknown[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        if (v.errors) errors.push(v.errors);
        if (v.data) events.push(v.data);
        if (enough(events)) done();
      },
      error: (e) => {
        errors.push(e);
        done();
      },
      complete: () => done(),
    },
  );
  return { events, errors, finished, unsubscribe };
}

const waitForSubscription = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

describe('subscriptions', () => {
  it('interactionRecorded delivers records from the seed socket, HTTP batch and GraphQL, honouring the filter', async () => {
    const all = collect<{ interactionRecorded: { sessionId: string; intent: string } }>(
      'subscription { interactionRecorded { sessionId intent } }',
      3,
    );
    const filtered = collect<{ interactionRecorded: { intent: string } }>(
      'subscription ($f: InteractionFilter) { interactionRecorded(filter: $f) { intent } }',
      1,
      { f: { intent: 'from-http' } },
    );
    await waitForSubscription();
    const seed = await SeedClient.connect(`${server.wsUrl}/`);
    expect((await seed.request({ type: 'metrics', data: seedRecord({ session_id: 'sub', intent: 'from-seed' }) })).type).toBe('ack');
    await seed.close();
    const http = await fetch(`${server.url}/api/interactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [seedRecord({ session_id: 'sub', intent: 'from-http' })] }),
    });
    expect(http.status).toBe(200);
    const r = await gql(server, 'mutation { recordInteraction(input: { sessionId: "sub", userInput: "u", intent: "from-graphql", responseTimeMs: 5, success: true }) { id } }');
    expect(r.errors).toBeUndefined();
    await all.finished;
    await filtered.finished;
    expect(all.errors).toEqual([]);
    expect(all.events.map((e) => e.interactionRecorded.intent).sort()).toEqual(['from-graphql', 'from-http', 'from-seed']);
    expect(filtered.events.map((e) => e.interactionRecorded.intent)).toEqual(['from-http']);
    all.unsubscribe();
    filtered.unsubscribe();
  });

  it('environment: every ingest path stores it; interactions and interactionRecorded filter by it', async () => {
    type Ev = { interactionRecorded: { intent: string; environment: string | null } };
    const staging = collect<Ev>(
      'subscription ($f: InteractionFilter) { interactionRecorded(filter: $f) { intent environment } }',
      4,
      { f: { environment: 'staging' } },
    );
    await waitForSubscription();
    const env = (path: string, environment: string | null) => ({ session_id: 'env-s', intent: `env-${path}-${environment ?? 'none'}`, environment });
    const seed = await SeedClient.connect(`${server.wsUrl}/`);
    expect((await seed.request({ type: 'metrics', data: seedRecord(env('seed', 'staging')) })).type).toBe('ack');
    expect((await seed.request({ type: 'metrics_batch', data: [seedRecord(env('seedbatch', 'production')), seedRecord(env('seedbatch', null))] })).accepted).toBe(2);
    // Too long a label is refused by name, and the socket keeps serving.
    const long = await seed.request({ type: 'metrics', data: seedRecord({ ...env('seed', null), environment: 'x'.repeat(201) }) });
    expect(long.type).toBe('error');
    expect(long.error).toMatch(/^environment: must be at most 200 characters/);
    await seed.close();
    const http = await fetch(`${server.url}/api/interactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [seedRecord(env('http', 'staging')), seedRecord(env('http', 'production'))] }),
    });
    expect(http.status).toBe(200);
    const one = await gql<{ recordInteraction: { environment: string } }>(
      server,
      'mutation { recordInteraction(input: { sessionId: "env-s", userInput: "u", intent: "env-graphql-staging", responseTimeMs: 5, success: true, environment: "staging" }) { environment } }',
    );
    expect(one.data?.recordInteraction.environment).toBe('staging');
    const many = await gql<{ recordInteractions: { acceptedCount: number } }>(
      server,
      'mutation ($in: [InteractionInput!]!) { recordInteractions(inputs: $in) { acceptedCount } }',
      { in: [{ sessionId: 'env-s', userInput: 'u', intent: 'env-graphqlmany-staging', responseTimeMs: 5, success: true, environment: 'staging' }] },
    );
    expect(many.data?.recordInteractions.acceptedCount).toBe(1);
    await staging.finished;
    expect(staging.errors).toEqual([]);
    const want = ['env-graphql-staging', 'env-graphqlmany-staging', 'env-http-staging', 'env-seed-staging'];
    expect(staging.events.map((e) => e.interactionRecorded.intent).sort()).toEqual(want);
    expect(staging.events.every((e) => e.interactionRecorded.environment === 'staging')).toBe(true);
    staging.unsubscribe();

    const list = async (filter: Record<string, unknown>): Promise<{ intent: string; environment: string | null }[]> => {
      const r = await gql<{ interactions: { edges: { node: { intent: string; environment: string | null } }[] } }>(
        server,
        'query ($f: InteractionFilter) { interactions(filter: $f, first: 100) { edges { node { intent environment } } } }',
        { f: filter },
      );
      expect(r.errors).toBeUndefined();
      return r.data!.interactions.edges.map((e) => e.node);
    };
    expect((await list({ sessionId: 'env-s', environment: 'staging' })).map((n) => n.intent).sort()).toEqual(want);
    expect((await list({ sessionId: 'env-s', environment: 'production' })).map((n) => n.intent).sort()).toEqual(['env-http-production', 'env-seedbatch-production']);
    const all = await list({ sessionId: 'env-s' });
    expect(all).toHaveLength(7);
    expect(all.find((n) => n.intent === 'env-seedbatch-none')?.environment).toBeNull();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('metricsUpdated pushes fresh metrics after an ingest', async () => {
    type M = { metricsUpdated: { count: number; errors: number } };
    // An earlier test's tick may still be pending: wait for the one that includes this batch.
    const sub = collect<M>('subscription { metricsUpdated(window: "1h") { count errors } }', (ev) => ev.some((e) => e.metricsUpdated.count >= 10));
    await waitForSubscription();
    const seed = await SeedClient.connect(`${server.wsUrl}/`);
    const batch = Array.from({ length: 10 }, (_, i) => seedRecord({ timestamp: new Date().toISOString(), session_id: 'metrics-sub', success: i !== 0 }));
    expect((await seed.request({ type: 'metrics_batch', data: batch })).accepted).toBe(10);
    await seed.close();
    await sub.finished;
    expect(sub.errors).toEqual([]);
    const last = sub.events[sub.events.length - 1]!.metricsUpdated;
    expect(last.count).toBeGreaterThanOrEqual(10);
    expect(last.errors).toBeGreaterThanOrEqual(1);
    sub.unsubscribe();
  });

  it('an invalid subscription gets an error and the socket keeps serving others', async () => {
    const bad = collect('subscription { interactionRecorded { nope } }', 1);
    await bad.finished;
    const messages = (bad.errors.flat() as { message: string }[]).map((e) => e.message);
    expect(messages).toContain('Cannot query field "nope" on type "Interaction".');
    const good = collect<{ interactionRecorded: { intent: string } }>('subscription { interactionRecorded { intent } }', 1);
    await waitForSubscription();
    await gql(server, 'mutation { recordInteraction(input: { sessionId: "s", userInput: "u", intent: "still-alive", responseTimeMs: 5, success: true }) { id } }');
    await good.finished;
    expect(good.events[0]!.interactionRecorded.intent).toBe('still-alive');
    good.unsubscribe();
  });
});
