/**
 * The interaction filter is defined once (store/core/filter.ts) and runs three ways: as SQL on
 * SQLite, as SQL on PostgreSQL and in memory for the live feed. Generated records and filters
 * (fast-check, seeded, bounded) must select the same interactions, in the same order, all three
 * ways, and paging through them with cursors must give the same list.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SqliteStore } from '../../apps/api/dist/store/sqlite.js';
import { PostgresStore } from '../../apps/api/dist/store/postgres.js';
import { interactionMatcher } from '../../apps/api/dist/store/core/filter.js';
import type { Store } from '../../apps/api/dist/store/types.js';
import type { Interaction, InteractionFilter, ToolUse } from '../../apps/api/dist/model/interaction.js';
import { PG_URL, dropSchema, noteSkip, pgQuery, probePostgres, randomName } from '../helpers/services.js';

const pgError = await probePostgres();
noteSkip('filter property: postgres', 'PostgreSQL', pgError);

const SEED = 0x5eed_0012;
const RUNS = 30;
const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
/** Few distinct values, so equality filters hit often; some filter values match nothing. */
const TIMES = [0, 1, 1, 2, 61, 3_600].map((s) => T0 + s * 1000);
const SESSIONS = ['s1', 's2', 's3'];
const INTENTS = ['search', 'Book', 'alpha'];
const TOOLS = ['web', 'db', 'web_search'];
const ERRORS = ['timeout', 'Rate'];
const ASSISTANTS = ['bot-a', 'bot-b'];
/** Letters whose case folding JavaScript and both databases agree on, and Chinese (no case). */
const LETTERS = ['a', 'A', 'b', 'é', 'É', 'x', ' ', '北', '京', '%', '"'];

const text = (maxLength: number): fc.Arbitrary<string> => fc.array(fc.constantFrom(...LETTERS), { maxLength }).map((a) => a.join(''));

const toolArb: fc.Arbitrary<ToolUse> = fc.record({
  tool: fc.constantFrom(...TOOLS),
  params: fc.constant({}),
  durationMs: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
  success: fc.option(fc.boolean(), { nil: null }),
  error: fc.constant(null),
});

const recordArb = fc.record({
  sessionId: fc.constantFrom(...SESSIONS),
  timestamp: fc.constantFrom(...TIMES),
  userInput: text(8),
  intent: fc.constantFrom(...INTENTS),
  toolsUsed: fc.array(toolArb, { maxLength: 3 }),
  responseTimeMs: fc.integer({ min: 0, max: 5_000 }),
  success: fc.boolean(),
  errorType: fc.option(fc.constantFrom(...ERRORS), { nil: null }),
  assistant: fc.option(fc.constantFrom(...ASSISTANTS), { nil: null }),
  environment: fc.option(fc.constantFrom('staging', 'production', 'Staging'), { nil: null }),
});

/** Up to three fields set, so most filters select something. */
const filterArb: fc.Arbitrary<InteractionFilter> = fc
  .record({
    from: fc.constantFrom(...TIMES, T0 - 1, T0 + 500),
    to: fc.constantFrom(...TIMES, T0 + 10_000_000),
    sessionId: fc.constantFrom(...SESSIONS, 'none'),
    intent: fc.constantFrom(...INTENTS, 'search '),
    tool: fc.constantFrom(...TOOLS, 'we'),
    success: fc.boolean(),
    errorType: fc.constantFrom(...ERRORS, 'unknown'),
    assistant: fc.constantFrom(...ASSISTANTS),
    environment: fc.constantFrom('staging', 'production', 'Staging', 'dev'),
    // 1–2 characters take the bounded scan, 3 or more the trigram index.
    search: text(4),
  })
  .chain((full) =>
    fc
      .subarray(Object.keys(full) as (keyof InteractionFilter)[], { maxLength: 3 })
      .map((keys) => Object.fromEntries(keys.map((k) => [k, full[k]])) as InteractionFilter),
  );

function toInteractions(drafts: readonly fc.RecordValue<typeof recordArb>[]): Interaction[] {
  return drafts.map((d, i) => ({
    ...d,
    id: `p-${i}`,
    receivedAt: d.timestamp + 5,
    version: null,
    model: null,
    userId: null,
    inputTokens: null,
    outputTokens: null,
    costUsd: null,
    feedbackScore: null,
    metadata: null,
  }));
}

/** What the live feed would deliver, in the explorer's order: newest first, later inserts first on ties. */
function expected(records: readonly Interaction[], filter: InteractionFilter): string[] {
  const matches = interactionMatcher(filter);
  return records
    .map((r, seq) => ({ r, seq }))
    .filter(({ r }) => matches(r))
    .sort((a, b) => b.r.timestamp - a.r.timestamp || b.seq - a.seq)
    .map(({ r }) => r.id);
}

async function listed(store: Store, filter: InteractionFilter, first: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await store.listInteractions(filter, { first, after });
    ids.push(...page.items.map((r) => r.id));
    if (!page.hasNextPage) return ids;
    after = page.endCursor;
  }
  throw new Error('more pages than records');
}

interface Target {
  name: string;
  skip: boolean;
  /** A store holding exactly `records`, inserted in two batches. */
  load(records: readonly Interaction[]): Promise<Store>;
  cleanup(): Promise<void>;
}

const schema = randomName('aim_filter');
let pgStore: PostgresStore | null = null;

const TARGETS: Target[] = [
  {
    name: 'sqlite',
    skip: false,
    async load(records) {
      const store = new SqliteStore({ file: ':memory:' });
      await store.migrate();
      await insert(store, records);
      return store;
    },
    async cleanup() {},
  },
  {
    name: 'postgres',
    skip: pgError !== null,
    async load(records) {
      if (!pgStore) {
        pgStore = new PostgresStore({ url: PG_URL, schema, poolSize: 2 });
        await pgStore.migrate();
      }
      await pgQuery(`TRUNCATE "${schema}".interactions, "${schema}".interaction_ids, "${schema}".sessions,
        "${schema}".rollup_minute, "${schema}".rollup_intent, "${schema}".rollup_tool, "${schema}".rollup_error`);
      await insert(pgStore, records);
      return pgStore;
    },
    async cleanup() {
      if (pgStore) await pgStore.close();
      await dropSchema(schema);
    },
  },
];

async function insert(store: Store, records: readonly Interaction[]): Promise<void> {
  const half = Math.ceil(records.length / 2);
  await store.insertInteractions(records.slice(0, half));
  await store.insertInteractions(records.slice(half));
}

describe('the interaction filter agrees in SQL and in memory', () => {
  afterAll(async () => {
    for (const t of TARGETS) if (!t.skip) await t.cleanup();
  });

  for (const target of TARGETS) {
    it.skipIf(target.skip)(
      `${target.name}: generated filters select what the in-memory matcher selects, in order, across pages`,
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 16 }), fc.array(filterArb, { minLength: 1, maxLength: 5 }), async (drafts, filters) => {
            const records = toInteractions(drafts);
            const store = await target.load(records);
            try {
              for (const filter of filters) {
                const want = expected(records, filter);
                expect(await listed(store, filter, 500), JSON.stringify(filter)).toEqual(want);
                expect(await listed(store, filter, 3), JSON.stringify(filter)).toEqual(want);
                const live = store.matcher(filter);
                expect(records.filter((r) => live(r)).map((r) => r.id).sort()).toEqual([...want].sort());
              }
            } finally {
              if (target.name === 'sqlite') await store.close();
            }
          }),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        );
      },
      120_000,
    );
  }
});
