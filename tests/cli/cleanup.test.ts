/**
 * `ai-monitor cleanup` on a server's data directory, with the server running: records older
 * than the retention period (40 days here) go, recent ones stay; --dry-run only counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../helpers/server.js';
import { cli, ingest, record, storedCount } from './cli-helpers.js';

const DAY = 86_400_000;
let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
  const at = (daysAgo: number, i: number): string => new Date(Date.now() - daysAgo * DAY - i * 1000).toISOString();
  await ingest(server, [
    ...Array.from({ length: 8 }, (_, i) => record({ session_id: `old-${i % 2}`, timestamp: at(40, i), intent: 'old' })),
    ...Array.from({ length: 3 }, (_, i) => record({ session_id: 'mid', timestamp: at(10, i), intent: 'mid' })),
    ...Array.from({ length: 4 }, (_, i) => record({ session_id: 'new', timestamp: at(0, i), intent: 'new' })),
  ]);
});

afterAll(async () => {
  await server.stop();
  server.cleanup();
});

describe('ai-monitor cleanup', () => {
  it('counts without deleting with --dry-run', async () => {
    const r = await cli(['cleanup', '--data-dir', server.dataDir, '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/retention 30 days: data older than \d{4}-\d\d-\d\dT.* in .*realtime_monitoring\.db/);
    expect(r.stdout).toContain('found 8 interactions, 2 sessions, 0 alerts older than that');
    expect(r.stdout).toContain('dry run: nothing deleted');
    expect(await storedCount(server)).toBe(15);
  });

  it('keeps what is inside a longer retention (environment setting)', async () => {
    const r = await cli(['cleanup', '--data-dir', server.dataDir], { env: { AI_MONITOR_RETENTION_DAYS: '50' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('retention 50 days');
    expect(r.stdout).toContain('found 0 interactions, 0 sessions, 0 alerts');
    expect(r.stdout).toMatch(/removed 0 rows/);
    expect(await storedCount(server)).toBe(15);
  });

  it('removes records older than the retention period while the server runs', async () => {
    const r = await cli(['cleanup', '--data-dir', server.dataDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/removed [\d,]+ rows \(8 interactions, 2 sessions, 0 alerts, and their per-minute roll-ups\)/);
    expect(await storedCount(server)).toBe(7);
    // The server keeps serving and ingesting.
    await ingest(server, [record({ intent: 'after' })]);
    expect(await storedCount(server)).toBe(8);
  });

  it('honours --retention-days', async () => {
    const r = await cli(['cleanup', '--data-dir', server.dataDir, '--retention-days', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('found 3 interactions, 1 sessions, 0 alerts');
    expect(await storedCount(server)).toBe(5);
  });

  it.each([
    [['--retention-days', '0'], /--retention-days.*more than 0/],
    [['--retention-days', 'week'], /--retention-days.*expected a number/],
    [['--data-dir', '/nonexistent/ai-monitor'], /no database at \/nonexistent\/ai-monitor\/realtime_monitoring\.db/],
    [['--config', '/nonexistent/config.json'], /config file \/nonexistent\/config\.json does not exist/],
    [['--all'], /unknown option '--all'/],
  ])('refuses %j with exit 2', async (args, message) => {
    const r = await cli(['cleanup', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
