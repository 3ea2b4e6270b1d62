/**
 * The one owner of backpressure. Every subscriber — a pubsub subscription (SSE or graphql-ws)
 * and each reader of a shared graphql-ws execution — reads from its own drop-oldest queue of
 * `limit` weight (AI_MONITOR_SUBSCRIBER_QUEUE_LIMIT), and every event dropped for a slow one
 * is counted in ai_monitor_subscriber_events_dropped_total. Sockets add one byte bound on
 * what is written but unsent (SOCKET_UNSENT_LIMIT_BYTES).
 *
 * Why a queue at all: Yoga's pubsub gives every subscriber an unbuffered Repeater; when a
 * subscriber stops reading its pending events pile up, and at 1,024 of them the push throws
 * inside the publisher's dispatch — an uncaught exception that stops the whole process. Here
 * every subscription drains its source at once; payloads are shared between subscribers, so a
 * slow one costs references, not copies.
 */
import client from 'prom-client';
import { DropOldestQueue } from './drop-oldest-queue.js';

/** Unsent bytes a socket may hold: a graphql-ws subscriber beyond it is closed (4008), seed replies beyond it are dropped. */
export const SOCKET_UNSENT_LIMIT_BYTES = 4 * 1024 * 1024;

/** True when the socket's unsent backlog is over the limit (the caller closes it or drops the message). */
export function unsentOverLimit(socket: { bufferedAmount: number }, limitBytes: number = SOCKET_UNSENT_LIMIT_BYTES): boolean {
  return socket.bufferedAmount > limitBytes;
}

/** Arrays (a commit's records) weigh their length, anything else 1. */
export const weighEvent = (value: unknown): number => (Array.isArray(value) ? Math.max(1, value.length) : 1);

export interface SubscriberQueueOptions<T> {
  /** Weight of one event; `weighEvent` when absent. */
  weigh?: (item: T) => number;
  /** Called once when the subscriber stops reading early. */
  onReturn?: () => void;
}

/** The shape of Yoga's PubSub that `boundPubSub` needs. */
interface PubSubLike {
  subscribe: (...args: never[]) => AsyncIterable<unknown>;
}

export class Backpressure {
  private readonly dropped = new client.Counter({
    name: 'ai_monitor_subscriber_events_dropped_total',
    help: 'Events (interactions) dropped for subscribers that fell too far behind',
    registers: [],
  });

  /** `limit`: most queued weight per subscriber before its oldest events are dropped. */
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`subscriber queue limit must be a positive integer, got ${limit}`);
  }

  /** Exposes the dropped-events counter on /metrics. */
  registerMetrics(registry: client.Registry): void {
    registry.registerMetric(this.dropped);
  }

  /** Counts weight dropped for a slow subscriber. */
  countDropped(weight: number): void {
    this.dropped.inc(weight);
  }

  /** Total weight dropped so far (for tests and reports). */
  async droppedTotal(): Promise<number> {
    return (await this.dropped.get()).values[0]?.value ?? 0;
  }

  /** A subscriber's own queue: bounded by `limit`, drops counted. */
  queue<T>(opts: SubscriberQueueOptions<T> = {}): DropOldestQueue<T> {
    return new DropOldestQueue<T>({
      capacity: this.limit,
      weigh: opts.weigh ?? weighEvent,
      onDrop: (weight) => this.countDropped(weight),
      onReturn: opts.onReturn,
    });
  }

  /** An async iterable that never makes its source wait: see the module comment. */
  bound<T>(source: AsyncIterable<T>): AsyncIterableIterator<T> {
    const it = source[Symbol.asyncIterator]();
    const queue = this.queue<T>({ onReturn: () => void it.return?.() });
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

  /**
   * The same pubsub, except that every subscription is bounded. `publish` is untouched (Yoga's
   * methods are closures, not `this`-bound), so replicas and the Redis event target behave as before.
   */
  boundPubSub<P extends PubSubLike>(pubsub: P): P {
    const subscribe = (...args: Parameters<P['subscribe']>): AsyncIterableIterator<unknown> => this.bound(pubsub.subscribe(...args));
    // Same signature as P's subscribe; the values are the source's, untouched.
    return { ...pubsub, subscribe } as P;
  }
}
