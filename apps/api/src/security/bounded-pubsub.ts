/**
 * Bounded subscribers. Yoga's pubsub gives every subscriber an unbuffered Repeater: when a
 * subscriber stops reading (a WebSocket client that never reads, a stalled SSE stream), its
 * pending events pile up, and at 1,024 of them the push throws inside the publisher's
 * dispatch — an uncaught exception that takes the whole process down.
 *
 * Here every subscription drains its source at once into its own queue of bounded weight
 * (records for the interaction topic, one per event otherwise); past the bound the OLDEST
 * events are dropped and counted. Payloads are shared between subscribers, so a slow one costs
 * references, not copies. The consumer still sees a Repeater, as Yoga's PubSub type promises.
 */
import { Repeater } from 'graphql-yoga';

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
export function boundedStream<T>(source: AsyncIterable<T>, opts: BoundOptions): Repeater<T> {
  const weigh = opts.weigh ?? defaultWeigh;
  return new Repeater<T>(async (push, stop) => {
    const it = source[Symbol.asyncIterator]();
    const queue: { value: T; weight: number }[] = [];
    let queued = 0;
    let ended = false;
    let stopped = false;
    let wake: (() => void) | null = null;
    const signal = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    void stop.then(() => {
      stopped = true;
      signal();
      void it.return?.();
    });

    // Reader: takes every event as soon as it is published.
    const reader = (async () => {
      try {
        while (!stopped) {
          const next = await it.next();
          if (next.done) break;
          const weight = weigh(next.value);
          queue.push({ value: next.value, weight });
          queued += weight;
          let dropped = 0;
          while (queued > opts.capacity && queue.length > 1) {
            const old = queue.shift()!;
            queued -= old.weight;
            dropped += old.weight;
          }
          if (dropped > 0) opts.onDrop?.(dropped);
          signal();
        }
      } finally {
        ended = true;
        signal();
      }
    })();

    // Writer: hands one event at a time to the consumer (push resolves when it is taken).
    while (!stopped) {
      const head = queue.shift();
      if (head) {
        queued -= head.weight;
        await push(head.value);
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    await reader; // rethrows a source error into the repeater
    stop();
  });
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
  const subscribe = (...args: Parameters<P['subscribe']>): Repeater<unknown> => boundedStream(pubsub.subscribe(...args), opts);
  // Same signature as P's subscribe; the values are the source's, untouched.
  return { ...pubsub, subscribe } as P;
}
