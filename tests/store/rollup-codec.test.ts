/**
 * Unit tests of the roll-up arithmetic and the histogram codec, without a database: the batch
 * roll-up (store/rollup.ts), minute bounds, minute sums and time buckets (store/core/rollups.ts),
 * and the one stored histogram encoding, which also reads the older fixed-size one. Time is a
 * fake clock: nothing here may depend on when it runs.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { BatchRollup } from '../../apps/api/dist/store/rollup.js';
import { SqliteStore } from '../../apps/api/dist/store/sqlite.js';
import { bucketMinutes, minuteBounds, sumMinutes } from '../../apps/api/dist/store/core/rollups.js';
import { BUCKETS, Histogram, bucketOf, decodeHistogramInto, encodeHistogram } from '../../apps/api/dist/model/histogram.js';
import type { Interaction } from '../../apps/api/dist/model/interaction.js';
import { storedInteraction } from '../helpers/records.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0 + 3_600_000);
});
afterEach(() => {
  vi.useRealTimers();
});

function rec(over: Partial<Interaction>): Interaction {
  return storedInteraction({ id: 'r', timestamp: T0, receivedAt: T0, userInput: 'q', intent: 'search', ...over });
}

/** The fixed-size encoding earlier SQLite databases hold: one u32 per bucket. */
function fixedBytes(h: Histogram): Buffer {
  const buf = Buffer.alloc(BUCKETS * 4);
  for (let i = 0; i < BUCKETS; i++) buf.writeUInt32LE(h.counts[i]!, i * 4);
  return buf;
}

describe('BatchRollup', () => {
  it('aggregates a batch per minute, per key and per session', () => {
    const r = new BatchRollup();
    r.add(rec({ id: 'a', timestamp: T0 + 5_000, responseTimeMs: 100, inputTokens: 3, outputTokens: 4, costUsd: 0.5 }));
    r.add(rec({ id: 'b', timestamp: T0 + 59_999, responseTimeMs: 300, success: false, errorType: 'timeout', sessionId: 's2' }));
    r.add(rec({ id: 'c', timestamp: T0 + MIN, responseTimeMs: 50, success: false, intent: 'Book' }));
    r.add(
      rec({
        id: 'd',
        timestamp: T0 + MIN + 1,
        toolsUsed: [
          { tool: 'web', params: {}, durationMs: 10, success: true, error: null },
          { tool: 'web', params: {}, durationMs: null, success: null, error: 'boom' },
          { tool: 'db', params: {}, durationMs: 7, success: false, error: null },
        ],
      }),
    );

    const m0 = r.minutes.get(T0)!;
    expect({ ...m0, hist: m0.hist.total() }).toEqual({
      minute: T0, count: 2, errors: 1, rtSum: 400, rtMax: 300, hist: 2, inputTokens: 3, outputTokens: 4, costUsd: 0.5, costed: 1, unpriced: 0,
    });
    const m1 = r.minutes.get(T0 + MIN)!;
    expect([m1.count, m1.errors, m1.rtSum, m1.rtMax]).toEqual([2, 1, 150, 100]);

    expect([...r.intents.values()].map((a) => [a.minute, a.key, a.count, a.errors, a.sum])).toEqual([
      [T0, 'search', 2, 1, 400],
      [T0 + MIN, 'Book', 1, 1, 50],
      [T0 + MIN, 'search', 1, 0, 100],
    ]);
    // A tool call failed when it says so, or says nothing but carries an error; unknown durations are not counted.
    expect([...r.tools.values()].map((a) => [a.key, a.count, a.errors, a.sum, a.n])).toEqual([
      ['web', 2, 1, 10, 1],
      ['db', 1, 1, 7, 1],
    ]);
    // A failure without an error type counts as "unknown".
    expect([...r.errorTypes.values()].map((a) => [a.minute, a.key, a.count])).toEqual([
      [T0, 'timeout', 1],
      [T0 + MIN, 'unknown', 1],
    ]);
    expect(r.sessions.get('s1')).toEqual({ id: 's1', first: T0 + 5_000, last: T0 + MIN + 1, count: 3, errors: 1, rtSum: 250 });
    expect(r.sessions.get('s2')).toEqual({ id: 's2', first: T0 + 59_999, last: T0 + 59_999, count: 1, errors: 1, rtSum: 300 });
  });

  it('does not read the clock: a record is filed under its own minute whatever the time now', () => {
    const r = new BatchRollup();
    r.add(rec({ timestamp: T0 - 86_400_000 + 1 }));
    vi.setSystemTime(T0 + 10 * 86_400_000);
    r.add(rec({ timestamp: T0 + 30 * MIN + 42 }));
    expect([...r.minutes.keys()]).toEqual([T0 - 86_400_000, T0 + 30 * MIN]);
  });
});

