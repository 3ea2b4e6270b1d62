/**
 * The release roll-ups on both stores: per-release sums per dimension, the session moments of
 * the cluster-robust variance (exact across batches and replicas), release listing, time
 * series and retention, each checked against a plain-JavaScript reference over the same records.
 */
import { postgresBackTo, sqliteBackTo } from '../helpers/downgrade.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../apps/api/dist/store/sqlite.js';
import { PostgresStore } from '../../apps/api/dist/store/postgres.js';
import type { Store } from '../../apps/api/dist/store/types.js';
import type { Interaction } from '../../apps/api/dist/model/interaction.js';
import { storedInteraction } from '../helpers/records.js';
import { PG_URL, dropSchema, noteSkip, probePostgres, randomName } from '../helpers/services.js';

const pgError = await probePostgres();
noteSkip('release roll-ups: postgres', 'PostgreSQL', pgError);

const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 3, 22, 30, 0);

/** 600 records: two releases of bot-a, one of an unnamed assistant, some without version. */
function dataset(): Interaction[] {
  return Array.from({ length: 600 }, (_, i) => {
    const version = i % 10 === 9 ? null : i % 3 === 0 ? '2.0' : '1.0';
    const failed = (i * 7) % 11 < (version === '2.0' ? 2 : 3);
    return storedInteraction({
      id: `r${i}`,
      sessionId: `s${i % 37}`,
      timestamp: T0 + i * 20_000, // 200 minutes: crosses midnight and several hours
      intent: ['search', 'book', 'cancel'][i % 3]!,
      toolsUsed: i % 4 === 0 ? [{ tool: 'web', params: {}, durationMs: 20 + (i % 50), success: i % 8 !== 0, error: null }] : [],
      responseTimeMs: 50 + ((i * 37) % 400),
      success: !failed,
      errorType: failed ? (i % 2 ? 'timeout' : 'parse') : null,
      assistant: i % 5 === 4 ? null : 'bot-a',
      version,
      model: i % 2 ? 'm1' : 'm2',
      inputTokens: 10,
      outputTokens: 5,
      costUsd: 0.001,
    });
  });
}

interface Ref {
  count: number;
  errors: number;
}

/** Reference: per (dimension, key) counts of one release. */
function referenceCells(records: Interaction[], assistant: string, version: string): Map<string, Ref> {
  const out = new Map<string, Ref>();
  const bump = (k: string, count: number, errors: number): void => {
    const r = out.get(k) ?? { count: 0, errors: 0 };
    r.count += count;
    r.errors += errors;
    out.set(k, r);
  };
  for (const r of records) {
    if (r.version !== version || (r.assistant ?? '') !== assistant) continue;
    const e = r.success ? 0 : 1;
    bump('/', 1, e);
    bump(`intent/${r.intent}`, 1, e);
    if (r.model) bump(`model/${r.model}`, 1, e);
    if (!r.success) bump(`error_type/${r.errorType ?? 'unknown'}`, 1, 0);
    for (const t of r.toolsUsed) bump(`tool/${t.tool}`, 1, t.success === false ? 1 : 0);
  }
  return out;
}

/** Reference moments: sessions are (UTC day, session) pairs. */
function referenceMoments(records: Interaction[], assistant: string, version: string) {
  const clusters = new Map<string, { n: number; y: number }>();
  for (const r of records) {
    if (r.version !== version || (r.assistant ?? '') !== assistant) continue;
    const k = `${Math.floor(r.timestamp / DAY)}/${r.sessionId}`;
    const c = clusters.get(k) ?? { n: 0, y: 0 };
    c.n++;
    c.y += r.success ? 0 : 1;
    clusters.set(k, c);
  }
  const m = { sessions: 0, n: 0, y: 0, nn: 0, yy: 0, ny: 0 };
  for (const c of clusters.values()) {
    m.sessions++;
    m.n += c.n;
    m.y += c.y;
    m.nn += c.n * c.n;
    m.yy += c.y * c.y;
    m.ny += c.n * c.y;
  }
  return m;
}

interface Harness {
  store: Store;
  replica(): Store;
  /** Turns the schema back into version 3's (no release tables), keeping the interactions. */
  toVersion3(): Promise<void>;
  cleanup(): Promise<void>;
}

