/**
 * The Redis pieces on their own (compiled modules, real Redis): the cluster event target
 * (fan-out between two "replicas", prefix isolation) and the alert coordinator (one winner
 * per cooldown across instances, restore, one-off claims).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPubSub } from 'graphql-yoga';
import { connectRedis, RedisConnectError, type RedisConnections } from '../../apps/api/dist/pubsub/redis.js';
import { RedisAlertCoordinator } from '../../apps/api/dist/alerts/coordinator-redis.js';
import { createLogger } from '../../apps/api/dist/log/logger.js';
import { IN_CI, REDIS_URL, deleteRedisPrefix, noteSkip, probeRedis, randomName } from '../helpers/services.js';

const redisError = await probeRedis();
noteSkip('scale-out: Redis pub/sub and alert coordination', 'Redis', redisError);

describe.runIf(IN_CI)('Redis service', () => {
  it('Redis is reachable (required when CI=true)', () => {
    expect(redisError, `Redis at ${REDIS_URL} (AI_MONITOR_TEST_REDIS_URL) is unreachable`).toBeNull();
  });
});

const logger = createLogger({ level: 'silent' });
const opened: RedisConnections[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
  while (prefixes.length) await deleteRedisPrefix(prefixes.pop()!);
});

async function connect(prefix: string): Promise<RedisConnections> {
  const c = await connectRedis({ url: REDIS_URL, prefix, logger });
  opened.push(c);
  return c;
}

function freshPrefix(): string {
  const p = randomName('aimredis');
  prefixes.push(p);
  return p;
}

type Topics = { interactions: [records: { id: string }[]] };

/** Collects the events of one topic. */
function listen(pubsub: ReturnType<typeof createPubSub<Topics>>): { got: { id: string }[][]; stop: () => Promise<unknown> } {
  const got: { id: string }[][] = [];
  const it = pubsub.subscribe('interactions');
  void (async () => {
    for await (const e of it) got.push(e);
  })();
  return { got, stop: () => it.return?.() ?? Promise.resolve() };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(redisError !== null)('scale-out: Redis pub/sub and alert coordination', () => {
  it('fans events out to every replica of a prefix, in one order, and never across prefixes', async () => {
    const prefix = freshPrefix();
    const a = createPubSub<Topics>({ eventTarget: (await connect(prefix)).eventTarget });
    const b = createPubSub<Topics>({ eventTarget: (await connect(prefix)).eventTarget });
    const other = createPubSub<Topics>({ eventTarget: (await connect(freshPrefix())).eventTarget });
    const onA = listen(a);
    const onB = listen(b);
    const onOther = listen(other);
    // Subscriptions are asynchronous in Redis: publish probes until both replicas hear one.
    for (let i = 0; i < 100 && (onA.got.length === 0 || onB.got.length === 0); i++) {
      a.publish('interactions', [{ id: `probe-${i}` }]);
      await new Promise((r) => setTimeout(r, 25));
    }
    const base = { a: onA.got.length, b: onB.got.length };
    for (let i = 0; i < 20; i++) (i % 2 ? a : b).publish('interactions', [{ id: `e${i}` }]);
    await until(() => onA.got.length >= base.a + 20 && onB.got.length >= base.b + 20, 'twenty events on both');
    const ids = (got: { id: string }[][]) => got.flat().map((r) => r.id).filter((id) => id.startsWith('e'));
    // Every replica sees one and the same order (what the alert engine relies on); each
    // publisher's events keep their order; the two publishers interleave as Redis received them.
    expect(ids(onB.got)).toEqual(ids(onA.got));
    expect([...ids(onA.got)].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`).sort());
    const n = (id: string): number => Number(id.slice(1));
    for (const parity of [0, 1]) {
      const mine = ids(onA.got).map(n).filter((x) => x % 2 === parity);
      expect(mine).toEqual([...mine].sort((x, y) => x - y));
    }
    expect(onOther.got).toEqual([]);
    await Promise.all([onA.stop(), onB.stop(), onOther.stop()]);
  });

  it('fails fast with a clear error when Redis is unreachable', async () => {
    await expect(connectRedis({ url: 'redis://127.0.0.1:1', prefix: 'x', logger, connectTimeoutMs: 1000 })).rejects.toBeInstanceOf(RedisConnectError);
    await expect(connectRedis({ url: 'redis://127.0.0.1:1', prefix: 'x', logger, connectTimeoutMs: 1000 })).rejects.toThrow(/AI_MONITOR_REDIS_URL/);
  });

  it('grants each alert kind to exactly one replica per cooldown', async () => {
    const prefix = freshPrefix();
    const coordinators = await Promise.all([0, 1, 2].map(async () => {
      const c = await connect(prefix);
      return new RedisAlertCoordinator(c.command, c.prefix);
    }));
    const now = Date.now();
    const wins = await Promise.all(coordinators.flatMap((c) => [c.tryAcquire('consecutive_errors', 60_000, now), c.tryAcquire('consecutive_errors', 60_000, now)]));
    expect(wins.filter(Boolean)).toHaveLength(1);
    // Another kind has its own cooldown.
    expect(await coordinators[1]!.tryAcquire('slow_response', 60_000, now)).toBe(true);
    // A cooldown of 0 (well, the engine's 1 s minimum) lets the next raise through once it elapsed.
    expect(await coordinators[2]!.tryAcquire('high_error_rate', 1, now)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(await coordinators[0]!.tryAcquire('high_error_rate', 1, now)).toBe(true);
  });

  it('restores a cooldown from a stored alert and keeps the newest', async () => {
    const prefix = freshPrefix();
    const c = await connect(prefix);
    const coordinator = new RedisAlertCoordinator(c.command, c.prefix);
    const now = Date.now();
    await coordinator.restore('slow_response', now - 10_000);
    await coordinator.restore('slow_response', now - 3_600_000); // older: ignored
    expect(await coordinator.tryAcquire('slow_response', 60_000, now)).toBe(false);
    expect(await coordinator.tryAcquire('slow_response', 5_000, now)).toBe(true);
  });

  it('lets exactly one replica claim a one-off action', async () => {
    const prefix = freshPrefix();
    const coordinators = await Promise.all([0, 1].map(async () => {
      const c = await connect(prefix);
      return new RedisAlertCoordinator(c.command, c.prefix);
    }));
    const claims = await Promise.all([...coordinators, ...coordinators].map((c) => c.tryClaim('resolve:alert-1', 60_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await coordinators[0]!.tryClaim('resolve:alert-2', 60_000)).toBe(true);
  });
});
