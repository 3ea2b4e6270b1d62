/** Retention: the server removes interactions, sessions and roll-ups older than the retention period. */
import { describe, expect, it } from 'vitest';
import { gql, startServer } from '../helpers/app.js';
import { SeedClient, seedRecord } from '../helpers/seed-client.js';

const DAY = 86_400_000;

describe('retention', () => {
  it('deletes data older than retentionDays in the background and keeps the rest', async () => {
    const server = await startServer({ env: { AI_MONITOR_RETENTION_DAYS: '30' } });
    const c = await SeedClient.connect(`${server.wsUrl}/`);
    const old = Array.from({ length: 50 }, (_, i) => seedRecord({ session_id: 'old', timestamp: new Date(Date.now() - 40 * DAY + i * 1000).toISOString() }));
    const recent = Array.from({ length: 5 }, () => seedRecord({ session_id: 'recent', timestamp: new Date(Date.now() - DAY).toISOString() }));
    expect((await c.request({ type: 'metrics_batch', data: [...old, ...recent] })).accepted).toBe(55);
    await c.close();
    const count = async (): Promise<number> => (await gql<{ metrics: { count: number } }>(server, '{ metrics(window: "60d") { count } }')).data!.metrics.count;
    expect(await count()).toBe(55);
    // The first retention pass runs a few seconds after start.
    await expect.poll(count, { timeout: 30_000, interval: 500 }).toBe(5);
    const r = await gql<{ old: unknown; recent: { interactionCount: number }; list: { edges: unknown[] } }>(
      server,
      '{ old: session(id: "old") { id } recent: session(id: "recent") { interactionCount } list: interactions(first: 100) { edges { cursor } } }',
    );
    expect(r.data!.old).toBeNull();
    expect(r.data!.recent.interactionCount).toBe(5);
    expect(r.data!.list.edges).toHaveLength(5);
    await server.stop();
    server.cleanup();
  });
});