describe('roll-up reads', () => {
  const row = (minute: number, over: Record<string, unknown> = {}) => {
    const h = new Histogram();
    h.record(100);
    return { minute, count: 1, errors: 0, rt_sum: 100, rt_max: 100, hist: encodeHistogram(h), input_tokens: 1, output_tokens: 2, cost_usd: 0.25, costed: 1, unpriced: 0, ...over };
  };

  it('widens a range to whole minutes at its start only', () => {
    expect(minuteBounds({ from: T0 + 59_999, to: T0 + 5 * MIN + 1 })).toEqual([T0, T0 + 5 * MIN + 1]);
    expect(minuteBounds({ from: T0, to: T0 + MIN })).toEqual([T0, T0 + MIN]);
  });

  it('sums minute rows, numbers given as text (PostgreSQL bigint) included, and both histogram encodings', () => {
    const old = new Histogram();
    old.record(1000, 3);
    const t = sumMinutes([row(T0), row(T0 + MIN, { count: '4', errors: '2', rt_max: 900, hist: fixedBytes(old), input_tokens: '10' })]);
    expect({ ...t, histogram: t.histogram.total() }).toEqual({
      count: 5, errors: 2, responseTimeSum: 200, responseTimeMax: 900, histogram: 4, inputTokens: 11, outputTokens: 4, costUsd: 0.5, costed: 2, unpriced: 0,
    });
    expect(t.histogram.counts[bucketOf(1000)]).toBe(3);
    expect(sumMinutes([])).toMatchObject({ count: 0, responseTimeMax: 0 });
  });

  it('buckets minutes from the range start rounded down, leaving out empty buckets', () => {
    const from = T0 + 7 * MIN + 30_000;
    const rows = [row(T0 + 7 * MIN), row(T0 + 9 * MIN), row(T0 + 10 * MIN), row(T0 + 31 * MIN)];
    const buckets = bucketMinutes(rows, from, 5 * MIN);
    expect(buckets.map((b) => [(b.start - T0) / MIN, b.count])).toEqual([
      [5, 2],
      [10, 1],
      [30, 1],
    ]);
    expect(bucketMinutes(rows, from, MIN).map((b) => (b.start - T0) / MIN)).toEqual([7, 9, 10, 31]);
  });
});

describe('histogram codec', () => {
  const countsArb = fc.array(fc.tuple(fc.integer({ min: 0, max: BUCKETS - 1 }), fc.integer({ min: 1, max: 0xffff })), { maxLength: 40 });

  function fromPairs(pairs: readonly [number, number][]): Histogram {
    const h = new Histogram();
    for (const [b, n] of pairs) h.counts[b]! += n;
    return h;
  }

  it('round-trips any histogram, and reads the fixed-size encoding to the same counts', () => {
    fc.assert(
      fc.property(countsArb, (pairs) => {
        const h = fromPairs(pairs);
        const compact = encodeHistogram(h);
        expect(compact.length % 4).toBe(2);
        expect(compact.length).toBeLessThanOrEqual(2 + BUCKETS * 4);
        expect([...Histogram.fromBytes(compact).counts]).toEqual([...h.counts]);
        expect([...Histogram.fromBytes(fixedBytes(h)).counts]).toEqual([...h.counts]);
      }),
      { seed: 0x5eed_0012, numRuns: 200 },
    );
  });

  it('adds into an existing histogram (merging is decoding into it)', () => {
    fc.assert(
      fc.property(countsArb, countsArb, (a, b) => {
        const merged = fromPairs(a);
        decodeHistogramInto(merged, encodeHistogram(fromPairs(b)));
        const expected = fromPairs([...a, ...b]);
        expect([...merged.counts]).toEqual([...expected.counts]);
      }),
      { seed: 0x5eed_0013, numRuns: 100 },
    );
  });

  it('stores an empty histogram in two bytes and only the span of non-empty buckets otherwise', () => {
    expect(encodeHistogram(new Histogram()).length).toBe(2);
    const h = new Histogram();
    h.record(100);
    h.record(120);
    expect(encodeHistogram(h).length).toBe(2 + (bucketOf(120) - bucketOf(100) + 1) * 4);
    expect(Histogram.fromBytes(null).total()).toBe(0);
    expect(Histogram.fromBytes(Buffer.alloc(0)).total()).toBe(0);
  });

  it('ignores bytes beyond the last bucket rather than writing past it', () => {
    const buf = Buffer.alloc(2 + 4 * 4);
    buf.writeUInt16LE(BUCKETS - 2, 0);
    for (let i = 0; i < 4; i++) buf.writeUInt32LE(1, 2 + i * 4);
    const h = Histogram.fromBytes(buf);
    expect(h.total()).toBe(2);
    expect(h.counts.length).toBe(BUCKETS);
  });
});

describe('an SQLite database written with the fixed-size histogram encoding', () => {
  it('stays readable, and new records merge into its minutes', async () => {
    const store = new SqliteStore({ file: ':memory:' });
    try {
      await store.migrate();
      const old = new Histogram();
      old.record(2000, 2);
      store.db
        .prepare('INSERT INTO rollup_minute VALUES (?,?,?,?,?,?,?,?,?,?,?)')
        .run(T0, 2, 0, 4000, 2000, fixedBytes(old), 0, 0, 0, 0, 0);
      const range = { from: T0, to: T0 + MIN };
      expect((await store.totals(range)).histogram.counts[bucketOf(2000)]).toBe(2);

      await store.insertInteractions([rec({ id: 'new', timestamp: T0 + 1_000, responseTimeMs: 10 })]);
      const t = await store.totals(range);
      expect([t.count, t.histogram.total(), t.histogram.counts[bucketOf(2000)], t.histogram.counts[bucketOf(10)]]).toEqual([3, 3, 2, 1]);
      const stored = store.db.prepare('SELECT hist FROM rollup_minute WHERE minute = ?').get(T0) as { hist: Buffer };
      expect(stored.hist.length % 4).toBe(2); // rewritten in the one current encoding
    } finally {
      await store.close();
    }
  });
});
