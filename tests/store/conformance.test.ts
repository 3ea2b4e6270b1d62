/**
 * Store conformance: the same tests against SqliteStore and PostgresStore (the compiled
 * classes), checked against a plain-JavaScript reference, and then the two stores compared
 * with each other on the same data. PostgreSQL tests each get their own schema.
 */
import { postgresBackTo, sqliteBackTo } from '../helpers/downgrade.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../apps/api/dist/store/sqlite.js';
import { PostgresStore } from '../../apps/api/dist/store/postgres.js';
import { POSTGRES_SCHEMA_VERSION } from '../../apps/api/dist/store/postgres-schema.js';
import { StoreError, type Store } from '../../apps/api/dist/store/types.js';
import { Histogram } from '../../apps/api/dist/model/histogram.js';
import type { Interaction, InteractionFilter } from '../../apps/api/dist/model/interaction.js';
import type { AlertRecord } from '../../apps/api/dist/model/alert.js';
import type { Span } from '../../apps/api/dist/model/span.js';
import { IN_CI, PG_URL, dropSchema, noteSkip, pgQuery, probePostgres, randomName } from '../helpers/services.js';

const pgError = await probePostgres();
noteSkip('store conformance: postgres', 'PostgreSQL', pgError);

describe.runIf(IN_CI)('store conformance services', () => {
  it('PostgreSQL is reachable (required when CI=true)', () => {
    expect(pgError, `PostgreSQL at ${PG_URL} (AI_MONITOR_TEST_DATABASE_URL) is unreachable`).toBeNull();
  });
});

interface Harness {
  store: Store;
  /** Makes the stored schema look written by a newer version. */
  bumpVersion(): Promise<void>;
  /** Turns the stored schema back into version 1's (before the settings table, `environment`, the cost roll-ups, spans, the release tables and the text index), keeping the rows. */
  toVersion1(): Promise<void>;
  /** Opens a second store on the same database (another replica). */
  reopen(): Store;
  cleanup(): Promise<void>;
}

interface Case {
  name: 'sqlite' | 'postgres';
  skip: boolean;
  open(): Promise<Harness>;
}

const CASES: Case[] = [
  {
    name: 'sqlite',
    skip: false,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'ai-monitor-store-'));
      const file = join(dir, 'test.db');
      const store = new SqliteStore({ file });
      const opened: Store[] = [store];
      return {
        store,
        async bumpVersion() {
          store.db.pragma('user_version = 999');
        },
        async toVersion1() {
          sqliteBackTo(store.db, 1);
        },
        reopen() {
          const s = new SqliteStore({ file });
          opened.push(s);
          return s;
        },
        async cleanup() {
          for (const s of opened) await s.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    skip: pgError !== null,
    async open() {
      const schema = randomName('aim_conf');
      const store = new PostgresStore({ url: PG_URL, schema, poolSize: 4 });
      const opened: Store[] = [store];
      return {
        store,
        async bumpVersion() {
          await pgQuery(`INSERT INTO "${schema}".ai_monitor_schema_version (version) VALUES (999)`);
        },
        async toVersion1() {
          await postgresBackTo(schema, 1);
        },
        reopen() {
          const s = new PostgresStore({ url: PG_URL, schema, poolSize: 4 });
          opened.push(s);
          return s;
        },
        async cleanup() {
          for (const s of opened) await s.close();
          await dropSchema(schema);
        },
      };
    },
  },
];

// ------------------------------------------------------------------ the dataset

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const INTENTS = ['search', 'Book', 'cancel', 'alpha'];

function record(i: number, over: Partial<Interaction> = {}): Interaction {
  const failed = i % 4 === 3;
  const ts = T0 + (i === 11 ? 10 : i === 21 || i === 22 ? 20 : i) * 37_000;
  const tools =
    i % 3 === 0
      ? []
      : i % 3 === 1
        ? [{ tool: i === 7 ? 'web_search' : 'web', params: { q: `term ${i}`, page: i, nested: { ok: true, list: [1, 'two', null] } }, durationMs: 10 + i, success: true, error: null }]
        : [
            { tool: 'db', params: {}, durationMs: 5 + i, success: false, error: 'timeout' },
            { tool: 'web', params: { q: null }, durationMs: null, success: null, error: null },
          ];
  return {
    id: `rec-${String(i).padStart(3, '0')}`,
    sessionId: `s${i % 5}`,
    timestamp: ts,
    receivedAt: ts + 5,
    userInput: `Question ${i} about ${i % 2 ? 'Weather' : 'flights'}`,
    intent: INTENTS[i % 4]!,
    toolsUsed: tools,
    responseTimeMs: 100 + ((i * 53) % 900),
    success: !failed,
    errorType: failed ? (i % 8 === 3 ? 'timeout' : 'Rate') : null,
    assistant: i % 2 ? 'bot-a' : null,
    version: i % 2 ? '1.2.0' : null,
    model: i % 3 ? 'model-x' : null,
    userId: i % 2 ? `u${i}` : null,
    inputTokens: i % 2 ? i * 10 : null,
    outputTokens: i % 2 ? i * 20 : null,
    costUsd: i % 2 ? i * 0.25 : null,
    feedbackScore: i % 5 === 0 ? 0.5 : null,
    metadata: i % 2 ? { channel: 'web', tags: ['a', 'b'], depth: { n: i } } : null,
    environment: [null, 'staging', 'production'][i % 3]!,
    ...over,
  };
}

const DATA: Interaction[] = Array.from({ length: 40 }, (_, i) => record(i));

