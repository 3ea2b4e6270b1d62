/**
 * Bounded subscribers. Yoga's pubsub gives every subscriber an unbuffered Repeater: when a
 * subscriber stops reading (a WebSocket client that never reads, a stalled SSE stream), its
 * pending events pile up, and at 1,024 of them the push throws inside the publisher's
 * dispatch — an uncaught exception that takes the whole process down.
 *
 * Here every subscription drains its source at once into its own queue of bounded weight
 * (records for the interaction topic, one per event otherwise); past the bound the OLDEST
 * events are dropped and counted. Payloads are shared between subscribers, so a slow one costs
 * references, not copies.
 */
import { DropOldestQueue } from '../pubsub/drop-oldest-queue.js';

export interface BoundOptions {
  /** Most queued weight per subscriber before the oldest events are dropped. */
  capacity: number;
  /** Weight of one event; arrays weigh their length, anything else 1. */
  weigh?: (value: unknown) => number;
  /** Told how much weight was dropped for a slow subscriber. */
  onDrop?: (weight: number) => void;
}

const defaultWeigh = (value: unknown): number => (Array.isArray(value) ? Math.max(1, value.length) : 1);

/** An async iterable that never makes its source wait: see the module comment. */
export function boundedStream<T>(source: AsyncIterable<T>, opts: BoundOptions): AsyncIterableIterator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue = new DropOldestQueue<T>({
    capacity: opts.capacity,
    weigh: opts.weigh ?? defaultWeigh,
    onDrop: opts.onDrop,
    onReturn: () => void it.return?.(),
  });
  // Reader: takes every event as soon as it is published.
  void (async () => {
    try {
      for (let next = await it.next(); !next.done; next = await it.next()) queue.push(next.value);
      queue.end();
    } catch (err) {
      queue.end(err);
    }
  })();
  return queue;
}

/** The shape of Yoga's PubSub that the wrapper needs. */
interface PubSubLike {
  subscribe: (...args: never[]) => AsyncIterable<unknown>;
}

/**
 * The same pubsub, except that every subscription is bounded. `publish` is untouched (Yoga's
 * methods are closures, not `this`-bound), so replicas and the Redis event target behave as before.
 */
export function withBoundedSubscribers<P extends PubSubLike>(pubsub: P, opts: BoundOptions): P {
  const subscribe = (...args: Parameters<P['subscribe']>): AsyncIterableIterator<unknown> => boundedStream(pubsub.subscribe(...args), opts);
  // Same signature as P's subscribe; the values are the source's, untouched.
  return { ...pubsub, subscribe } as P;
}
