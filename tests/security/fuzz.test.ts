/**
 * A bounded, seeded fuzz run: 1,200 random and mutated messages on the seed socket and 800
 * requests on the GraphQL endpoint. The server stays up (health 200), every message gets its
 * reply, and every acknowledged record is stored — no more, no fewer.
 */
import { describe, expect, it } from 'vitest';
import { gqlAs, http, openSeed, serveProcess, type SeedSocket } from './helpers.js';

/** mulberry32: small, seedable, good enough to pick cases reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 0x5eed;
const SEED_MESSAGES = 1200;
const GRAPHQL_REQUESTS = 800;

function makeFuzzer(rand: () => number) {
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const str = (max: number): string => String.fromCharCode(...Array.from({ length: int(max) }, () => 32 + int(95)));
  const weird: unknown[] = [null, true, false, 0, -1, 1e308, -0, NaN, '', ' ', '\u0000', '💥', [], {}, [[[]]], { a: { b: { c: {} } } }, 'x'.repeat(5000), '2026-01-01T00:00:00', '9999-99-99'];
  const value = (): unknown => (rand() < 0.5 ? pick(weird) : rand() < 0.5 ? str(40) : int(1e6) - 5e5);

  function record(): Record<string, unknown> {
    const r: Record<string, unknown> = {
      session_id: `fz-${int(20)}`,
      user_input: str(300),
      intent: pick(['search', 'read', 'write', '']),
      tools_used: Array.from({ length: int(3) }, () => ({ tool: pick(['read', 'web', 'db']), params: { q: str(10) } })),
      response_time_ms: int(5000),
      success: rand() < 0.8,
      error_type: rand() < 0.2 ? 'timeout' : null,
    };
    if (rand() < 0.3) r.id = `fz-id-${int(300)}`; // repeats exercise idempotency
    if (rand() < 0.3) r.timestamp = pick(['2026-11-01T10:00:00', '2026-11-01T10:00:00Z', Date.now(), 'yesterday', '2026-13-45']);
    if (rand() < 0.3) r.metadata = pick([{ k: str(20) }, 'not-an-object', [1, 2], null]);
    // Mutations: drop a field, change a type, add junk.
    const keys = Object.keys(r);
    if (rand() < 0.35) delete r[pick(keys)];
    if (rand() < 0.35) r[pick(keys)] = value();
    if (rand() < 0.2) r[str(8) || 'junk'] = value();
    return r;
  }

  /** A seed-protocol frame: text (string) or binary (Buffer). */
  function seedMessage(): string | Buffer {
    const roll = rand();
    if (roll < 0.35) return JSON.stringify({ type: 'metrics', data: record(), ...(rand() < 0.5 ? { request_id: int(1e6) } : {}) });
    if (roll < 0.5) return JSON.stringify({ type: 'metrics_batch', data: Array.from({ length: int(30) }, () => (rand() < 0.9 ? record() : value())) });
    if (roll < 0.58) return JSON.stringify({ type: pick(['metrics', 'metrics_batch', 'auth', 'ping', 'subscribe', '', null, 42]), data: value(), token: value(), request_id: value() });
    if (roll < 0.66) {
      const text = JSON.stringify({ type: 'metrics', data: record() });
      const cut = int(text.length);
      return rand() < 0.5 ? text.slice(0, cut) : text.slice(0, cut) + str(5) + text.slice(cut + 1);
    }
    if (roll < 0.72) return Buffer.from(Array.from({ length: int(200) }, () => int(256)));
    if (roll < 0.78) return JSON.stringify(value());
    if (roll < 0.82) return '['.repeat(2000) + ']'.repeat(2000);
    if (roll < 0.86) return JSON.stringify({ type: 'metrics', data: { ...record(), user_input: 'y'.repeat(int(2_000_000)) } });
    if (roll < 0.9) return JSON.stringify({ type: 'ping', request_id: int(100) });
    return str(200);
  }

  const MUTATION = 'mutation R($i: InteractionInput!) { recordInteraction(input: $i) { id } }';
  const BATCH = 'mutation B($is: [InteractionInput!]!) { recordInteractions(inputs: $is) { results { id accepted } } }';
  const camel = (r: Record<string, unknown>): Record<string, unknown> => ({
    ...(r.id !== undefined ? { id: r.id } : {}),
    sessionId: r.session_id,
    userInput: r.user_input,
    intent: r.intent,
    responseTimeMs: r.response_time_ms,
    success: r.success,
    ...(rand() < 0.3 ? { errorType: value() } : {}),
  });

  /** A GraphQL request body (usually JSON, sometimes not). */
  function graphqlBody(): string {
    const roll = rand();
    if (roll < 0.4) return JSON.stringify({ query: MUTATION, variables: { i: camel(record()) } });
    if (roll < 0.55) return JSON.stringify({ query: BATCH, variables: { is: Array.from({ length: int(20) }, () => camel(record())) } });
    if (roll < 0.7) {
      const q = pick([MUTATION, BATCH, '{ metrics { count p95 } }', '{ interactions(first: 5) { edges { node { id } } } }']);
      const cut = int(q.length);
      return JSON.stringify({ query: q.slice(0, cut) + str(3) + q.slice(cut), variables: { i: value() } });
    }
    if (roll < 0.8) return JSON.stringify({ query: value(), variables: value(), operationName: value() });
    if (roll < 0.88) return JSON.stringify(value());
    return str(300);
  }

  return { seedMessage, graphqlBody };
}