const CASES = [
  {
    name: 'sqlite',
    skip: false,
    async open(): Promise<Harness> {
      const dir = mkdtempSync(join(tmpdir(), 'ai-monitor-releases-'));
      const file = join(dir, 'test.db');
      const opened: Store[] = [];
      const make = (): Store => {
        const s = new SqliteStore({ file });
        opened.push(s);
        return s;
      };
      const store = make() as SqliteStore;
      return {
        store,
        replica: make,
        async toVersion3() {
          sqliteBackTo(store.db, 3);
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
    async open(): Promise<Harness> {
      const schema = randomName('aim_rel');
      const opened: Store[] = [];
      const make = (): Store => {
        const s = new PostgresStore({ url: PG_URL, schema, poolSize: 3 });
        opened.push(s);
        return s;
      };
      return {
        store: make(),
        replica: make,
        async toVersion3() {
          await postgresBackTo(schema, 3);
        },
        async cleanup() {
          for (const s of opened) await s.close();
          await dropSchema(schema);
        },
      };
    },
  },
];

const RANGE = { from: T0 - DAY, to: T0 + 2 * DAY };

for (const c of CASES) {
  describe.skipIf(c.skip)(`release roll-ups: ${c.name}`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await c.open();
      await h.store.migrate();
    });
    afterEach(async () => h.cleanup());

    it('sums each release per dimension, and the session moments exactly, across many batches', async () => {
      const records = dataset();
      // Batches of 7 split sessions across batches, so the moments must add increments.
      for (let i = 0; i < records.length; i += 7) await h.store.insertInteractions(records.slice(i, i + 7));
      // A repeated batch stores nothing and changes no roll-up.
      await h.store.insertInteractions(records.slice(0, 50));

      for (const [assistant, version] of [['bot-a', '1.0'], ['bot-a', '2.0'], ['', '1.0']] as const) {
        const cells = await h.store.releaseCells(assistant, version, RANGE);
        const got = new Map(cells.map((x) => [`${x.dimension}/${x.key}`, { count: x.count, errors: x.errors }]));
        expect(got).toEqual(referenceCells(records, assistant, version));
        const whole = cells.find((x) => x.dimension === '')!;
        expect(whole.histogram.total()).toBe(whole.count);
        expect(whole.inputTokens).toBe(whole.count * 10);
        expect(await h.store.releaseMoments(assistant, version, RANGE)).toEqual(referenceMoments(records, assistant, version));
      }
      // Records without a version belong to no release.
      const listed = await h.store.listReleases(null, RANGE);
      expect(listed.map((r) => `${r.assistant}@${r.version}`).sort()).toEqual(['@1.0', '@2.0', 'bot-a@1.0', 'bot-a@2.0']);
      const a2 = (await h.store.listReleases('bot-a', RANGE)).find((r) => r.version === '2.0')!;
      const in2 = records.filter((r) => r.version === '2.0' && r.assistant === 'bot-a');
      expect(a2.count).toBe(in2.length);
      expect(a2.first).toBe(Math.min(...in2.map((r) => r.timestamp)));
      expect(a2.last).toBe(Math.max(...in2.map((r) => r.timestamp)));
    });

    it('upgrading from version 3 fills the release roll-ups from the interactions already stored', async () => {
      const records = dataset();
      await h.store.insertInteractions(records);
      await h.toVersion3();
      const upgraded = h.replica();
      await upgraded.migrate();
      for (const [assistant, version] of [['bot-a', '1.0'], ['', '2.0']] as const) {
        const cells = await upgraded.releaseCells(assistant, version, RANGE);
        expect(new Map(cells.map((x) => [`${x.dimension}/${x.key}`, { count: x.count, errors: x.errors }]))).toEqual(referenceCells(records, assistant, version));
        expect(await upgraded.releaseMoments(assistant, version, RANGE)).toEqual(referenceMoments(records, assistant, version));
      }
      // Migrating again changes nothing.
      await upgraded.migrate();
      expect((await upgraded.releaseCells('bot-a', '1.0', RANGE)).find((x) => x.dimension === '')!.count).toBe(referenceCells(records, 'bot-a', '1.0').get('/')!.count);
    });

    it('reads only the hours a range covers, and buckets the time series per release', async () => {
      const records = dataset();
      await h.store.insertInteractions(records);
      const from = Math.floor(T0 / HOUR) * HOUR + HOUR; // the second hour onwards
      const cells = await h.store.releaseCells('bot-a', '1.0', { from, to: RANGE.to });
      const expected = records.filter((r) => r.version === '1.0' && r.assistant === 'bot-a' && r.timestamp >= from).length;
      expect(cells.find((x) => x.dimension === '')!.count).toBe(expected);
      const series = await h.store.releaseTimeseries('bot-a', ['1.0', '2.0'], RANGE, HOUR);
      expect(new Set(series.map((b) => b.version))).toEqual(new Set(['1.0', '2.0']));
      expect(series.filter((b) => b.version === '1.0').reduce((n, b) => n + b.count, 0)).toBe(
        records.filter((r) => r.version === '1.0' && r.assistant === 'bot-a').length,
      );
    });

    it('replicas writing the same sessions concurrently keep the moments exact', async () => {
      const other = h.replica();
      const records = dataset();
      const even = records.filter((_, i) => i % 2 === 0);
      const odd = records.filter((_, i) => i % 2 === 1);
      const write = async (s: Store, list: Interaction[]) => {
        for (let i = 0; i < list.length; i += 5) await s.insertInteractions(list.slice(i, i + 5));
      };
      await Promise.all([write(h.store, even), write(other, odd)]);
      expect(await h.store.releaseMoments('bot-a', '1.0', RANGE)).toEqual(referenceMoments(records, 'bot-a', '1.0'));
      const cells = await other.releaseCells('bot-a', '1.0', RANGE);
      const whole = cells.find((x) => x.dimension === '')!;
      expect(whole.count).toBe(referenceCells(records, 'bot-a', '1.0').get('/')!.count);
      expect(whole.histogram.total()).toBe(whole.count);
    });

    it('stores improvements: insert, compare-and-set replace, list in creation order', async () => {
      const base = {
        id: 'imp-2', title: 'Fewer timeouts', problemKind: 'error_type' as const, problem: 'timeout', assistant: 'bot-a', baseline: '1.0', fix: '2.0',
        status: 'open' as const, createdAt: T0 + 5, updatedAt: T0 + 5, judgedAt: null, evidence: null, delivery: null,
      };
      expect(await h.store.insertImprovement(base)).toEqual(base);
      await h.store.insertImprovement({ ...base, id: 'imp-1', createdAt: T0, updatedAt: T0, fix: null });
      const evidence = { dimension: 'ERROR_TYPE', key: 'timeout', metric: 'success' as const, diff: 3, low: 1, high: 5, baselineCount: 10, fixCount: 12, sampleNeeded: 0, judgedFrom: 1, judgedTo: 2 };
      const verified = { ...base, status: 'verified' as const, evidence, judgedAt: T0 + 9 };
      // Only while the status is still the expected one: a second judge loses.
      expect(await h.store.replaceImprovement(verified, 'open')).toEqual(verified);
      expect(await h.store.replaceImprovement({ ...base, status: 'regressed' }, 'open')).toBeNull();
      expect(await h.store.getImprovement('imp-2')).toEqual(verified);
      expect((await h.store.listImprovements(null)).map((i) => i.id)).toEqual(['imp-1', 'imp-2']);
      expect((await h.store.listImprovements('verified')).map((i) => i.id)).toEqual(['imp-2']);
      expect(await h.store.getImprovement('none')).toBeNull();
    });

    it('retention removes release roll-ups before the cutoff', async () => {
      await h.store.insertInteractions(dataset());
      const cutoff = T0 + 3 * DAY;
      while ((await h.store.deleteOlderThan(cutoff, 50)) > 0) {
        /* chunks until done */
      }
      expect(await h.store.listReleases(null, RANGE)).toEqual([]);
      expect((await h.store.releaseMoments('bot-a', '1.0', RANGE)).sessions).toBe(0);
    });
  });
}