const TRACE_A = 'a'.repeat(32);
const TRACE_B = 'b'.repeat(32);

function span(spanId: string, parentSpanId: string | null, receivedAt: number, over: Partial<Span> = {}): Span {
  return {
    traceId: TRACE_A,
    spanId,
    parentSpanId,
    interactionId: null,
    name: `span ${spanId}`,
    kind: 'CLIENT',
    startTime: receivedAt - 1000.25,
    endTime: receivedAt - 500.5,
    statusCode: 'ERROR',
    statusMessage: 'it failed',
    attributes: { 'gen_ai.operation.name': 'chat', n: 3, list: [1, 'x', { deep: true }] },
    events: [{ name: 'exception', time: receivedAt - 600, attributes: { 'exception.type': 'E' } }],
    links: [{ traceId: TRACE_B, spanId: 'b1', attributes: {} }],
    resource: { 'service.name': 'svc' },
    receivedAt,
    ...over,
  };
}

/** Inserted in three batches, so roll-ups merge into existing rows. */
async function load(store: Store, data: readonly Interaction[] = DATA): Promise<void> {
  await store.insertInteractions(data.slice(0, 13));
  await store.insertInteractions(data.slice(13, 27));
  await store.insertInteractions(data.slice(27));
}

// ------------------------------------------------------------------ the reference

function matches(r: Interaction, f: InteractionFilter): boolean {
  if (f.from !== undefined && r.timestamp < f.from) return false;
  if (f.to !== undefined && r.timestamp >= f.to) return false;
  if (f.sessionId !== undefined && r.sessionId !== f.sessionId) return false;
  if (f.intent !== undefined && r.intent !== f.intent) return false;
  if (f.tool !== undefined && !r.toolsUsed.some((t) => t.tool === f.tool)) return false;
  if (f.success !== undefined && r.success !== f.success) return false;
  if (f.errorType !== undefined && r.errorType !== f.errorType) return false;
  if (f.assistant !== undefined && r.assistant !== f.assistant) return false;
  if (f.environment !== undefined && r.environment !== f.environment) return false;
  if (f.search && !r.userInput.toLowerCase().includes(f.search.toLowerCase())) return false;
  return true;
}

/** Newest first; equal timestamps: the later insert first. */
function expectedIds(f: InteractionFilter, data: readonly Interaction[] = DATA): string[] {
  return data
    .map((r, idx) => ({ r, idx }))
    .filter(({ r }) => matches(r, f))
    .sort((a, b) => b.r.timestamp - a.r.timestamp || b.idx - a.idx)
    .map(({ r }) => r.id);
}

async function allIds(store: Store, f: InteractionFilter, first: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const page = await store.listInteractions(f, { first, after });
    expect(page.items.length).toBeLessThanOrEqual(first);
    expect(page.cursors).toHaveLength(page.items.length);
    ids.push(...page.items.map((r) => r.id));
    if (!page.hasNextPage) return ids;
    after = page.endCursor;
  }
  throw new Error('pagination did not end');
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

function alert(i: number, over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id: `alert-${String(i).padStart(2, '0')}`,
    kind: (['high_error_rate', 'slow_response', 'consecutive_errors'] as const)[i % 3]!,
    status: i % 2 ? 'resolved' : 'open',
    message: `alert number ${i}`,
    value: 10 + i,
    threshold: 5,
    raisedAt: T0 + (i === 3 ? 2 : i) * MIN,
    resolvedAt: i % 2 ? T0 + i * MIN + 1000 : null,
    acknowledgedAt: i % 4 === 0 ? T0 + i * MIN + 500 : null,
    acknowledgedBy: i % 4 === 0 ? 'ops' : null,
    delivery: i % 2 ? [{ channel: 'webhook', ok: true, attempts: 1, at: T0 + i * MIN + 10, detail: '200' }] : [],
    details: { i, sample: ['x'] },
    ...over,
  };
}

// ------------------------------------------------------------------ the tests

