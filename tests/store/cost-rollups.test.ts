/**
 * The cost roll-ups of both stores (the compiled classes): per-minute tokens, cost, costed and
 * unpriced counts and the per-model roll-up equal the sums of the raw rows for seeded random
 * data inserted in random batches; an upgrade from schema v3 fills them from the stored rows;
 * retention trims the per-model roll-up with the rest.
 */
import { postgresBackTo, sqliteBackTo } from '../helpers/downgrade.js';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../apps/api/dist/store/sqlite.js';
import { PostgresStore } from '../../apps/api/dist/store/postgres.js';
import type { Store } from '../../apps/api/dist/store/types.js';
import type { Interaction } from '../../apps/api/dist/model/interaction.js';
import { PG_URL, dropSchema, noteSkip, probePostgres, randomName } from '../helpers/services.js';
import { storedInteraction } from '../helpers/records.js';

const pgError = await probePostgres();
noteSkip('cost roll-ups: postgres', 'PostgreSQL', pgError);

interface Harness {
  store: Store;
  /** Turns the schema back into v3's (no cost roll-ups), keeping the interactions and the other roll-ups. */
  toVersion3(): Promise<void>;
  reopen(): Store;
  cleanup(): Promise<void>;
}

const CASES: { name: string; skip: boolean; open(): Harness }[] = [
  {
    name: 'sqlite',
    skip: false,
    open() {
      const dir = mkdtempSync(join(tmpdir(), 'ai-monitor-cost-'));
      const file = join(dir, 'test.db');
      const opened: Store[] = [];
      const open = (): SqliteStore => {
        const s = new SqliteStore({ file });
        opened.push(s);
        return s;
      };
      const store = open();
      return {
        store,
        async toVersion3() {
          sqliteBackTo(store.db, 3);
        },
        reopen: open,
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
    open() {
      const schema = randomName('aim_costr');
      const opened: Store[] = [];
      const open = (): PostgresStore => {
        const s = new PostgresStore({ url: PG_URL, schema, poolSize: 3 });
        opened.push(s);
        return s;
      };
      const store = open();
      return {
        store,
        async toVersion3() {
          await postgresBackTo(schema, 3);
        },
        reopen: open,
        async cleanup() {
          for (const s of opened) await s.close();
          await dropSchema(schema);
        },
      };
    },
  },
];

const T0 = Date.UTC(2026, 2, 3, 10, 0, 0);
const MIN = 60_000;
const RANGE = { from: T0 - 10 * MIN, to: T0 + 60 * MIN };
const MODELS = [null, 'gpt-4o', 'qwen-max', 'my-local-llama', 'Ünïcode-模型'] as const;

const recordArb = fc.record({
  minute: fc.integer({ min: 0, max: 9 }),
  second: fc.integer({ min: 0, max: 59 }),
  model: fc.constantFrom(...MODELS),
  inputTokens: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
  outputTokens: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
  costUsd: fc.option(fc.double({ min: 0, max: 5, noNaN: true }), { nil: null }),
  success: fc.boolean(),
  responseTimeMs: fc.integer({ min: 1, max: 20_000 }),
});

function toRecords(specs: fc.RecordValue<typeof recordArb extends fc.Arbitrary<infer T> ? T : never>[], prefix: string): Interaction[] {
  return specs.map((s, i) =>
    storedInteraction({
      id: `${prefix}-${i}`,
      timestamp: T0 + s.minute * MIN + s.second * 1000,
      model: s.model,
      inputTokens: s.inputTokens,
      outputTokens: s.outputTokens,
      costUsd: s.costUsd,
      success: s.success,
      errorType: s.success ? null : 'boom',
      responseTimeMs: s.responseTimeMs,
    }),
  );
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** The roll-ups' answers against sums over the raw records. */
async function expectRollupsMatch(store: Store, data: readonly Interaction[], withPercentiles: boolean): Promise<void> {
  const totals = await store.totals(RANGE);
  expect(totals.count).toBe(data.length);
  expect(totals.inputTokens).toBe(sum(data.map((r) => r.inputTokens ?? 0)));
  expect(totals.outputTokens).toBe(sum(data.map((r) => r.outputTokens ?? 0)));
  expect(totals.costUsd).toBeCloseTo(sum(data.map((r) => r.costUsd ?? 0)), 6);
  expect(totals.costed).toBe(data.filter((r) => r.costUsd !== null).length);
  expect(totals.unpriced).toBe(data.filter((r) => r.model !== null && r.costUsd === null).length);
  const rows = await store.modelBreakdown(RANGE, 100);
  const models = [...new Set(data.map((r) => r.model).filter((m): m is string => m !== null))];
  expect(rows.map((r) => r.model).sort()).toEqual(models.sort());
  for (const row of rows) {
    const list = data.filter((r) => r.model === row.model);
    expect(row.count).toBe(list.length);
    expect(row.errors).toBe(list.filter((r) => !r.success).length);
    expect(row.responseTimeSum).toBeCloseTo(sum(list.map((r) => r.responseTimeMs)), 6);
    expect(row.inputTokens).toBe(sum(list.map((r) => r.inputTokens ?? 0)));
    expect(row.outputTokens).toBe(sum(list.map((r) => r.outputTokens ?? 0)));
    expect(row.costUsd).toBeCloseTo(sum(list.map((r) => r.costUsd ?? 0)), 6);
    expect(row.costed).toBe(list.filter((r) => r.costUsd !== null).length);
    expect(row.unpriced).toBe(list.filter((r) => r.costUsd === null).length);
    expect(row.histogram.total()).toBe(withPercentiles ? list.length : 0);
  }
  // Ordered by interactions, most first.
  for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.count).toBeGreaterThanOrEqual(rows[i]!.count);
  const unpriced = await store.unpricedModels(RANGE, 100);
  expect(Object.fromEntries(unpriced.map((u) => [u.model, u.interactions]))).toEqual(
    Object.fromEntries(rows.filter((r) => r.unpriced > 0).map((r) => [r.model, r.unpriced])),
  );
}

for (const c of CASES) {
  describe.skipIf(c.skip)(`cost roll-ups: ${c.name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.cleanup();
      h = undefined;
    });

    it('equal the raw sums for random records in random batches (seeded)', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 6 }), async (specs, cuts) => {
          h = c.open();
          try {
            await h.store.migrate();
            const data = toRecords(specs, `r${run++}`);
            for (let i = 0, k = 0; i < data.length; k++) {
              const n = cuts[k % cuts.length]!;
              await h.store.insertInteractions(data.slice(i, i + n));
              i += n;
            }
            // A repeated batch stores nothing and adds nothing.
            await h.store.insertInteractions(data.slice(0, 5));
            await expectRollupsMatch(h.store, data, true);
          } finally {
            await h.cleanup();
            h = undefined;
          }
        }),
        { seed: 2026, numRuns: c.name === 'sqlite' ? 25 : 8 },
      );
    });

    it('an upgrade from v3 fills the cost roll-ups from the stored interactions; new records add to them', async () => {
      h = c.open();
      await h.store.migrate();
      const old = toRecords(fc.sample(recordArb, { seed: 9, numRuns: 50 }), 'old');
      await h.store.insertInteractions(old);
      await h.toVersion3();
      const upgraded = h.reopen();
      await upgraded.migrate();
      await expectRollupsMatch(upgraded, old, false);
      const fresh = toRecords(fc.sample(recordArb, { seed: 10, numRuns: 20 }), 'new');
      await upgraded.insertInteractions(fresh);
      const all = [...old, ...fresh];
      const totals = await upgraded.totals(RANGE);
      expect(totals.costed).toBe(all.filter((r) => r.costUsd !== null).length);
      expect(totals.unpriced).toBe(all.filter((r) => r.model !== null && r.costUsd === null).length);
      const rows = await upgraded.modelBreakdown(RANGE, 100);
      expect(sum(rows.map((r) => r.count))).toBe(all.filter((r) => r.model !== null).length);
    });

    it('retention removes per-model roll-ups older than the cutoff', async () => {
      h = c.open();
      await h.store.migrate();
      const data = [
        storedInteraction({ id: 'a', timestamp: T0, model: 'old-model', inputTokens: 1 }),
        storedInteraction({ id: 'b', timestamp: T0 + 5 * MIN, model: 'new-model', costUsd: 0.25 }),
      ];
      await h.store.insertInteractions(data);
      for (let i = 0; i < 20 && (await h.store.deleteOlderThan(T0 + 2 * MIN, 100)) > 0; i++);
      const rows = await h.store.modelBreakdown(RANGE, 10);
      expect(rows.map((r) => r.model)).toEqual(['new-model']);
      expect(await h.store.unpricedModels(RANGE, 10)).toEqual([]);
    });
  });
}
