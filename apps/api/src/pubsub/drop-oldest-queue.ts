/**
 * A single-consumer async queue that never makes its producer wait: beyond `capacity` (by
 * weight) it drops the OLDEST items and reports how much it dropped. Used wherever events fan
 * out to subscribers that may read slowly, so a stalled reader costs bounded memory.
 */
export interface DropOldestOptions<T> {
  /** Most queued weight before the oldest items are dropped (the newest item is always kept). */
  capacity: number;
  /** Weight of one item; 1 when absent. */
  weigh?: (item: T) => number;
  /** Told how much weight was dropped. */
  onDrop?: (weight: number) => void;
  /** Called once when the consumer stops early (`return()`). */
  onReturn?: () => void;
}

interface Waiter<T> {
  resolve: (r: IteratorResult<T>) => void;
  reject: (err: unknown) => void;
}

export class DropOldestQueue<T> implements AsyncIterableIterator<T> {
  private items: { item: T; weight: number }[] = [];
  private head = 0;
  private queued = 0;
  private waiting: Waiter<T> | null = null;
  private ended = false;
  private failure: { error: unknown } | null = null;

  constructor(private readonly opts: DropOldestOptions<T>) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve({ value: item, done: false });
      return;
    }
    const weight = this.opts.weigh?.(item) ?? 1;
    this.items.push({ item, weight });
    this.queued += weight;
    let dropped = 0;
    while (this.queued > this.opts.capacity && this.items.length - this.head > 1) {
      const old = this.items[this.head++]!;
      this.queued -= old.weight;
      dropped += old.weight;
    }
    if (dropped > 0) this.opts.onDrop?.(dropped);
    // Reclaim the consumed prefix now and then instead of shifting on every read.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** No more items: the consumer drains what is queued, then completes (or gets `error`). */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.failure = { error };
    if (this.waiting && this.head >= this.items.length) {
      const w = this.waiting;
      this.waiting = null;
      this.settleEnd(w);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const { item, weight } = this.items[this.head++]!;
      this.queued -= weight;
      return Promise.resolve({ value: item, done: false });
    }
    return new Promise((resolve, reject) => {
      if (this.ended) this.settleEnd({ resolve, reject });
      else this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.ended) {
      this.ended = true;
      this.opts.onReturn?.();
    }
    this.failure = null;
    this.items = [];
    this.head = 0;
    this.queued = 0;
    if (this.waiting) {
      this.waiting.resolve({ value: undefined, done: true });
      this.waiting = null;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** The source's error is delivered once; after it the queue is simply done. */
  private settleEnd(w: Waiter<T>): void {
    const failure = this.failure;
    this.failure = null;
    if (failure) w.reject(failure.error);
    else w.resolve({ value: undefined, done: true });
  }
}
