/**
 * The explorer's reads on both stores (the compiled classes): sorted pages with ties hold across
 * pages, counts, facets that sum to the count, the histogram, export scans and session queries,
 * each checked against a plain-JavaScript reference over the same records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../apps/api/dist/store/sqlite.js';
import { PostgresStore } from '../../apps/api/dist/store/postgres.js';
import { InvalidCursorError, type Store } from '../../apps/api/dist/store/types.js';
import type { Interaction, InteractionFilter, InteractionSort, SessionSort } from '../../apps/api/dist/model/interaction.js';
import { PG_URL, dropSchema, noteSkip, probePostgres, randomName } from '../helpers/services.js';

const pgError = await probePostgres();
noteSkip('store explorer: postgres', 'PostgreSQL', pgError);

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const MIN = 60_000;

/** Many ties on every sort key (few distinct values) and on time, so the tie-break is exercised. */
function record(i: number): Interaction {
  const failed = i % 5 === 4;
  return {
    id: `x-${String(i).padStart(3, '0')}`,
    sessionId: `s${i % 7}`,
    timestamp: T0 + Math.floor(i / 3) * 7 * MIN,
    receivedAt: T0,
    userInput: i % 4 === 0 ? `查询第${i}号订单` : `Order ${i} status`,
    intent: ['order', 'refund', 'chat'][i % 3]!,
    toolsUsed: i % 2 ? [{ tool: 'db', params: {}, durationMs: 3, success: true, error: null }, { tool: i % 3 ? 'web' : 'db', params: {}, durationMs: 3, success: true, error: null }] : [],
    responseTimeMs: [100, 250, 250, 900][i % 4]!,
    success: !failed,
    errorType: failed ? (i % 10 === 4 ? 'timeout' : 'rate_limit') : null,
    assistant: i % 3 ? 'bot-a' : 'bot-b',
    version: i % 2 ? '2.0' : null,
    model: ['m-1', 'm-2', null][i % 3]!,
    userId: null,
    inputTokens: i % 6 ? (i % 4) * 10 : null,
    outputTokens: i % 6 ? 5 : null,
    costUsd: i % 6 ? [0.5, 0.25, 0.5][i % 3]! : null,
    feedbackScore: null,
    metadata: null,
    environment: i % 2 ? 'production' : 'staging',
  };
}

const DATA: Interaction[] = Array.from({ length: 90 }, (_, i) => record(i));

function matches(r: Interaction, f: InteractionFilter): boolean {
  return (
    (f.from === undefined || r.timestamp >= f.from) &&
    (f.to === undefined || r.timestamp < f.to) &&
    (f.intent === undefined || r.intent === f.intent) &&
    (f.success === undefined || r.success === f.success) &&
    (f.assistant === undefined || r.assistant === f.assistant) &&
    (f.model === undefined || r.model === f.model) &&
    (f.version === undefined || r.version === f.version) &&
    (f.tool === undefined || r.toolsUsed.some((t) => t.tool === f.tool)) &&
    (!f.search || r.userInput.toLowerCase().includes(f.search.toLowerCase()))
  );
}

const KEY: Record<InteractionSort['by'], (r: Interaction) => number> = {
  time: (r) => r.timestamp,
  responseTime: (r) => r.responseTimeMs,
  tokens: (r) => (r.inputTokens ?? 0) + (r.outputTokens ?? 0),
  cost: (r) => r.costUsd ?? 0,
};

/** The reference order: by key, ties by insertion order, both in the sort's direction. */
function expectedIds(f: InteractionFilter, sort: InteractionSort): string[] {
  const sign = sort.direction === 'desc' ? -1 : 1;
  return DATA.map((r, idx) => ({ r, idx }))
    .filter(({ r }) => matches(r, f))
    .sort((a, b) => sign * (KEY[sort.by](a.r) - KEY[sort.by](b.r)) || sign * (a.idx - b.idx))
    .map(({ r }) => r.id);
}

async function pagedIds(store: Store, f: InteractionFilter, sort: InteractionSort, first: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 200; i++) {
    const page = await store.listInteractions(f, { first, after }, sort);
    ids.push(...page.items.map((r) => r.id));
    if (!page.hasNextPage) return ids;
    after = page.endCursor;
  }
  throw new Error('pagination did not end');
}

