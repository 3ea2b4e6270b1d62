/**
 * Per-batch roll-ups (store/rollup.ts) as pure functions: minute buckets, the keyed sums of
 * intents, tools and error types, session spans; and the opaque cursors of the read core.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Interaction, ToolUse } from '../../apps/api/src/model/interaction.js';
import { BatchRollup } from '../../apps/api/src/store/rollup.js';
import { decodeCursor, encodeCursor, toPage } from '../../apps/api/src/store/core/sql.js';
import { storedInteraction } from '../helpers/records.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

function rec(over: Partial<Interaction> = {}): Interaction {
  return storedInteraction({ timestamp: T0, receivedAt: T0, ...over });
}

const tool = (name: string, over: Partial<ToolUse> = {}): ToolUse => ({ tool: name, params: {}, durationMs: null, success: null, error: null, ...over });

describe('BatchRollup', () => {
  it('sums each minute: count, errors, response times, tokens and cost', () => {
    const r = new BatchRollup();
    r.add(rec({ responseTimeMs: 100, inputTokens: 10, outputTokens: 5, costUsd: 0.5 }));
    r.add(rec({ timestamp: T0 + 59_999, responseTimeMs: 300, success: false, errorType: 'timeout' }));
    r.add(rec({ timestamp: T0 + 60_000, responseTimeMs: 7 }));
    expect([...r.minutes.keys()]).toEqual([T0, T0 + 60_000]);
    const first = r.minutes.get(T0)!;
    expect(first).toMatchObject({ minute: T0, count: 2, errors: 1, rtSum: 400, rtMax: 300, inputTokens: 10, outputTokens: 5, costUsd: 0.5 });
    expect(first.hist.total()).toBe(2);
    expect(r.minutes.get(T0 + 60_000)).toMatchObject({ count: 1, errors: 0, rtSum: 7, rtMax: 7 });
  });

  it('keys intents and error types by minute; an error without a type counts as "unknown"', () => {
    const r = new BatchRollup();
    r.add(rec({ intent: 'a', responseTimeMs: 10 }));
    r.add(rec({ intent: 'a', responseTimeMs: 30, success: false, errorType: 'timeout' }));
    r.add(rec({ intent: 'b', success: false }));
    expect([...r.intents.values()]).toEqual([
      { minute: T0, key: 'a', count: 2, errors: 1, sum: 40, n: 2 },
      { minute: T0, key: 'b', count: 1, errors: 1, sum: 100, n: 1 },
    ]);
    expect([...r.errorTypes.values()].map((e) => [e.key, e.count])).toEqual([
      ['timeout', 1],
      ['unknown', 1],
    ]);
  });

  it('counts a tool call as failed when it says so, or when it has an error and no verdict', () => {
    const r = new BatchRollup();
    r.add(rec({ toolsUsed: [tool('read', { durationMs: 4 }), tool('read', { success: false }), tool('read', { error: 'x' }), tool('read', { success: true, error: 'ignored' })] }));
    // Durations sum over the calls that reported one (n).
    expect([...r.tools.values()]).toEqual([{ minute: T0, key: 'read', count: 4, errors: 2, sum: 4, n: 1 }]);
  });

  it('spans sessions over the batch', () => {
    const r = new BatchRollup();
    r.add(rec({ timestamp: T0 + 5_000, responseTimeMs: 1 }));
    r.add(rec({ timestamp: T0, responseTimeMs: 2, success: false }));
    r.add(rec({ sessionId: 's2', timestamp: T0 + 9_000 }));
    expect(r.sessions.get('s1')).toEqual({ id: 's1', first: T0, last: T0 + 5_000, count: 2, errors: 1, rtSum: 3 });
    expect(r.sessions.get('s2')).toMatchObject({ first: T0 + 9_000, last: T0 + 9_000, count: 1 });
  });

  it('keeps the totals of any batch: minute counts add up to the records, errors to the failures', () => {
    const arb = fc.array(
      fc.record({ offset: fc.integer({ min: 0, max: 10 * 60_000 }), ms: fc.integer({ min: 0, max: 100_000 }), success: fc.boolean(), session: fc.constantFrom('a', 'b', 'c') }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(arb, (items) => {
        const r = new BatchRollup();
        for (const i of items) r.add(rec({ timestamp: T0 + i.offset, responseTimeMs: i.ms, success: i.success, sessionId: i.session }));
        const minutes = [...r.minutes.values()];
        expect(minutes.reduce((a, m) => a + m.count, 0)).toBe(items.length);
        expect(minutes.reduce((a, m) => a + m.errors, 0)).toBe(items.filter((i) => !i.success).length);
        expect(minutes.reduce((a, m) => a + m.rtSum, 0)).toBe(items.reduce((a, i) => a + i.ms, 0));
        expect([...r.sessions.values()].reduce((a, s) => a + s.count, 0)).toBe(items.length);
        for (const m of minutes) expect(m.minute % 60_000).toBe(0);
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('cursors', () => {
  it('round-trip a number and a text key, including a colon in the text', () => {
    for (const [a, b] of [[T0, 'id-1'], [0, 'a:b:c'], [-5.5, '']] as const) {
      expect(decodeCursor(encodeCursor(a, b))).toEqual({ a, b });
    }
    expect(decodeCursor(encodeCursor(3, 42))).toEqual({ a: 3, b: '42' });
  });

  it('refuses a cursor that was not made here', () => {
    for (const bad of ['', 'garbage', Buffer.from(':x').toString('base64url'), Buffer.from('abc:x').toString('base64url')]) {
      expect(decodeCursor(bad), bad).toBeNull();
    }
  });

  it('pages end at the last cursor, or null when empty', () => {
    expect(toPage([1, 2], ['c1', 'c2'], true)).toEqual({ items: [1, 2], cursors: ['c1', 'c2'], hasNextPage: true, endCursor: 'c2' });
    expect(toPage([], [], false).endCursor).toBeNull();
  });
});