async function allInteractionIds(base: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let after: string | null = null;
  for (let page = 0; page < 200; page++) {
    const r = await gqlAs(base, 'query($first: Int, $after: String) { interactions(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }', undefined, { first: 500, after });
    if (!r.data?.interactions) throw new Error(`interactions query failed: ${JSON.stringify(r.errors)}`);
    const conn = r.data.interactions as { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    for (const e of conn.edges) ids.add(e.node.id);
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  return ids;
}

describe('fuzz', () => {
  it('survives random and mutated input on the seed socket and GraphQL, storing exactly what it acknowledged', async () => {
    // Mutated timestamps reach back to 1970: retention (30 days by default) would rightly delete
    // those acknowledged records when it runs, so it is set to its maximum here.
    const s = await serveProcess({ env: { AI_MONITOR_RETENTION_DAYS: '36500' } });
    const rand = prng(SEED);
    const fuzz = makeFuzzer(rand);
    const acked = new Set<string>();

    let seed: SeedSocket = await openSeed(s.wsUrl);
    let reconnects = 0;
    for (let i = 0; i < SEED_MESSAGES; i++) {
      const msg = fuzz.seedMessage();
      seed.send(msg);
      const reply: Record<string, unknown> = await Promise.race([seed.next(30_000), seed.closed.then((c) => ({ type: 'closed', ...c }))]);
      if (reply.type === 'closed') {
        // Only a frame beyond the hard size cap may close the socket (1009); reconnect.
        expect(reply.code).toBe(1009);
        reconnects++;
        seed = await openSeed(s.wsUrl);
        continue;
      }
      expect(['ack', 'error', 'pong', 'auth_ok']).toContain(reply.type);
      if (reply.type === 'ack') for (const id of reply.ids as string[]) acked.add(id);
    }

    for (let i = 0; i < GRAPHQL_REQUESTS; i++) {
      const res = await http(`${s.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: fuzz.graphqlBody(),
      });
      expect(res.status).toBeLessThan(500);
      const body = res.json<{ data?: { recordInteraction?: { id: string } | null; recordInteractions?: { results: { id: string | null; accepted: boolean }[] } | null } }>();
      if (body.data?.recordInteraction) acked.add(body.data.recordInteraction.id);
      for (const r of body.data?.recordInteractions?.results ?? []) if (r.accepted && r.id) acked.add(r.id);
    }

    expect((await http(`${s.url}/health`)).status).toBe(200);
    const stored = await allInteractionIds(s.url);
    expect(acked.size).toBeGreaterThan(100);
    expect([...stored].sort()).toEqual([...acked].sort());
    expect(reconnects).toBeLessThan(SEED_MESSAGES / 10);
    process.stdout.write(`fuzz: ${acked.size} records acknowledged and stored, ${reconnects} reconnects\n`);
  }, 240_000);
});