interface Case {
  name: string;
  skip: boolean;
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
}

const CASES: Case[] = [
  {
    name: 'sqlite',
    skip: false,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'ai-monitor-explorer-'));
      const store = new SqliteStore({ file: join(dir, 'db.sqlite') });
      return {
        store,
        async cleanup() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    skip: pgError !== null,
    async open() {
      const schema = randomName('aim_explore');
      const store = new PostgresStore({ url: PG_URL, schema, poolSize: 4, readPoolSize: 4 });
      return {
        store,
        async cleanup() {
          await store.close();
          await dropSchema(schema);
        },
      };
    },
  },
];

const FILTERS: InteractionFilter[] = [
  {},
  { intent: 'refund' },
  { success: false },
  { tool: 'web', assistant: 'bot-a' },
  { search: 'ORDER 1' },
  { search: '订单' },
  { search: '查询第', model: 'm-1' },
  { from: T0 + 30 * MIN, to: T0 + 100 * MIN, version: '2.0' },
  { search: 'nothing-like-this' },
];

const SORTS: InteractionSort[] = (['time', 'responseTime', 'tokens', 'cost'] as const).flatMap((by) =>
  (['desc', 'asc'] as const).map((direction) => ({ by, direction })),
);

for (const c of CASES) {
  describe.skipIf(c.skip)(`explorer reads: ${c.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ store, cleanup } = await c.open());
      await store.migrate();
      await store.insertInteractions(DATA.slice(0, 40));
      await store.insertInteractions(DATA.slice(40));
    });
    afterAll(async () => cleanup?.());

    it('every sort holds across pages, ties broken by insertion order, for every filter', async () => {
      for (const sort of SORTS) {
        for (const f of FILTERS) {
          const want = expectedIds(f, sort);
          expect(await pagedIds(store, f, sort, 7), `${sort.by} ${sort.direction} ${JSON.stringify(f)}`).toEqual(want);
        }
        expect(await pagedIds(store, {}, sort, 1)).toEqual(expectedIds({}, sort));
      }
    });

    it('refuses a cursor from another sort', async () => {
      const page = await store.listInteractions({}, { first: 2 }, { by: 'cost', direction: 'desc' });
      await expect(store.listInteractions({}, { first: 2, after: page.endCursor }, { by: 'tokens', direction: 'desc' })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
      await expect(store.listInteractions({}, { first: 2, after: page.endCursor })).rejects.toThrow(/invalid cursor/);
    });

    it('counts exactly, and marks a 1–2 character search estimated', async () => {
      for (const f of FILTERS) {
        const estimated = f.search !== undefined && [...f.search].length < 3;
        expect(await store.countInteractions(f)).toEqual({ count: DATA.filter((r) => matches(r, f)).length, estimated });
      }
      expect(await store.countInteractions({ search: '订' })).toEqual({ count: DATA.filter((r) => r.userInput.includes('订')).length, estimated: true });
    });

    it('facets count the matches and sum to the count (tools: per tool called)', async () => {
      for (const f of FILTERS) {
        const facets = await store.interactionFacets(f, 100);
        const matched = DATA.filter((r) => matches(r, f));
        const total = matched.length;
        for (const [name, field] of [
          ['intent', 'intent'],
          ['errorType', 'errorType'],
          ['assistant', 'assistant'],
          ['model', 'model'],
          ['version', 'version'],
          ['environment', 'environment'],
        ] as const) {
          const values = facets[name]!;
          expect(values.reduce((n, v) => n + v.count, 0), `${name} ${JSON.stringify(f)}`).toBe(total);
          for (const v of values) expect(v.count).toBe(matched.filter((r) => r[field] === v.value).length);
          for (let i = 1; i < values.length; i++) expect(values[i - 1]!.count).toBeGreaterThanOrEqual(values[i]!.count);
        }
        const tools = new Map<string, number>();
        for (const r of matched) for (const t of new Set(r.toolsUsed.map((u) => u.tool))) tools.set(t, (tools.get(t) ?? 0) + 1);
        expect(new Map(facets.tool!.map((v) => [v.value!, v.count]))).toEqual(tools);
      }
      const top = await store.interactionFacets({}, 1, ['intent']);
      expect(top.intent).toHaveLength(1);
      expect(Object.keys(top)).toEqual(['intent']);
    });

    it('the histogram counts matches (and failures) per bucket and sums to the count', async () => {
      const bucket = 15 * MIN;
      for (const f of FILTERS) {
        const buckets = await store.interactionHistogram(f, bucket);
        const matched = DATA.filter((r) => matches(r, f));
        expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(matched.length);
        for (const b of buckets) {
          expect(b.start % bucket).toBe(0);
          const inside = matched.filter((r) => r.timestamp >= b.start && r.timestamp < b.start + bucket);
          expect(b.count).toBe(inside.length);
          expect(b.errors).toBe(inside.filter((r) => !r.success).length);
        }
        expect(buckets.map((b) => b.start)).toEqual([...buckets.map((b) => b.start)].sort((a, b) => a - b));
      }
    });

    it('scans every match in order, in batches', async () => {
      for (const f of FILTERS) {
        const ids: string[] = [];
        for await (const batch of store.scanInteractions(f, { by: 'time', direction: 'desc' }, 8)) {
          expect(batch.length).toBeLessThanOrEqual(8);
          ids.push(...batch.map((r) => r.id));
        }
        expect(ids).toEqual(expectedIds(f, { by: 'time', direction: 'desc' }));
      }
    });

    it('sessions: filter by their interactions, sort by last seen, error rate, length or duration, paged', async () => {
      const sessions = new Map<string, Interaction[]>();
      for (const r of DATA) sessions.set(r.sessionId, [...(sessions.get(r.sessionId) ?? []), r]);
      const summary = [...sessions].map(([id, rs]) => ({
        id,
        lastSeen: Math.max(...rs.map((r) => r.timestamp)),
        errorRate: rs.filter((r) => !r.success).length / rs.length,
        interactions: rs.length,
        duration: Math.max(...rs.map((r) => r.timestamp)) - Math.min(...rs.map((r) => r.timestamp)),
        rs,
      }));
      const sorts: SessionSort[] = (['lastSeen', 'errorRate', 'interactions', 'duration'] as const).flatMap((by) =>
        (['desc', 'asc'] as const).map((direction) => ({ by, direction })),
      );
      for (const sort of sorts) {
        for (const filter of [undefined, { assistant: 'bot-b' }, { search: '订单' }, { search: 'order 5' }] as (InteractionFilter | undefined)[]) {
          const sign = sort.direction === 'desc' ? -1 : 1;
          const want = summary
            .filter((s) => !filter || s.rs.some((r) => matches(r, filter)))
            .sort((a, b) => sign * (a[sort.by] - b[sort.by]) || (a.id < b.id ? -1 : 1))
            .map((s) => s.id);
          const got: string[] = [];
          let after: string | null = null;
          for (let i = 0; i < 20; i++) {
            const page = await store.listSessions({}, { first: 2, after }, { filter, sort });
            got.push(...page.items.map((s) => s.id));
            if (!page.hasNextPage) break;
            after = page.endCursor;
          }
          expect(got, `${sort.by} ${sort.direction} ${JSON.stringify(filter)}`).toEqual(want);
        }
      }
    });

    it('a term common enough to page by scanning gives the same pages as the index', async () => {
      const T1 = T0 + 86_400_000;
      const many = Array.from({ length: 2100 }, (_, i) => ({
        ...record(i),
        id: `c-${String(i).padStart(4, '0')}`,
        timestamp: T1 + Math.floor(i / 2) * 1000,
        userInput: i % 700 === 0 ? `rare 常见词 ${i}` : `常见词 common words ${i}`,
      }));
      await store.insertInteractions(many);
      const f: InteractionFilter = { search: '常见词', from: T1 };
      const want = many.map((r, idx) => ({ r, idx })).filter(({ r }) => r.userInput.includes('常见词')).sort((a, b) => b.r.timestamp - a.r.timestamp || b.idx - a.idx).map(({ r }) => r.id);
      const got: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 10; i++) {
        const page = await store.listInteractions(f, { first: 500, after });
        got.push(...page.items.map((r) => r.id));
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      expect(got).toEqual(want);
      expect((await store.countInteractions(f)).count).toBe(2100);
      expect((await store.listInteractions({ search: 'RARE 常见', from: T1 }, { first: 10 })).items.map((r) => r.id)).toEqual(['c-2100'.replace('2100', '1400'), 'c-0700', 'c-0000']);
    });
  });
}
