/**
 * The subscription fan-out (pubsub/multicast.ts) without sockets: one shared execution per key,
 * a bounded queue per subscriber (Backpressure's limit, drops counted once), and the shared
 * execution stops when its last subscriber leaves or ends every subscriber when it ends.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutionResult } from 'graphql';
import { Backpressure, SOCKET_UNSENT_LIMIT_BYTES, unsentOverLimit } from '../../apps/api/src/pubsub/backpressure.js';
import { DropOldestQueue } from '../../apps/api/src/pubsub/drop-oldest-queue.js';
import { SubscriptionMulticast, type SubscriptionSource } from '../../apps/api/src/pubsub/multicast.js';

/** A controllable shared execution: push results, end it, see whether it was returned. */
function source(): { it: DropOldestQueue<ExecutionResult>; push(n: number): void; returned(): boolean } {
  let returned = false;
  const it = new DropOldestQueue<ExecutionResult>({ capacity: 1_000_000, onReturn: () => (returned = true) });
  return { it, push: (n) => it.push({ data: { n } }), returned: () => returned };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function asIterator(s: SubscriptionSource): AsyncIterableIterator<ExecutionResult> {
  if (!(Symbol.asyncIterator in s)) throw new Error('expected a stream, got a single result');
  return s as AsyncIterableIterator<ExecutionResult>;
}

async function take(it: AsyncIterableIterator<ExecutionResult>, count: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) out.push((await it.next()).value?.data);
  return out;
}

describe('SubscriptionMulticast', () => {
  it('starts one execution per key and delivers every event to every subscriber', async () => {
    const m = new SubscriptionMulticast(new Backpressure(100));
    const src = source();
    let starts = 0;
    const start = (): SubscriptionSource => (starts++, src.it);
    const a = asIterator(await m.subscribe('k', start));
    const b = asIterator(await m.subscribe('k', start));
    expect(starts).toBe(1);
    expect(m.size).toBe(1);
    await turn();
    for (let n = 1; n <= 3; n++) src.push(n);
    await turn();
    expect(await take(a, 3)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await take(b, 3)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('keeps different keys apart', async () => {
    const m = new SubscriptionMulticast(new Backpressure(100));
    const one = source();
    const two = source();
    const a = asIterator(await m.subscribe('one', () => one.it));
    const b = asIterator(await m.subscribe('two', () => two.it));
    expect(m.size).toBe(2);
    await turn();
    one.push(1);
    two.push(2);
    await turn();
    expect(await take(a, 1)).toEqual([{ n: 1 }]);
    expect(await take(b, 1)).toEqual([{ n: 2 }]);
  });

  it('drops the oldest events of a subscriber that lags beyond the limit, counting them, without touching the others', async () => {
    const backpressure = new Backpressure(3);
    const m = new SubscriptionMulticast(backpressure);
    const src = source();
    const slow = asIterator(await m.subscribe('k', () => src.it));
    const fast = asIterator(await m.subscribe('k', () => src.it));
    await turn();
    const fastGot: unknown[] = [];
    for (let n = 1; n <= 10; n++) {
      src.push(n);
      await turn();
      fastGot.push(...(await take(fast, 1)));
    }
    expect(fastGot).toHaveLength(10);
    expect(await take(slow, 3)).toEqual([{ n: 8 }, { n: 9 }, { n: 10 }]);
    expect(await backpressure.droppedTotal()).toBe(7);
  });

  it('stops the shared execution when its last subscriber leaves', async () => {
    const m = new SubscriptionMulticast(new Backpressure(10));
    const src = source();
    const a = asIterator(await m.subscribe('k', () => src.it));
    const b = asIterator(await m.subscribe('k', () => src.it));
    await a.return?.();
    expect(src.returned()).toBe(false);
    expect(m.size).toBe(1);
    await b.return?.();
    expect(src.returned()).toBe(true);
    expect(m.size).toBe(0);
  });

  it('ends every subscriber after what they have queued when the shared execution ends', async () => {
    const m = new SubscriptionMulticast(new Backpressure(10));
    const src = source();
    const a = asIterator(await m.subscribe('k', () => src.it));
    await turn();
    src.push(1);
    src.it.end();
    await turn();
    expect(await take(a, 1)).toEqual([{ n: 1 }]);
    expect((await a.next()).done).toBe(true);
    expect(m.size).toBe(0);
  });

  it('reports a failed shared execution and ends its subscribers', async () => {
    const errors: unknown[] = [];
    const m = new SubscriptionMulticast(new Backpressure(10), (err) => errors.push(err));
    const src = source();
    const a = asIterator(await m.subscribe('k', () => src.it));
    await turn();
    src.it.end(new Error('resolver failed'));
    await turn();
    expect((await a.next()).done).toBe(true);
    expect(errors.map((e) => (e as Error).message)).toEqual(['resolver failed']);
    expect(m.size).toBe(0);
  });

  it('passes a single result (an error before the stream starts) through without sharing it', async () => {
    const m = new SubscriptionMulticast(new Backpressure(10));
    const single: ExecutionResult = { errors: [] };
    expect(await m.subscribe('k', () => single)).toBe(single);
    expect(m.size).toBe(0);
  });

  it('starts only one execution when two subscribers race on an async start', async () => {
    const m = new SubscriptionMulticast(new Backpressure(10));
    const first = source();
    const second = source();
    const sources = [first, second];
    const start = async (): Promise<SubscriptionSource> => {
      await turn();
      return sources.shift()!.it;
    };
    const [a, b] = await Promise.all([m.subscribe('k', start), m.subscribe('k', start)]);
    expect(m.size).toBe(1);
    // The execution started second was returned at once; both subscribers read the first.
    expect(second.returned()).toBe(true);
    await turn();
    first.push(1);
    await turn();
    expect(await take(asIterator(a), 1)).toEqual([{ n: 1 }]);
    expect(await take(asIterator(b), 1)).toEqual([{ n: 1 }]);
  });
});

describe('Backpressure', () => {
  it('refuses a limit that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new Backpressure(bad)).toThrow(/positive integer/);
  });

  it('weighs a commit by its records and anything else as one event', async () => {
    const backpressure = new Backpressure(4);
    const q = backpressure.queue<unknown>();
    q.push([1, 2, 3]);
    q.push({ one: true });
    q.push([4, 5]);
    expect(await backpressure.droppedTotal()).toBe(3);
    expect((await q.next()).value).toEqual({ one: true });
  });

  it('bounds a socket\'s unsent bytes at 4 MiB unless told otherwise', () => {
    expect(SOCKET_UNSENT_LIMIT_BYTES).toBe(4 * 1024 * 1024);
    expect(unsentOverLimit({ bufferedAmount: SOCKET_UNSENT_LIMIT_BYTES })).toBe(false);
    expect(unsentOverLimit({ bufferedAmount: SOCKET_UNSENT_LIMIT_BYTES + 1 })).toBe(true);
    expect(unsentOverLimit({ bufferedAmount: 11 }, 10)).toBe(true);
  });
});
