/**
 * Shares one subscription execution among every subscriber of the same operation: a hundred
 * dashboards watching `interactionRecorded` cost one resolver run per event, not a hundred.
 * Each subscriber reads from its own queue, bounded and counted by `Backpressure`; a subscriber
 * that falls behind loses its oldest events rather than growing the server's memory.
 */
import type { ExecutionResult } from 'graphql';
import type { Backpressure } from './backpressure.js';

type Result = ExecutionResult;
export type SubscriptionSource = AsyncIterableIterator<Result> | Result;

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

  /**
   * `backpressure` gives every subscriber its queue (and counts what a lagging one loses);
   * `onError` is told of a shared execution that failed (its subscribers' streams end).
   */
  constructor(
    private readonly backpressure: Backpressure,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

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
      if (hub) this.end(source);
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
    })().catch(this.onError); // a source that throws would otherwise be an unhandled rejection
    return hub;
  }

  private end(source: AsyncIterableIterator<Result>): void {
    source.return?.().catch(this.onError);
  }

  private attach(key: string, hub: Hub): AsyncIterableIterator<Result> {
    const queue = this.backpressure.queue<Result>({
      onReturn: () => {
        hub.listeners.delete(listener);
        hub.closers.delete(close);
        if (hub.listeners.size === 0 && this.hubs.get(key) === hub) {
          this.hubs.delete(key);
          this.end(hub.source);
        }
      },
    });
    const listener = (r: Result): void => queue.push(r);
    const close = (): void => queue.end();
    hub.listeners.add(listener);
    hub.closers.add(close);
    return queue;
  }
}