for (const c of CASES) {
  describe.skipIf(c.skip)(`store conformance: ${c.name}`, () => {
    let h: Harness;
    let store: Store;

    beforeEach(async () => {
      h = await c.open();
      store = h.store;
      await store.migrate();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('reports its kind and answers ping', async () => {
      expect(store.kind).toBe(c.name);
      expect(await store.ping()).toBe(true);
    });

    it('stores each id once, including a duplicate inside one batch', async () => {
      const a = record(1);
      const b = record(2);
      expect(await store.insertInteractions([a, b, { ...a, userInput: 'second copy' }])).toEqual([true, true, false]);
      expect(await store.insertInteractions([record(3), a])).toEqual([true, false]);
      // The same id with another timestamp (another day) is still a duplicate.
      expect(await store.insertInteractions([{ ...b, timestamp: b.timestamp + 3 * DAY }])).toEqual([false]);
      expect(await store.insertInteractions([])).toEqual([]);
      expect((await store.getInteraction(a.id))?.userInput).toBe(a.userInput);
      const t = await store.totals({ from: T0 - DAY, to: T0 + 5 * DAY });
      expect(t.count).toBe(3);
      expect((await store.listInteractions({}, { first: 10 })).items).toHaveLength(3);
      expect((await store.getSession(a.sessionId))?.interactionCount).toBe(1);
    });

    it('round-trips every field of an interaction', async () => {
      const full = record(7, { userInput: 'Ünïcødé 🚀 "quotes" \\ back', metadata: { a: 1, b: [true, null, { c: 'd' }], e: 1.5 } });
      const bare = record(6, { toolsUsed: [] });
      await store.insertInteractions([full, bare]);
      expect(await store.getInteraction(full.id)).toEqual(full);
      expect(await store.getInteraction(bare.id)).toEqual(bare);
      expect(bare.assistant).toBeNull();
      expect(bare.metadata).toBeNull();
      expect(await store.getInteraction('no-such-id')).toBeNull();
    });

    it('lists newest first with every filter', async () => {
      await load(store);
      const filters: InteractionFilter[] = [
        {},
        { from: T0 + 10 * 37_000, to: T0 + 30 * 37_000 },
        { sessionId: 's2' },
        { intent: 'Book' },
        { tool: 'web' },
        { tool: 'db' },
        { tool: 'web_search' },
        { tool: 'we' },
        { success: false },
        { success: true, assistant: 'bot-a' },
        { errorType: 'Rate' },
        { environment: 'staging' },
        { environment: 'production', success: true },
        { environment: 'Staging' },
        { search: 'WEATHER' },
        { search: 'question 1' },
        { search: 'no match' },
        { intent: 'search', tool: 'web', success: true },
      ];
      for (const f of filters) {
        const page = await store.listInteractions(f, { first: 100 });
        expect(page.items.map((r) => r.id), JSON.stringify(f)).toEqual(expectedIds(f));
        expect(page.hasNextPage).toBe(false);
      }
      // Equal timestamps: the later insert comes first.
      const tie = (await store.listInteractions({ from: T0 + 20 * 37_000, to: T0 + 20 * 37_000 + 1 }, { first: 10 })).items.map((r) => r.id);
      expect(tie).toEqual(['rec-022', 'rec-021', 'rec-020']);
    });

    it('searches non-ASCII text case-insensitively', async () => {
      await store.insertInteractions([
        record(100, { id: 'uni-1', userInput: 'Crème BRÛLÉE recipe' }),
        record(101, { id: 'uni-2', userInput: 'ÉCOLE Straße' }),
      ]);
      const ids = async (search: string): Promise<string[]> => (await store.listInteractions({ search }, { first: 10 })).items.map((r) => r.id);
      expect(await ids('brûlée')).toEqual(['uni-1']);
      expect(await ids('école')).toEqual(['uni-2']);
      expect(await ids('STRASSE')).toEqual([]);
    });

    it('paginates with cursors', async () => {
      await load(store);
      for (const f of [{}, { success: true }, { sessionId: 's1' }] as InteractionFilter[]) {
        expect(await allIds(store, f, 4)).toEqual(expectedIds(f));
        expect(await allIds(store, f, 1)).toEqual(expectedIds(f));
      }
      const first = await store.listInteractions({}, { first: 40 });
      expect(first.hasNextPage).toBe(false);
      const partial = await store.listInteractions({}, { first: 39 });
      expect(partial.hasNextPage).toBe(true);
      expect(partial.endCursor).toBe(partial.cursors[38]);
      const empty = await store.listInteractions({ sessionId: 'nobody' }, { first: 5 });
      expect(empty).toEqual({ items: [], cursors: [], hasNextPage: false, endCursor: null });
      await expect(store.listInteractions({}, { first: 5, after: 'not a cursor' })).rejects.toBeInstanceOf(StoreError);
    });

    it('summarises sessions and lists them most recent first', async () => {
      await load(store);
      for (let s = 0; s < 5; s++) {
        const mine = DATA.filter((r) => r.sessionId === `s${s}`);
        expect(await store.getSession(`s${s}`)).toEqual({
          id: `s${s}`,
          firstSeen: Math.min(...mine.map((r) => r.timestamp)),
          lastSeen: Math.max(...mine.map((r) => r.timestamp)),
          interactionCount: mine.length,
          errorCount: mine.filter((r) => !r.success).length,
          totalResponseTimeMs: sum(mine.map((r) => r.responseTimeMs)),
        });
      }
      expect(await store.getSession('nobody')).toBeNull();
      // Two sessions sharing a last timestamp tie-break by id.
      await store.insertInteractions([record(100, { id: 'tie-b', sessionId: 'tb', timestamp: T0 + DAY }), record(101, { id: 'tie-a', sessionId: 'ta', timestamp: T0 + DAY })]);
      const order = (await store.listSessions({}, { first: 10 })).items.map((s) => s.id);
      const expected = ['ta', 'tb', ...['s0', 's1', 's2', 's3', 's4'].sort((a, b) => {
        const last = (id: string): number => Math.max(...DATA.filter((r) => r.sessionId === id).map((r) => r.timestamp));
        return last(b) - last(a) || (a < b ? -1 : 1);
      })];
      expect(order).toEqual(expected);
      const paged: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 20; i++) {
        const page = await store.listSessions({}, { first: 2, after });
        paged.push(...page.items.map((s) => s.id));
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      expect(paged).toEqual(expected);
      const ranged = (await store.listSessions({ from: T0 + DAY - 1, to: T0 + DAY + 1 }, { first: 10 })).items.map((s) => s.id);
      expect(ranged).toEqual(['ta', 'tb']);
      expect(await store.activeSessions(T0 + DAY)).toBe(2);
      expect(await store.activeSessions(T0)).toBe(7);
      expect(await store.activeSessions(T0 + 2 * DAY)).toBe(0);
    });

    it('computes totals, time series and breakdowns from roll-ups', async () => {
      await load(store);
      const range = { from: T0, to: T0 + 30 * MIN };
      const t = await store.totals(range);
      const ref = new Histogram();
      for (const r of DATA) ref.record(r.responseTimeMs);
      expect({ ...t, histogram: undefined }).toEqual({
        count: 40,
        errors: 10,
        responseTimeSum: sum(DATA.map((r) => r.responseTimeMs)),
        responseTimeMax: Math.max(...DATA.map((r) => r.responseTimeMs)),
        histogram: undefined,
        inputTokens: sum(DATA.map((r) => r.inputTokens ?? 0)),
        outputTokens: sum(DATA.map((r) => r.outputTokens ?? 0)),
        costUsd: sum(DATA.map((r) => r.costUsd ?? 0)),
        costed: DATA.filter((r) => r.costUsd !== null).length,
        unpriced: DATA.filter((r) => r.model !== null && r.costUsd === null).length,
      });
      expect([...t.histogram.counts]).toEqual([...ref.counts]);
      expect(t.histogram.quantile(0.95)).toBe(ref.quantile(0.95));

      // A range starting mid-minute includes that whole minute (roll-ups are per minute).
      const empty = await store.totals({ from: T0 - 60 * MIN, to: T0 - 30 * MIN });
      expect(empty.count).toBe(0);
      expect(empty.histogram.quantile(0.5)).toBeNull();

      const bucket = 5 * MIN;
      const series = await store.timeseries({ from: T0 - 2 * MIN, to: T0 + 30 * MIN }, bucket);
      const origin = Math.floor((T0 - 2 * MIN) / bucket) * bucket;
      const expected = new Map<number, number>();
      for (const r of DATA) {
        const minute = Math.floor(r.timestamp / MIN) * MIN;
        const start = origin + Math.floor((minute - origin) / bucket) * bucket;
        expected.set(start, (expected.get(start) ?? 0) + 1);
      }
      expect(series.map((b) => [b.start, b.count])).toEqual([...expected.entries()].sort((a, b) => a[0] - b[0]));
      expect(sum(series.map((b) => b.errors))).toBe(10);

      // Ties order by name in byte order: 'Book' < 'alpha' < 'cancel' < 'search'.
      expect(await store.intentBreakdown(range, 10)).toEqual(
        ['Book', 'alpha', 'cancel', 'search'].map((intent) => {
          const mine = DATA.filter((r) => r.intent === intent);
          return { intent, count: mine.length, errors: mine.filter((r) => !r.success).length, responseTimeSum: sum(mine.map((r) => r.responseTimeMs)) };
        }),
      );
      expect((await store.intentBreakdown(range, 2)).map((r) => r.intent)).toEqual(['Book', 'alpha']);
      const calls = DATA.flatMap((r) => r.toolsUsed);
      const toolRow = (tool: string) => {
        const mine = calls.filter((x) => x.tool === tool);
        return {
          tool,
          calls: mine.length,
          errors: mine.filter((x) => x.success === false || (x.success === null && x.error !== null)).length,
          durationSum: sum(mine.map((x) => x.durationMs ?? 0)),
          durationCount: mine.filter((x) => x.durationMs !== null).length,
        };
      };
      expect(await store.toolBreakdown(range, 10)).toEqual([toolRow('web'), toolRow('db'), toolRow('web_search')]);
      expect(await store.errorBreakdown(range, 10)).toEqual([
        { errorType: 'Rate', count: 5 },
        { errorType: 'timeout', count: 5 },
      ]);
      expect(await store.errorBreakdown({ from: T0 + DAY, to: T0 + 2 * DAY }, 10)).toEqual([]);
    });

    it('stores, updates, lists and counts alerts', async () => {
      const alerts = Array.from({ length: 9 }, (_, i) => alert(i));
      for (const a of alerts) await store.insertAlert(a);
      expect(await store.getAlert('alert-05')).toEqual(alerts[5]);
      expect(await store.getAlert('nope')).toBeNull();

      const newestFirst = [...alerts].sort((a, b) => b.raisedAt - a.raisedAt || (a.id < b.id ? 1 : -1)).map((a) => a.id);
      expect((await store.listAlerts({}, { first: 20 })).items.map((a) => a.id)).toEqual(newestFirst);
      const paged: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 20; i++) {
        const page = await store.listAlerts({}, { first: 2, after });
        paged.push(...page.items.map((a) => a.id));
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      expect(paged).toEqual(newestFirst);

      const pick = (f: (a: AlertRecord) => boolean): string[] => newestFirst.filter((id) => f(alerts.find((a) => a.id === id)!));
      const cases: [Parameters<Store['listAlerts']>[0], (a: AlertRecord) => boolean][] = [
        [{ status: 'open' }, (a) => a.status === 'open'],
        [{ kind: 'slow_response' }, (a) => a.kind === 'slow_response'],
        [{ acknowledged: true }, (a) => a.acknowledgedAt !== null],
        [{ acknowledged: false, status: 'open' }, (a) => a.acknowledgedAt === null && a.status === 'open'],
        [{ from: T0 + 3 * MIN, to: T0 + 7 * MIN }, (a) => a.raisedAt >= T0 + 3 * MIN && a.raisedAt < T0 + 7 * MIN],
      ];
      for (const [filter, f] of cases) {
        expect((await store.listAlerts(filter, { first: 20 })).items.map((a) => a.id), JSON.stringify(filter)).toEqual(pick(f));
        expect(await store.countAlerts(filter)).toBe(pick(f).length);
      }

      const updated = await store.updateAlert('alert-02', { status: 'resolved', resolvedAt: T0 + 99, delivery: [{ channel: 'email', ok: false, attempts: 3, at: T0, detail: 'refused' }] });
      expect(updated).toEqual({ ...alerts[2], status: 'resolved', resolvedAt: T0 + 99, delivery: [{ channel: 'email', ok: false, attempts: 3, at: T0, detail: 'refused' }] });
      expect(await store.getAlert('alert-02')).toEqual(updated);
      expect(await store.updateAlert('nope', { status: 'resolved' })).toBeNull();
      expect(await store.countAlerts({ status: 'open' })).toBe(pick((a) => a.status === 'open').length - 1);
    });

    it('deletes old data in chunks until nothing is left, keeping newer data', async () => {
      // Three days of data, cutoff in the middle of the third; old alerts too.
      const day0 = Math.floor(T0 / DAY) * DAY;
      const rows: Interaction[] = [];
      for (let d = 0; d < 3; d++) {
        for (let k = 0; k < 12; k++) rows.push(record(d * 100 + k, { id: `d${d}-${k}`, sessionId: `d${d}-s${k % 3}`, timestamp: day0 + d * DAY + k * 60 * MIN }));
      }
      await store.insertInteractions(rows);
      const cutoff = day0 + 2 * DAY + 6.5 * 60 * MIN; // keeps d2 rows 7..11 (and no roll-up of a deleted row)
      await store.insertAlert(alert(1, { id: 'old', raisedAt: cutoff - 1 }));
      await store.insertAlert(alert(2, { id: 'new', raisedAt: cutoff }));

      let calls = 0;
      let deleted = 0;
      for (;;) {
        const n = await store.deleteOlderThan(cutoff, 3);
        calls++;
        if (n === 0) break;
        deleted += n;
        expect(calls).toBeLessThan(500);
      }
      expect(calls).toBeGreaterThan(2); // really in chunks
      expect(deleted).toBeGreaterThanOrEqual(12 + 12 + 7);
      expect(await store.deleteOlderThan(cutoff, 3)).toBe(0);

      const left = await allIds(store, {}, 50);
      expect(left).toEqual(rows.filter((r) => r.timestamp >= cutoff).map((r) => r.id).reverse());
      expect(await store.getInteraction('d0-1')).toBeNull();
      expect(await store.getInteraction('d2-11')).not.toBeNull();
      expect((await store.totals({ from: day0 - DAY, to: day0 + 2 * DAY })).count).toBe(0);
      expect((await store.totals({ from: cutoff, to: day0 + 3 * DAY })).count).toBe(5);
      expect(await store.getSession('d0-s1')).toBeNull();
      expect(await store.getSession('d2-s1')).not.toBeNull();
      expect(await store.getAlert('old')).toBeNull();
      expect(await store.getAlert('new')).not.toBeNull();
      // A deleted id may be stored again (as on SQLite).
      expect(await store.insertInteractions([rows[0]!])).toEqual([true]);
    });

    it('upgrades a database of the previous version: every record kept, environment null on old rows, old rows searchable', async () => {
      const old = DATA.slice(0, 12).map((r, i) => ({ ...r, environment: null, userInput: i === 3 ? '查询北京明天的天气 please' : r.userInput }));
      await store.insertInteractions(old);
      await h.toVersion1();
      const upgraded = h.reopen();
      await upgraded.migrate();
      for (const r of old) expect(await upgraded.getInteraction(r.id)).toEqual(r);
      expect((await upgraded.listInteractions({}, { first: 100 })).items).toHaveLength(old.length);
      const fresh = record(30, { environment: 'staging' });
      expect(await upgraded.insertInteractions([fresh])).toEqual([true]);
      expect((await upgraded.listInteractions({ environment: 'staging' }, { first: 100 })).items.map((r) => r.id)).toEqual([fresh.id]);
      // The text index was built for the rows already stored.
      expect((await upgraded.listInteractions({ search: '北京明天' }, { first: 100 })).items.map((r) => r.id)).toEqual([old[3]!.id]);
      expect((await upgraded.listInteractions({ search: 'PLEASE' }, { first: 100 })).items.map((r) => r.id)).toEqual([old[3]!.id]);
    });

    it('search finds substrings, Chinese text and 1–2 character words, with other filters, in step with deletes', async () => {
      const t = Date.UTC(2026, 0, 5);
      await store.insertInteractions([
        record(200, { id: 'zh-1', timestamp: t, userInput: '帮我查询北京明天的天气', intent: 'weather' }),
        record(201, { id: 'zh-2', timestamp: t + 1, userInput: '北京到上海的高铁票', intent: 'travel', success: false }),
        record(202, { id: 'en-1', timestamp: t + 2, userInput: 'Reset my PASSWORD please (100% urgent_now)', intent: 'account' }),
        record(203, { id: 'en-2', timestamp: t + 3, userInput: 'password manager recommendations', intent: 'account' }),
        record(204, { id: 'old', timestamp: t - 10 * 86_400_000, userInput: '北京 old password', intent: 'account' }),
      ]);
      const ids = async (f: InteractionFilter): Promise<string[]> => (await store.listInteractions(f, { first: 10 })).items.map((r) => r.id);
      // Found before the text index has taken the new rows (SQLite indexes them shortly after commit) and after.
      expect(await ids({ search: 'sswor' })).toEqual(['en-2', 'en-1', 'old']);
      expect(await ids({ search: '查询北京' })).toEqual(['zh-1']);
      if (store instanceof SqliteStore) {
        store.flushTextIndex();
        const mark = store.db.prepare('SELECT (SELECT upto FROM interactions_fts_state) AS upto, (SELECT max(seq) FROM interactions) AS top').get() as { upto: number; top: number };
        expect(mark.upto).toBe(mark.top);
      }
      expect(await ids({ search: 'sswor' })).toEqual(['en-2', 'en-1', 'old']);
      expect(await ids({ search: 'PASSWORD p' })).toEqual(['en-1']);
      expect(await ids({ search: '查询北京' })).toEqual(['zh-1']);
      expect(await ids({ search: '北京' })).toEqual(['zh-2', 'zh-1', 'old']);
      expect(await ids({ search: '铁' })).toEqual(['zh-2']);
      expect(await ids({ search: 'ab' })).toEqual([]);
      // LIKE and FTS syntax in the text is plain text.
      expect(await ids({ search: '100%' })).toEqual(['en-1']);
      expect(await ids({ search: 'urgent_now' })).toEqual(['en-1']);
      expect(await ids({ search: '% u' })).toEqual(['en-1']);
      expect(await ids({ search: '"pass' })).toEqual([]);
      expect(await ids({ search: 'pass OR' })).toEqual([]);
      expect(await ids({ search: 'password', intent: 'account', from: t })).toEqual(['en-2', 'en-1']);
      expect(await ids({ search: '北京', success: false })).toEqual(['zh-2']);
      // Retention removes rows from the index too; a new row with the same text is found.
      while ((await store.deleteOlderThan(t - 86_400_000, 100)) > 0);
      expect(await ids({ search: 'old pass' })).toEqual([]);
      await store.insertInteractions([record(205, { id: 'old-again', timestamp: t + 4, userInput: 'old password again' })]);
      expect(await ids({ search: 'old pass' })).toEqual(['old-again']);
      if (store instanceof SqliteStore) {
        store.flushTextIndex();
        expect(await ids({ search: 'old pass' })).toEqual(['old-again']);
        // Deleting the newest rows lets SQLite hand out their rowids again: such a row is indexed at once.
        store.db.exec("DELETE FROM interactions WHERE id = 'old-again'");
        await store.insertInteractions([record(206, { id: 'reused', timestamp: t + 5, userInput: 'reused rowid text' })]);
        expect(await ids({ search: 'used rowid' })).toEqual(['reused']);
        expect(Number((store.db.prepare(`SELECT count(*) AS n FROM interactions_fts WHERE interactions_fts MATCH '"d r" AND "row"'`).get() as { n: number }).n)).toBe(1);
      }
    });

    it('stores spans once per (trace, span), links them, finds waiting traces and deletes old ones', async () => {
      const spans = [span('a1', null, T0), span('a2', 'a1', T0 + 5, { name: 'nul\u0000name' }), span('b1', null, T0 + DAY, { traceId: TRACE_B })];
      expect(await store.insertSpans(spans)).toEqual([true, true, true]);
      expect(await store.insertSpans([spans[1]!, spans[1]!, span('a3', 'a1', T0 + 9)])).toEqual([false, false, true]);
      const a = await store.traceSpans(TRACE_A);
      expect(a.map((x) => x.spanId)).toEqual(['a1', 'a2', 'a3']);
      expect(a[0]).toEqual(spans[0]);
      expect(await store.waitingTraces(T0 + DAY + 1, 10)).toEqual([TRACE_A, TRACE_B]);
      expect(await store.waitingTraces(T0 + 100, 10)).toEqual([TRACE_A]);
      expect(await store.waitingTraces(T0 - 1, 10)).toEqual([]);
      await store.linkSpans([{ traceId: TRACE_A, interactionId: 'otel-a' }]);
      expect((await store.spansOfTraces([TRACE_A, TRACE_B, 'c'.repeat(32)])).map((x) => x.spanId).sort()).toEqual(['a1', 'a2', 'a3', 'b1']);
      expect((await store.interactionSpans('otel-a')).map((x) => x.spanId)).toEqual(['a1', 'a2', 'a3']);
      expect(await store.waitingTraces(T0 + DAY + 1, 10)).toEqual([TRACE_B]);
      while ((await store.deleteOlderThan(T0 + DAY - 2000, 1000)) > 0);
      expect(await store.traceSpans(TRACE_A)).toEqual([]);
      expect(await store.traceSpans(TRACE_B)).toHaveLength(1);
    });

    it('amends an interaction with late tool calls and tokens without counting it again', async () => {
      const r = record(1, { toolsUsed: [], inputTokens: 10, outputTokens: null, costUsd: null, model: null });
      await store.insertInteractions([r]);
      const range = { from: T0 - DAY, to: T0 + DAY };
      const before = await store.totals(range);
      const tool = { tool: 'late_tool', params: { q: 1 }, durationMs: 12, success: false, error: 'boom' };
      expect(await store.amendInteraction(r.id, { toolsUsed: [tool], inputTokens: 5, outputTokens: 7, costUsd: 0.5, model: 'm-late' })).toBe(true);
      expect(await store.amendInteraction('missing', { toolsUsed: [], inputTokens: 1, outputTokens: 0, costUsd: 0, model: null })).toBe(false);
      expect(await store.getInteraction(r.id)).toEqual({ ...r, toolsUsed: [tool], inputTokens: 15, outputTokens: 7, costUsd: 0.5, model: 'm-late' });
      const after = await store.totals(range);
      expect(after.count).toBe(before.count);
      expect(after.histogram.total()).toBe(before.histogram.total());
      expect(after.inputTokens - before.inputTokens).toBe(5);
      expect(after.outputTokens - before.outputTokens).toBe(7);
      expect(await store.toolBreakdown(range, 10)).toContainEqual({ tool: 'late_tool', calls: 1, errors: 1, durationSum: 12, durationCount: 1 });
      expect((await store.listInteractions({ tool: 'late_tool' }, { first: 10 })).items.map((x) => x.id)).toEqual([r.id]);
    });

    it('migrates twice without change and refuses a newer schema', async () => {
      await store.insertInteractions([record(1)]);
      await store.migrate();
      expect((await store.getInteraction('rec-001'))?.intent).toBe('Book');
      await h.bumpVersion();
      await expect(store.migrate()).rejects.toThrow(/newer than this ai-monitor supports/);
      const other = h.reopen();
      await expect(other.migrate()).rejects.toBeInstanceOf(StoreError);
    });

    it('closes cleanly; ping is false after close', async () => {
      await store.close();
      expect(await store.ping()).toBe(false);
      await store.close();
    });
  });
}

// ------------------------------------------------------------------ PostgreSQL only

describe.skipIf(pgError !== null)('PostgresStore specifics', () => {
  const schemas: string[] = [];
  const stores: PostgresStore[] = [];
  const open = (schema: string): PostgresStore => {
    const s = new PostgresStore({ url: PG_URL, schema, poolSize: 4 });
    stores.push(s);
    return s;
  };
  afterEach(async () => {
    while (stores.length) await stores.pop()!.close();
    while (schemas.length) await dropSchema(schemas.pop()!);
  });
  const fresh = (): string => {
    const s = randomName('aim_pg');
    schemas.push(s);
    return s;
  };

  it('ping is false when PostgreSQL is unreachable', async () => {
    const store = new PostgresStore({ url: 'postgres://postgres@127.0.0.1:1/test', schema: 'x', connectTimeoutMs: 2000 });
    stores.push(store);
    expect(await store.ping()).toBe(false);
    await expect(store.migrate()).rejects.toThrow();
  });

  it('keeps every table inside the configured schema and records the version', async () => {
    const schema = fresh();
    const store = open(schema);
    await store.migrate();
    await store.migrate();
    await store.insertInteractions([record(1)]);
    const tables = await pgQuery<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['ai_monitor_schema_version', 'interactions', 'interaction_ids', 'sessions', 'rollup_minute', 'alerts', 'settings']));
    const day = Math.floor(T0 / DAY);
    const tomorrow = Math.floor(Date.now() / DAY) + 1;
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining([`interactions_d${day}`, `interactions_d${tomorrow}`]));
    // Every migration ran once, in order, up to this build's latest version.
    expect(POSTGRES_SCHEMA_VERSION).toBeGreaterThan(1);
    expect(await store.schemaVersion()).toBe(POSTGRES_SCHEMA_VERSION);
    const versions = await pgQuery<{ version: number }>(`SELECT version FROM "${schema}".ai_monitor_schema_version ORDER BY 1`);
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('replicas writing concurrently to one schema store each id once and merge roll-ups', async () => {
    const schema = fresh();
    const a = open(schema);
    const b = open(schema);
    await Promise.all([a.migrate(), b.migrate()]);
    const rows = Array.from({ length: 400 }, (_, i) => record(i, { id: `c-${i}`, sessionId: `cs${i % 7}`, timestamp: T0 + (i % 50) * 1000 }));
    // Only b sends these, so both replicas surely own roll-up rows.
    const extras = Array.from({ length: 8 }, (_, i) => record(i, { id: `x-${i}`, sessionId: 'cs0', timestamp: T0 + 1000 * i }));
    // Overlapping batches: every shared id is sent by both replicas, in different orders and groupings.
    const jobs: Promise<boolean[]>[] = [];
    for (let k = 0; k < 400; k += 50) {
      jobs.push(a.insertInteractions(rows.slice(k, k + 50)));
      jobs.push(b.insertInteractions([extras[k / 50]!, ...rows.slice(k, k + 80)].reverse()));
    }
    const perJob = await Promise.all(jobs);
    const results = perJob.flat();
    expect(results.filter(Boolean).length).toBe(408);
    // Jobs alternate a, b: which replicas stored something (b surely: the extras).
    const storedBy = (which: number) => perJob.some((r, j) => j % 2 === which && r.some(Boolean));
    const t = await a.totals({ from: T0 - MIN, to: T0 + 10 * MIN });
    expect(t.count).toBe(408);
    const ref = new Histogram();
    for (const r of [...rows, ...extras]) ref.record(r.responseTimeMs);
    expect([...t.histogram.counts]).toEqual([...ref.counts]);
    const sessions = await b.listSessions({}, { first: 10 });
    expect(sum(sessions.items.map((s) => s.interactionCount))).toBe(408);
    expect((await a.intentBreakdown({ from: T0 - MIN, to: T0 + 10 * MIN }, 10)).map((r) => r.count)).toEqual([102, 102, 102, 102]);
    const writers = await pgQuery<{ n: string }>(`SELECT count(DISTINCT writer) AS n FROM "${schema}".rollup_minute`);
    expect(Number(writers[0]!.n)).toBe((storedBy(0) ? 1 : 0) + (storedBy(1) ? 1 : 0));
  });

  it('retention drops whole day partitions', async () => {
    const schema = fresh();
    const store = open(schema);
    await store.migrate();
    const day0 = Math.floor(T0 / DAY) * DAY;
    await store.insertInteractions(Array.from({ length: 5 }, (_, d) => record(d, { id: `p${d}`, timestamp: day0 + d * DAY + 1000 })));
    const replica = open(schema);
    expect(await replica.insertInteractions([record(8, { id: 'b0', timestamp: day0 + 2000 })])).toEqual([true]);
    // Partitions of the five test days (tomorrow's, made ahead of time, is not one of them).
    const partitions = async (): Promise<number> =>
      (await pgQuery<{ relname: string }>(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass`, [`"${schema}".interactions`]))
        .map((r) => Number(r.relname.replace('interactions_d', '')))
        .filter((d) => d >= day0 / DAY && d < day0 / DAY + 5).length;
    expect(await partitions()).toBe(5);
    for (let i = 0; i < 50 && (await store.deleteOlderThan(day0 + 3 * DAY, 1000)) > 0; i++);
    expect(await partitions()).toBe(2);
    expect((await store.listInteractions({}, { first: 10 })).items.map((r) => r.id)).toEqual(['p4', 'p3']);
    // The other replica still believes the dropped partition exists: it recreates it.
    expect(await replica.insertInteractions([record(9, { id: 'late', timestamp: day0 + 1000 })])).toEqual([true]);
    expect(await partitions()).toBe(3);
  });

  it('retention runs on one replica at a time', async () => {
    const schema = fresh();
    const store = open(schema);
    await store.migrate();
    await store.insertInteractions([record(1, { id: 'old', timestamp: T0 - 10 * DAY })]);
    const holder = new pg.Client({ connectionString: PG_URL });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtext($1))', [`ai-monitor:${schema}:retention`]);
      expect(await store.deleteOlderThan(T0, 100)).toBe(0);
      expect(await store.getInteraction('old')).not.toBeNull();
      await holder.query('SELECT pg_advisory_unlock(hashtext($1))', [`ai-monitor:${schema}:retention`]);
      expect(await store.deleteOlderThan(T0, 100)).toBeGreaterThan(0);
      expect(await store.getInteraction('old')).toBeNull();
    } finally {
      await holder.end();
    }
  });

  it('a NUL character or a cut surrogate pair does not fail its batch', async () => {
    const store = open(fresh());
    await store.migrate();
    const r = record(1, { id: 'nul', userInput: 'a\u0000b', intent: 'x\u0000', metadata: { k: 'v\u0000' } });
    const cut = record(3, { id: 'cut', userInput: 'emoji \uD83D', toolsUsed: [{ tool: 't\uDE80', params: { p: '\uD83D' }, durationMs: null, success: null, error: null }] });
    // Keys that differ only before cleaning become one key (no "row affected twice" failure).
    const twin = record(4, { id: 'twin', sessionId: `${r.sessionId}`, intent: 'x\uFFFD' });
    expect(await store.insertInteractions([r, record(2), cut, twin])).toEqual([true, true, true, true]);
    expect((await store.intentBreakdown({ from: T0 - DAY, to: T0 + DAY }, 10)).find((x) => x.intent === 'x\uFFFD')?.count).toBe(2);
    expect((await store.getInteraction('nul'))?.userInput).toBe('a\uFFFDb');
    expect((await store.getInteraction('nul'))?.metadata).toEqual({ k: 'v\u0000' });
    expect((await store.getInteraction('cut'))?.userInput).toBe('emoji \uFFFD');
    expect((await store.listInteractions({ tool: 't\uFFFD' }, { first: 5 })).items.map((x) => x.id)).toEqual(['cut']);
  });
});

// ------------------------------------------------------------------ SQLite and PostgreSQL side by side

describe.skipIf(pgError !== null)('SQLite and PostgreSQL give the same answers', () => {
  let sqlite: Harness;
  let postgres: Harness;
  beforeEach(async () => {
    sqlite = await CASES[0]!.open();
    postgres = await CASES[1]!.open();
    await sqlite.store.migrate();
    await postgres.store.migrate();
    await load(sqlite.store);
    await load(postgres.store);
  });
  afterEach(async () => {
    await sqlite.cleanup();
    await postgres.cleanup();
  });

  const both = async <T>(fn: (s: Store) => Promise<T>): Promise<[T, T]> => [await fn(sqlite.store), await fn(postgres.store)];
  const plain = (t: { histogram: Histogram }) => ({ ...t, histogram: [...t.histogram.counts] });

  it('same pages, cursors, sessions, metrics and breakdowns', async () => {
    for (const f of [{}, { tool: 'web', success: false }, { search: 'weather', sessionId: 's3' }] as InteractionFilter[]) {
      const [a, b] = await both((s) => s.listInteractions(f, { first: 7 }));
      expect(b).toEqual(a);
      const [a2, b2] = await both((s) => s.listInteractions(f, { first: 7, after: a.endCursor }));
      expect(b2).toEqual(a2);
    }
    const [sa, sb] = await both((s) => s.listSessions({}, { first: 3 }));
    expect(sb).toEqual(sa);
    const range = { from: T0 - 90_000, to: T0 + 20 * MIN };
    const [ta, tb] = await both((s) => s.totals(range));
    expect(plain(tb)).toEqual(plain(ta));
    const [ya, yb] = await both((s) => s.timeseries(range, 3 * MIN));
    expect(yb.map(plain)).toEqual(ya.map(plain));
    for (const limit of [1, 3, 10]) {
      const [na, nb] = await both((s) => s.intentBreakdown(range, limit));
      expect(nb).toEqual(na);
      const [ia, ib] = await both((s) => s.toolBreakdown(range, limit));
      expect(ib).toEqual(ia);
      const [ea, eb] = await both((s) => s.errorBreakdown(range, limit));
      expect(eb).toEqual(ea);
    }
    const [aa, ab] = await both((s) => s.activeSessions(T0 + 10 * MIN));
    expect(ab).toBe(aa);
  });
});
