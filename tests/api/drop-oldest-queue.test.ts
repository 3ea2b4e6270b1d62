/** The drop-oldest queue shared by the pubsub bound and the subscription fan-out. */
import { describe, expect, it } from 'vitest';
import { DropOldestQueue } from '../../apps/api/src/pubsub/drop-oldest-queue.js';

describe('DropOldestQueue', () => {
  it('hands a waiting consumer the item at once and keeps at most `capacity`, newest last', async () => {
    const dropped: number[] = [];
    const q = new DropOldestQueue<number>({ capacity: 3, onDrop: (n) => dropped.push(n) });
    const waiting = q.next();
    q.push(0);
    expect(await waiting).toEqual({ value: 0, done: false });
    for (let i = 1; i <= 6; i++) q.push(i);
    expect(dropped.reduce((a, b) => a + b, 0)).toBe(3);
    const got = [(await q.next()).value, (await q.next()).value, (await q.next()).value];
    expect(got).toEqual([4, 5, 6]);
  });

  it('always keeps the newest item even when it alone outweighs the capacity', async () => {
    const q = new DropOldestQueue<string>({ capacity: 2, weigh: (s) => s.length });
    q.push('ab');
    q.push('abcdef');
    expect((await q.next()).value).toBe('abcdef');
  });

  it('drains what is queued after end, then completes; an error is delivered once', async () => {
    const q = new DropOldestQueue<number>({ capacity: 10 });
    q.push(1);
    q.end(new Error('source failed'));
    q.push(2);
    expect(await q.next()).toEqual({ value: 1, done: false });
    await expect(q.next()).rejects.toThrow('source failed');
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('return() ends a pending read, discards the queue and calls onReturn once', async () => {
    let returned = 0;
    const q = new DropOldestQueue<number>({ capacity: 10, onReturn: () => returned++ });
    const pending = q.next();
    await q.return();
    await q.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    q.push(5);
    expect(await q.next()).toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);
  });
});
