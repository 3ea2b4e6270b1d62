/**
 * Helpers of the scale-out suites: replicas (real server processes) sharing one PostgreSQL
 * schema and one Redis prefix, graphql-ws subscriptions, and bounded waits on behaviour.
 */
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { makeDataDir, startServer, gql, type RunningServer } from '../helpers/server.js';
import { PG_URL, REDIS_URL, deleteRedisPrefix, dropSchema, randomName } from '../helpers/services.js';

export interface Cluster {
  schema: string;
  prefix: string;
  replicas: RunningServer[];
  /** Starts one more replica on the shared schema and prefix. */
  add(opts?: ReplicaOptions): Promise<RunningServer>;
  /** Stops every replica (SIGTERM unless already dead), drops the schema and the Redis keys. */
  close(): Promise<void>;
}

export interface ReplicaOptions {
  /** Called with the fresh data directory before the process starts (e.g. to write alert_config.json). */
  prepare?: (dataDir: string) => void;
  env?: Record<string, string>;
}

export function clusterEnv(schema: string, prefix: string): Record<string, string> {
  return {
    AI_MONITOR_STORAGE: 'postgres',
    AI_MONITOR_DATABASE_URL: PG_URL,
    AI_MONITOR_DATABASE_SCHEMA: schema,
    AI_MONITOR_REDIS_URL: REDIS_URL,
    AI_MONITOR_REDIS_PREFIX: prefix,
    AI_MONITOR_LOG_LEVEL: 'info',
  };
}

/** `n` replicas, started one after the other (the first migrates the schema). */
export async function startCluster(n: number, opts: ReplicaOptions = {}): Promise<Cluster> {
  const schema = randomName('aim_scale');
  const prefix = randomName('aimscale');
  const replicas: RunningServer[] = [];
  const dirs: string[] = [];
  const add = async (o: ReplicaOptions = opts): Promise<RunningServer> => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    o.prepare?.(dataDir);
    const server = await startServer({ dataDir, env: { ...clusterEnv(schema, prefix), ...o.env } });
    replicas.push(server);
    return server;
  };
  const cluster: Cluster = {
    schema,
    prefix,
    replicas,
    add,
    async close() {
      await Promise.allSettled(replicas.map((r) => r.stop()));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await dropSchema(schema);
      await deleteRedisPrefix(prefix);
    },
  };
  try {
    for (let i = 0; i < n; i++) await add();
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 50 ms until it returns a truthy value; fails after `timeoutMs`. */
export async function waitUntil<T>(probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A graphql-ws subscription collecting its events. */
export class Sub<T> {
  readonly events: T[] = [];
  readonly errors: unknown[] = [];
  private readonly client: Client;
  private readonly unsubscribe: () => void;

  constructor(server: RunningServer, query: string, variables?: Record<string, unknown>) {
    this.client = createClient({ url: `${server.wsUrl}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    this.unsubscribe = this.client.subscribe<T>(
      { query, variables },
      {
        next: (v) => {
          if (v.errors) this.errors.push(v.errors);
          if (v.data) this.events.push(v.data);
        },
        error: (e) => this.errors.push(e),
        complete: () => undefined,
      },
    );
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.client.dispose();
  }
}

/**
 * Makes sure a subscription is live before the real test traffic: graphql-ws has no
 * acknowledgement for a subscription, so `poke` sends traffic until the first event arrives.
 */
export async function untilLive(sub: Sub<unknown>, poke: () => Promise<void>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await poke();
    const deadline = Date.now() + 200;
    while (Date.now() < deadline) {
      if (sub.events.length > 0) return;
      await sleep(20);
    }
  }
  throw new Error(`subscription ${what} never delivered: ${JSON.stringify(sub.errors)}`);
}

/** A seed record (snake_case), received now unless a timestamp is given. */
export function seedRecord(i: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    session_id: `scale-${i % 5}`,
    user_input: `question ${i}`,
    intent: 'search',
    tools_used: [{ tool: 'web', params: { q: i } }],
    response_time_ms: 100 + i,
    success: true,
    error_type: null,
    ...over,
  };
}

/** GraphQL `recordInteractions`; resolves with the stored ids after commit. */
export async function recordViaGraphql(server: RunningServer, inputs: Record<string, unknown>[]): Promise<string[]> {
  const res = await gql<{ recordInteractions: { acceptedCount: number; results: { accepted: boolean; id: string | null }[] } }>(
    server,
    'mutation ($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { acceptedCount results { accepted id } } }',
    { inputs },
  );
  if (res.errors) throw new Error(`recordInteractions failed: ${JSON.stringify(res.errors)}`);
  const { acceptedCount, results } = res.data!.recordInteractions;
  if (acceptedCount !== inputs.length) throw new Error(`recordInteractions accepted ${acceptedCount} of ${inputs.length}: ${JSON.stringify(results)}`);
  return results.map((r) => r.id!);
}

/** Every stored interaction id, read from `server` through relay pagination (bounded). */
export async function storedIds(server: RunningServer): Promise<Set<string>> {
  const ids = new Set<string>();
  let after: string | null = null;
  for (let page = 0; page < 500; page++) {
    const res = await gql<{ interactions: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
      server,
      'query ($after: String) { interactions(first: 200, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }',
      { after },
    );
    if (res.errors) throw new Error(`interactions query failed: ${JSON.stringify(res.errors)}`);
    for (const e of res.data!.interactions.edges) ids.add(e.node.id);
    if (!res.data!.interactions.pageInfo.hasNextPage) return ids;
    after = res.data!.interactions.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

/** `metrics(window)` of one replica. */
export async function metricsCount(server: RunningServer, window = '1h'): Promise<{ count: number; errors: number }> {
  const res = await gql<{ metrics: { count: number; errors: number } }>(server, `{ metrics(window: "${window}") { count errors } }`);
  if (res.errors) throw new Error(`metrics query failed: ${JSON.stringify(res.errors)}`);
  return res.data!.metrics;
}
