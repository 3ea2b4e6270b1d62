/**
 * Alert coordination across replicas through Redis (see coordinator.ts for the contract).
 *
 * - Cooldown per alert kind: key `<prefix>alerts:last:<kind>` holds the epoch ms of the last
 *   raise. A Lua script compares and sets it atomically, so exactly one replica wins. It reads
 *   Redis's own clock: replicas whose clocks disagree by a second still never both raise.
 *   The cooldown is read at each check, so a cooldown edited in alert_config.json applies at
 *   once (a `SET NX PX` lock would keep the TTL it was created with).
 * - One-off claims (resolving an alert): `SET <prefix>alerts:claim:<key> NX PX ttl`.
 */
import type { Redis } from 'ioredis';
import type { AlertKind } from '@ai-monitor/schema';
import type { AlertCoordinator } from './coordinator.js';

/** KEYS[1]: last-raise key. ARGV[1]: cooldown ms. Returns 1 when this caller may raise. */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[1]))
if last and now - last < tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], now)
return 1`;

/** KEYS[1]: last-raise key. ARGV[1]: a raise time read from the store; kept when newer. */
const RESTORE = `
local last = tonumber(redis.call('GET', KEYS[1]))
if not last or tonumber(ARGV[1]) > last then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

export class RedisAlertCoordinator implements AlertCoordinator {
  /**
   * @param redis a connection not in subscriber mode (shared with the publisher; not closed here)
   * @param prefix key prefix ending with ':' (config.redisPrefix + ':')
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async tryAcquire(kind: AlertKind | `rule:${string}`, cooldownMs: number, _now: number): Promise<boolean> {
    const won = await this.redis.eval(ACQUIRE, 1, this.lastKey(kind), Math.max(0, Math.round(cooldownMs)));
    return won === 1;
  }

  async tryClaim(key: string, ttlMs: number): Promise<boolean> {
    const ok = await this.redis.set(`${this.prefix}alerts:claim:${key}`, '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
    return ok === 'OK';
  }

  async restore(kind: AlertKind, raisedAt: number): Promise<void> {
    await this.redis.eval(RESTORE, 1, this.lastKey(kind), Math.round(raisedAt));
  }

  /** The connection belongs to the server's Redis connections, which close it. */
  async close(): Promise<void> {}

  private lastKey(kind: string): string {
    return `${this.prefix}alerts:last:${kind}`;
  }
}
