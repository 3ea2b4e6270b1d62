/** Acknowledged records survive SIGKILL; schema versions are checked at start. */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { gql, makeDataDir, startServer } from '../helpers/server.js';
import { SeedClient, seedRecord } from '../helpers/seed-client.js';

describe('durability', () => {
  it('keeps every acknowledged record after SIGKILL and restart', async () => {
    const dataDir = makeDataDir();
    const first = await startServer({ dataDir });
    const c = await SeedClient.connect(`${first.wsUrl}/`);
    const acked = new Set<string>();
    c.ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; ids?: string[] };
      if (m.type === 'ack') for (const id of m.ids ?? []) acked.add(id);
    });
    for (let i = 0; i < 200; i++) {
      c.send({ type: 'metrics_batch', data: Array.from({ length: 10 }, (_, k) => seedRecord({ id: `k-${i}-${k}`, session_id: 'kill' })) });
    }
    await expect.poll(() => acked.size, { timeout: 20_000 }).toBeGreaterThanOrEqual(500);
    await first.kill();
    const ackedAtKill = new Set(acked);
    const second = await startServer({ dataDir });
    const count = await gql<{ session: { interactionCount: number } }>(second, '{ session(id: "kill") { interactionCount } }');
    expect(count.data!.session.interactionCount).toBeGreaterThanOrEqual(ackedAtKill.size);
    for (const id of [...ackedAtKill].slice(0, 50)) {
      const r = await gql<{ interaction: { id: string } | null }>(second, 'query ($id: ID!) { interaction(id: $id) { id } }', { id });
      expect(r.data!.interaction?.id).toBe(id);
    }
    await second.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a database written by a newer version with a clear message and leaves it untouched', async () => {
    const dataDir = makeDataDir();
    const s = await startServer({ dataDir });
    await s.stop();
    const dbFile = join(dataDir, 'realtime_monitoring.db');
    const db = new Database(dbFile);
    db.pragma('user_version = 99');
    db.close();
    await expect(startServer({ dataDir })).rejects.toThrow(/schema version 99, newer than this ai-monitor supports/);
    const again = new Database(dbFile, { readonly: true });
    expect(again.pragma('user_version', { simple: true })).toBe(99);
    again.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports an unreachable database on /health with 503', async () => {
    const s = await startServer();
    expect(await (await fetch(`${s.url}/health`)).json()).toMatchObject({ status: 'healthy', database: true, connections: 0 });
    rmSync(join(s.dataDir, 'realtime_monitoring.db'));
    const res = await fetch(`${s.url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unhealthy', database: false });
    await s.stop();
    s.cleanup();
  });
});
