/**
 * Shares one subscription execution among every subscriber of the same operation: a hundred
 * dashboards watching `interactionRecorded` cost one resolver run per event, not a hundred.
 * Each subscriber reads from its own bounded buffer; a subscriber that falls behind loses its
 * oldest events rather than growing the server's memory.
 */
import type { ExecutionResult } from 'graphql';

type Result = ExecutionResult;
export type SubscriptionSource = AsyncIterableIterator<Result> | Result;

/** Events a subscriber may lag behind before its oldest ones are dropped. */
export const SUBSCRIBER_BUFFER = 1024;

interface Hub {
  listeners: Set<(r: Result) => void>;
  closers: Set<() => void>;
  source: AsyncIterableIterator<Result>;
}

function isAsyncIterable(v: SubscriptionSource): v is AsyncIterableIterator<Result> {
  return typeof (v as AsyncIterableIterator<Result>)[Symbol.asyncIterator] === 'function';
}

export class SubscriptionMulticast {
  private readonly hubs = new Map<string, Hub>();

  /** Number of distinct shared executions (for metrics and tests). */
  get size(): number {
    return this.hubs.size;
  }

  /**
   * Joins the shared execution for `key`, starting it with `start` when it is the first.
   * `key` must capture everything the result depends on: document, variables and caller rights.
   */
  async subscribe(key: string, start: () => Promise<SubscriptionSource> | SubscriptionSource): Promise<SubscriptionSource> {
    let hub = this.hubs.get(key);
    if (!hub) {
      const source = await start();
      if (!isAsyncIterable(source)) return source;
      hub = this.hubs.get(key);
      if (hub) void source.return?.();
      else hub = this.open(key, source);
    }
    return this.attach(key, hub);
  }

  private open(key: string, source: AsyncIterableIterator<Result>): Hub {
    const hub: Hub = { listeners: new Set(), closers: new Set(), source };
    this.hubs.set(key, hub);
    void (async () => {
      try {
        for await (const result of source) for (const listener of hub.listeners) listener(result);
      } finally {
        if (this.hubs.get(key) === hub) this.hubs.delete(key);
        for (const close of hub.closers) close();
      }
    })();
    return hub;
  }

  private attach(key: string, hub: Hub): AsyncIterableIterator<Result> {
    const queue = new BoundedQueue<Result>(SUBSCRIBER_BUFFER, () => {
      hub.listeners.delete(listener);
      hub.closers.delete(close);
      if (hub.listeners.size === 0 && this.hubs.get(key) === hub) {
        this.hubs.delete(key);
        void hub.source.return?.();
      }
    });
    const listener = (r: Result): void => queue.push(r);
    const close = (): void => queue.end();
    hub.listeners.add(listener);
    hub.closers.add(close);
    return queue;
  }
}

/**
 * A single-consumer async queue that keeps at most `capacity` items, dropping the oldest.
 * Lighter than a Repeater on the fan-out hot path, where every event is pushed to every subscriber.
 */
export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private head = 0;
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private done = false;
  /** Items dropped because the consumer fell behind. */
  dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly onReturn: () => void,
  ) {}

  push(item: T): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
    if (this.items.length - this.head > this.capacity) {
      this.head++;
      this.dropped++;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** The source ended: the consumer drains what is queued, then completes. */
  end(): void {
    this.done = true;
    if (this.waiting && this.head >= this.items.length) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head++]!;
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.done) {
      this.done = true;
      this.onReturn();
    }
    this.items = [];
    this.head = 0;
    if (this.waiting) {
      this.waiting({ value: undefined, done: true });
      this.waiting = null;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
