/**
 * The group-commit writer (store/writer.ts) on a fake store and a fake clock: what arrives in
 * one turn shares one transaction, writes arriving during a commit share the next one, large
 * queues split at caller boundaries, a failed commit rejects exactly its callers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Interaction } from '../../apps/api/src/model/interaction.js';
import type { Store } from '../../apps/api/src/store/types.js';
import { BatchWriter } from '../../apps/api/src/store/writer.js';

/** Only what the writer calls; ids already "stored" come back false. */
class FakeStore {
  readonly transactions: string[][] = [];
  readonly ids = new Set<string>();
  /** When set, the next commit waits for `release()`. */
  hold = false;
  failNext: Error | null = null;
  private waiting: (() => void) | null = null;

  insertInteractions = async (records: readonly Interaction[]): Promise<boolean[]> => {
    this.transactions.push(records.map((r) => r.id));
    if (this.hold) await new Promise<void>((resolve) => (this.waiting = resolve));
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = null;
      throw err;
    }
    return records.map((r) => {
      const fresh = !this.ids.has(r.id);
      this.ids.add(r.id);
      return fresh;
    });
  };

  release(): void {
    this.hold = false;
    this.waiting?.();
    this.waiting = null;
  }

  asStore(): Store {
    return this as unknown as Store;
  }
}

const rec = (id: string): Interaction => ({ id }) as Interaction;
const recs = (...ids: string[]): Interaction[] => ids.map(rec);

let store: FakeStore;

beforeEach(() => {
  vi.useFakeTimers();
  store = new FakeStore();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('BatchWriter', () => {
  it('commits what arrives in one turn as one transaction and gives each caller its own answers', async () => {
    const writer = new BatchWriter(store.asStore());
    store.ids.add('b2');
    const a = writer.write(recs('a1', 'a2'));
    const b = writer.write(recs('b1', 'b2', 'b3'));
    expect(writer.pending).toBe(5);
    expect(store.transactions).toEqual([]);
    await vi.runAllTimersAsync();
    expect(store.transactions).toEqual([['a1', 'a2', 'b1', 'b2', 'b3']]);
    expect(await a).toEqual([true, true]);
    expect(await b).toEqual([true, false, true]);
    expect(writer.pending).toBe(0);
  });

  it('tells listeners once per transaction, of the new records only', async () => {
    const writer = new BatchWriter(store.asStore());
    const seen: string[][] = [];
    writer.onCommit((stored) => seen.push(stored.map((r) => r.id)));
    store.ids.add('dup');
    void writer.write(recs('x', 'dup', 'y'));
    await vi.runAllTimersAsync();
    void writer.write(recs('dup'));
    await vi.runAllTimersAsync();
    expect(seen).toEqual([['x', 'y']]);
  });

  it('queues writes arriving during a commit and commits them together next', async () => {
    const writer = new BatchWriter(store.asStore());
    store.hold = true;
    const first = writer.write(recs('1'));
    await vi.runAllTimersAsync();
    expect(store.transactions).toEqual([['1']]);
    const later = [writer.write(recs('2')), writer.write(recs('3', '4')), writer.write(recs('5'))];
    await vi.runAllTimersAsync();
    // Nothing starts while the first commit is pending.
    expect(store.transactions).toHaveLength(1);
    store.release();
    await vi.runAllTimersAsync();
    expect(store.transactions).toEqual([['1'], ['2', '3', '4', '5']]);
    expect(await first).toEqual([true]);
    expect(await Promise.all(later)).toEqual([[true], [true, true], [true]]);
  });

  it('splits a queue larger than the batch limit at caller boundaries; a larger caller goes alone', async () => {
    const writer = new BatchWriter(store.asStore(), 3);
    const calls = [writer.write(recs('a', 'b')), writer.write(recs('c', 'd')), writer.write(recs('e', 'f', 'g', 'h', 'i')), writer.write(recs('j'))];
    await vi.runAllTimersAsync();
    expect(store.transactions).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f', 'g', 'h', 'i'], ['j']]);
    expect((await Promise.all(calls)).map((r) => r.length)).toEqual([2, 2, 5, 1]);
  });

  it('rejects every caller of a failed transaction, and the next one still commits', async () => {
    const writer = new BatchWriter(store.asStore());
    store.failNext = new Error('disk full');
    const a = writer.write(recs('a'));
    const b = writer.write(recs('b'));
    const settled = Promise.allSettled([a, b]);
    await vi.runAllTimersAsync();
    expect((await settled).map((s) => (s.status === 'rejected' ? (s.reason as Error).message : 'ok'))).toEqual(['disk full', 'disk full']);
    const c = writer.write(recs('c'));
    await vi.runAllTimersAsync();
    expect(await c).toEqual([true]);
    expect(store.transactions).toEqual([['a', 'b'], ['c']]);
  });

  it('answers an empty write at once without a transaction', async () => {
    const writer = new BatchWriter(store.asStore());
    expect(await writer.write([])).toEqual([]);
    await vi.runAllTimersAsync();
    expect(store.transactions).toEqual([]);
  });

  it('drain resolves once everything queued so far is committed', async () => {
    const writer = new BatchWriter(store.asStore());
    store.hold = true;
    void writer.write(recs('a'));
    let drained = false;
    const drain = writer.drain().then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(drained).toBe(false);
    store.release();
    await vi.runAllTimersAsync();
    await drain;
    expect(drained).toBe(true);
    expect(store.ids.has('a')).toBe(true);
  });
});
