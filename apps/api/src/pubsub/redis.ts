/**
 * Cluster pub/sub through Redis, so every replica sees every replica's events: an EventTarget
 * for Yoga's `createPubSub` over two ioredis connections (a subscriber connection can run
 * nothing else). It does what `@graphql-yoga/redis-event-target` does, plus two things that
 * package lacks: channels carry the configured prefix (deployments and tests sharing one
 * Redis never hear each other), and a failed PUBLISH is reported instead of surfacing as an
 * unhandled rejection that would end the process.
 */
import { Redis } from 'ioredis';
import { setMaxListeners } from 'node:events';
import type { Logger } from '../log/logger.js';
import { redactUrl } from '../config/redact.js';

export class RedisConnectError extends Error {
  override name = 'RedisConnectError';
}

export interface RedisConnections {
  /** Runs commands (PUBLISH, alert coordination); never in subscriber mode. */
  command: Redis;
  /** In subscriber mode: receives the cluster channels. */
  subscriber: Redis;
  /** The cluster pubsub's event target. */
  eventTarget: EventTarget;
  /** Key and channel prefix, ending with ':'. */
  prefix: string;
  close(): Promise<void>;
}

export interface RedisOptions {
  url: string;
  /** Configured prefix (config.redisPrefix); ':' is appended. */
  prefix: string;
  logger: Logger;
  connectTimeoutMs?: number;
}

/** Connects both clients (failing fast with a clear message) and builds the event target. */
export async function connectRedis(opts: RedisOptions): Promise<RedisConnections> {
  const prefix = `${opts.prefix}:`;
  const command = newClient(opts, 'command');
  const subscriber = newClient(opts, 'subscriber');
  let firstError: Error | null = null;
  const noteError = (err: Error): void => {
    firstError ??= err;
  };
  command.once('error', noteError);
  try {
    await Promise.all([command.connect(), subscriber.connect()]);
  } catch (err) {
    command.disconnect();
    subscriber.disconnect();
    // ioredis rejects with "Connection is closed"; the socket's own error says why.
    const reason = (firstError ?? (err as Error)).message;
    throw new RedisConnectError(`cannot connect to Redis at ${redactUrl(opts.url)} (AI_MONITOR_REDIS_URL): ${reason}`);
  } finally {
    command.off('error', noteError);
  }
  const eventTarget = new RedisEventTarget(command, subscriber, prefix, opts.logger);
  return {
    command,
    subscriber,
    eventTarget,
    prefix,
    async close() {
      await Promise.allSettled([command.quit(), subscriber.quit()]);
    },
  };
}

function newClient(opts: RedisOptions, role: string): Redis {
  const client = new Redis(opts.url, {
    lazyConnect: true,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    connectionName: `ai-monitor-${role}`,
    // Commands issued while Redis is away wait for the reconnection a bounded number of times.
    maxRetriesPerRequest: 3,
  });
  let reported = false;
  // ioredis reconnects by itself; log the first error of an outage, not every retry.
  client.on('error', (err: Error) => {
    if (reported) return;
    reported = true;
    opts.logger.warn({ err, role }, `Redis connection error (reconnecting): ${err.message}`);
  });
  client.on('ready', () => {
    if (reported) opts.logger.info({ role }, 'Redis connection restored');
    reported = false;
  });
  return client;
}


type Listener = EventListenerOrEventListenerObject;

/** The subset of EventTarget that Yoga's pubsub uses, with events travelling through Redis. */
class RedisEventTarget extends EventTarget {
  private readonly listeners = new Map<string, Set<Listener>>();
  private failures = 0;
  private lastFailureLog = 0;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {
    super();
    setMaxListeners(0, this);
    subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
  }

  override addEventListener(type: string, listener: Listener | null): void {
    if (!listener) return;
    let set = this.listeners.get(type);
    if (!set) {
      this.listeners.set(type, (set = new Set()));
      this.subscriber.subscribe(this.prefix + type).catch((err: unknown) => this.report('subscribe', type, err));
    }
    set.add(listener);
  }

  override removeEventListener(type: string, listener: Listener | null): void {
    const set = this.listeners.get(type);
    if (!set || !listener) return;
    set.delete(listener);
    if (set.size > 0) return;
    this.listeners.delete(type);
    this.subscriber.unsubscribe(this.prefix + type).catch((err: unknown) => this.report('unsubscribe', type, err));
  }

  override dispatchEvent(event: Event): boolean {
    const detail = (event as CustomEvent<unknown>).detail;
    this.publisher
      .publish(this.prefix + event.type, detail === undefined ? '' : JSON.stringify(detail))
      .catch((err: unknown) => this.report('publish', event.type, err));
    return true;
  }

  private deliver(channel: string, message: string): void {
    if (!channel.startsWith(this.prefix)) return;
    const type = channel.slice(this.prefix.length);
    const set = this.listeners.get(type);
    if (!set) return;
    let detail: unknown;
    try {
      detail = message === '' ? null : JSON.parse(message);
    } catch (err) {
      this.report('parse', type, err);
      return;
    }
    const event = new CustomEvent(type, { detail });
    for (const l of [...set]) {
      if (typeof l === 'function') l(event);
      else l.handleEvent(event);
    }
  }

  /** Failures are logged at most every 10 s with a count, so an outage does not flood the log. */
  private report(op: string, topic: string, err: unknown): void {
    this.failures++;
    const now = Date.now();
    if (now - this.lastFailureLog < 10_000) return;
    this.lastFailureLog = now;
    this.logger.error({ err, op, topic, failures: this.failures }, `Redis ${op} on "${topic}" failed; other replicas miss these events: ${(err as Error).message}`);
    this.failures = 0;
  }
}
