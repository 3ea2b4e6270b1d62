/**
 * SQLite reads run on reader threads: a long read holds up neither ingest acknowledgements nor
 * other reads, and a reader thread that dies fails its own query with a clear error and is
 * replaced while the server carries on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, gql, type RunningApp } from '../helpers/app.js';
import { SeedClient } from '../helpers/seed-client.js';
import { SqliteStore } from '../../apps/api/src/store/sqlite.js';
import { StoreError } from '../../apps/api/src/store/types.js';

/** A read that keeps one reader busy for seconds (about 3 s per 20 M steps). */
const HEAVY = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT count(*) AS n FROM c';

function record(i: number): Record<string, unknown> {
  return { session_id: `s${i}`, user_input: `question ${i}`, intent: 'chat', tools_used: [], response_time_ms: 10, success: true };
}

describe('SQLite reader threads', () => {
  let server: RunningApp | null = null;
  let dir: string | null = null;
  afterEach(async () => {
    await server?.stop();
    server?.cleanup();
    server = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('acknowledges seed records and answers other reads while a long read runs', async () => {
    server = await startServer();
    const store = server.app.services.store as SqliteStore;
    expect(store.readers).not.toBeNull();
    const seed = await SeedClient.connect(server.wsUrl);
    seed.send({ type: 'metrics', data: record(0) });
    expect((await seed.next()).type).toBe('ack');

    let heavyDone = false;
    const heavy = store.readers!.all(HEAVY, []).then((rows) => {
      heavyDone = true;
      return rows;
    });
    // Ingest while it runs: each acknowledgement (after commit) arrives before the read ends.
    for (let i = 1; i <= 5; i++) {
      seed.send({ type: 'metrics', data: record(i) });
      const reply = await seed.next();
      expect(reply.type).toBe('ack');
      expect(heavyDone).toBe(false);
    }
    // The second reader answers GraphQL meanwhile, and sees the records just acknowledged.
    const res = await gql(server, '{ interactions(first: 10) { edges { node { sessionId } } } }');
    expect(res.errors).toBeUndefined();
    expect((res.data as { interactions: { edges: unknown[] } }).interactions.edges).toHaveLength(6);
    expect(heavyDone).toBe(false);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(heavyDone).toBe(false);

    expect(await heavy).toEqual([{ n: 30_000_000 }]);
    seed.ws.close();
  });

  it('a reader thread that dies fails its query with a clear error and is replaced', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ai-monitor-readers-'));
    const store = new SqliteStore({ file: join(dir, 'db.sqlite'), readers: 1 });
    try {
      await store.migrate();
      // Ended abruptly mid-query (as a crash would end it).
      const before = store.readers!.threadIds;
      const pending = store.readers!.all(HEAVY, []).catch((e: unknown) => e);
      await store.readers!.killThread(0);
      const killed = await pending;
      // terminate() may only take effect once the native step returns: the query either completed or failed clearly.
      if (killed instanceof Error) expect(killed.message).toMatch(/reader thread stopped/);
      expect(await store.readers!.all('SELECT 2 AS two', [])).toEqual([{ two: 2 }]);
      expect(store.readers!.threadIds).not.toEqual(before);
    } finally {
      await store.close();
    }
  });

  it('reports SQL errors of a read as StoreError and keeps the thread', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ai-monitor-readers-'));
    const store = new SqliteStore({ file: join(dir, 'db.sqlite'), readers: 2 });
    try {
      await store.migrate();
      await expect(store.readers!.all('SELECT nope FROM interactions', [])).rejects.toThrow(/SQLite read failed: no such column: nope/);
      const ids = store.readers!.threadIds;
      expect(await store.readers!.all('SELECT count(*) AS n FROM interactions', [])).toEqual([{ n: 0 }]);
      expect(store.readers!.threadIds).toEqual(ids);
    } finally {
      await store.close();
    }
  });
});
