/** Alerts survive a restart (open alerts and cooldowns restored), and retention removes old ones. */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDataDir, startServer, type RunningServer } from '../helpers/app.js';
import { getAlert, listAlerts, postInteractions, records, sleep, waitFor, writeAlertConfig } from './support.js';

const SETTINGS = {
  error_rate_threshold: 10,
  response_time_threshold: 86_400_000,
  consecutive_errors_threshold: 3,
  alert_cooldown_minutes: 10,
  enabled: true,
  webhook_url: null,
  email_notifications: false,
  window_minutes: 5,
  min_sample_size: 5,
};

const SETTLE_MS = 1500;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dataDir(): string {
  const dir = makeDataDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dir: string, args?: string[]): Promise<RunningServer> {
  const server = await startServer({ dataDir: dir, args });
  cleanups.push(() => server.stop());
  return server;
}

describe('alerts across a restart', () => {
  it('keeps stored alerts, restores the open ones and the cooldowns', async () => {
    const dir = dataDir();
    writeAlertConfig(dir, SETTINGS);
    const first = await start(dir);

    // 5 failures: 100 % error rate and 5 in a row, then a success ends the streak.
    await postInteractions(first, records(5, false));
    await waitFor(async () => (await listAlerts(first)).length === 2 && true, 'both alerts');
    await postInteractions(first, records(1, true));
    await waitFor(async () => (await listAlerts(first, { status: 'resolved' }))[0], 'the streak alert resolved');
    const before = await listAlerts(first);
    await first.stop();

    const second = await start(dir);
    const after = await listAlerts(second);
    expect(after.map((a) => [a.id, a.kind, a.status])).toEqual(before.map((a) => [a.id, a.kind, a.status]));
    const rate = after.find((a) => a.kind === 'high_error_rate')!;
    expect(rate.status).toBe('open');

    // The window is restored from the stored roll-ups: the rate alert stays open, no duplicate.
    await sleep(SETTLE_MS);
    expect((await getAlert(second, rate.id))!.status).toBe('open');
    expect(await listAlerts(second, { kind: 'high_error_rate' })).toHaveLength(1);

    // A new streak within the restored 10-minute cooldown raises nothing.
    await postInteractions(second, records(3, false));
    await sleep(SETTLE_MS);
    expect(await listAlerts(second, { kind: 'consecutive_errors' })).toHaveLength(1);

    // The restored open alert still resolves when its condition clears.
    await postInteractions(second, records(200, true));
    const resolved = await waitFor(async () => {
      const a = await getAlert(second, rate.id);
      return a?.status === 'resolved' ? a : null;
    }, 'the restored alert resolved');
    expect(resolved.resolvedAt).not.toBeNull();
  });

  it('restores an unbroken error streak, so its open alert is not resolved by the restart', async () => {
    const dir = dataDir();
    writeAlertConfig(dir, { ...SETTINGS, error_rate_threshold: 100 });
    const first = await start(dir);
    await postInteractions(first, records(4, false));
    const alert = await waitFor(async () => (await listAlerts(first))[0], 'the streak alert');
    await first.stop();

    const second = await start(dir);
    await sleep(SETTLE_MS);
    expect((await getAlert(second, alert.id))!.status).toBe('open');
    await postInteractions(second, records(1, true));
    await waitFor(async () => (await getAlert(second, alert.id))?.status === 'resolved', 'resolution after a success');
  });
});

describe('retention', () => {
  it('deletes alerts older than the retention period', async () => {
    const dir = dataDir();
    writeAlertConfig(dir, { ...SETTINGS, error_rate_threshold: 100 });
    // Retention of about 2.6 seconds, checked every 0.6 seconds (the first run 5 s after start).
    const configFile = join(dir, 'server.json');
    writeFileSync(configFile, JSON.stringify({ retentionDays: 0.00003, retentionIntervalMinutes: 0.01 }));
    const server = await start(dir, ['--config', configFile]);

    await postInteractions(server, [...records(3, false), ...records(1, true)]);
    const alert = await waitFor(async () => (await listAlerts(server, { status: 'resolved' }))[0], 'a resolved alert');
    expect(await getAlert(server, alert.id)).not.toBeNull();

    await waitFor(async () => (await getAlert(server, alert.id)) === null, 'retention to remove the alert', 20_000);
    expect(await listAlerts(server)).toEqual([]);
  });
});
