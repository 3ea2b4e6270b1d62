/**
 * PostgreSQL and Redis for the store and scale-out suites: URLs from the environment, a
 * reachability probe, and per-test isolation (a random PostgreSQL schema, dropped after; a
 * random Redis prefix, its keys deleted after).
 *
 * When a service is unreachable the suites are skipped with a console line, except under
 * CI=true, where a test asserting reachability fails instead.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

export const PG_URL = process.env.AI_MONITOR_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.AI_MONITOR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const IN_CI = process.env.CI === 'true';

/** Error text when PostgreSQL is unreachable, null when it answers. */
export async function probePostgres(url = PG_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Error text when Redis is unreachable, null when it answers. */
export async function probeRedis(url = REDIS_URL): Promise<string | null> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined); // the probe's result carries the error
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    client.disconnect();
  }
}

/** Logs why a suite is skipped (outside CI). */
export function noteSkip(suite: string, service: string, error: string | null): void {
  if (error && !IN_CI) console.log(`skipped "${suite}": ${service} unreachable (${error})`);
}

export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string, url = PG_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs one query on a short-lived connection. */
export async function pgQuery<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, args: unknown[] = [], url = PG_URL): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, args)).rows;
  } finally {
    await client.end();
  }
}

/** Deletes every Redis key under a test prefix (SCAN, bounded). */
export async function deleteRedisPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    for (let i = 0; i < 10_000; i++) {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    client.disconnect();
  }
}
