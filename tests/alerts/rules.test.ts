/**
 * The three rules driven across their thresholds through the real ingest paths (HTTP batch,
 * GraphQL, seed WebSocket): one alert per incident, cooldown, resolution, acknowledgement,
 * and the alertRaised / alertUpdated subscriptions over graphql-ws.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { gql, makeDataDir, startServer, type RunningServer } from '../helpers/app.js';
import { SeedClient } from '../helpers/seed-client.js';
import {
  ALERT_FIELDS,
  QUIET,
  Subscription,
  listAlerts,
  postInteractions,
  recordViaGraphql,
  records,
  sendSeedBatch,
  sleep,
  updateAlertConfig,
  waitFor,
  writeAlertConfig,
  type AlertView,
} from './support.js';

/** Long enough for the engine to have evaluated (it runs after every commit and every second). */
const SETTLE_MS = 1500;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(settings: Record<string, unknown>): Promise<RunningServer> {
  const dataDir = makeDataDir();
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  writeAlertConfig(dataDir, { ...QUIET, ...settings });
  const server = await startServer({ dataDir });
  cleanups.push(() => server.stop());
  return server;
}

function subscribe<T>(server: RunningServer, query: string): Subscription<T> {
  const sub = new Subscription<T>(server, query);
  cleanups.push(() => sub.close());
  return sub;
}

async function acknowledge(server: RunningServer, id: string) {
  return gql<{ acknowledgeAlert: AlertView }>(server, `mutation ($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }`, { id });
}

async function summary(server: RunningServer): Promise<{ open: number; unacknowledged: number }> {
  const res = await gql<{ alertSummary: { open: number; unacknowledged: number } }>(server, '{ alertSummary { open unacknowledged } }');
  return res.data!.alertSummary;
}

describe('high_error_rate (HTTP batch ingest)', () => {
  it('waits for the minimum sample, raises once, resolves, is acknowledged, and respects the cooldown', async () => {
    const server = await start({ error_rate_threshold: 10, min_sample_size: 20 });
    const raised = subscribe<{ alertRaised: AlertView }>(server, `subscription { alertRaised { ${ALERT_FIELDS} } }`);
    const updated = subscribe<{ alertUpdated: AlertView }>(server, `subscription { alertUpdated { ${ALERT_FIELDS} } }`);
    await raised.ready();

    // 10 of 10 failed, but 10 is below the minimum sample: no alert.
    await postInteractions(server, records(10, false));
    await sleep(SETTLE_MS);
    expect(await listAlerts(server)).toEqual([]);

    // 20 interactions, 50 % failed, above 10 %.
    await postInteractions(server, records(10, true));
    const [event] = await raised.waitForCount(1);
    const alert = event!.alertRaised;
    expect(alert).toMatchObject({ kind: 'high_error_rate', status: 'open', value: 50, threshold: 10, acknowledged: false, resolvedAt: null, delivery: [] });
    expect(alert.message).toMatch(/Error rate 50\.0 % over the last 5 minutes \(10 of 20 interactions failed\) is above the threshold of 10\.0 %/);
    expect(alert.details).toMatchObject({ windowMinutes: 5, count: 20, errors: 10 });
    expect(await summary(server)).toEqual({ open: 1, unacknowledged: 1 });

    // Still failing: the open alert stands, no second one.
    await postInteractions(server, records(5, false));
    await sleep(SETTLE_MS);
    expect((await listAlerts(server)).map((a) => a.id)).toEqual([alert.id]);
    // The card follows the incident: 15 of 25 = 60 %, its worst so far, beside the raise-time 50 %.
    const figures = await waitFor(async () => {
      const res = await gql<{ alert: { value: number; currentValue: number; peakValue: number; series: { value: number }[] } }>(
        server,
        'query ($id: ID!) { alert(id: $id) { value currentValue peakValue series { value } } }',
        { id: alert.id },
      );
      const a = res.data?.alert;
      return a && a.peakValue === 60 ? a : undefined;
    }, 'peakValue 60');
    expect(figures).toMatchObject({ value: 50, currentValue: 60, peakValue: 60 });
    expect(figures.series[0]!.value).toBe(50);

    // 15 of 225 = 6.7 %: the condition clears and the alert resolves.
    await postInteractions(server, records(200, true));
    const resolved = await waitFor(async () => updated.events.find((e) => e.alertUpdated.status === 'resolved')?.alertUpdated, 'alertUpdated (resolved)');
    expect(resolved.id).toBe(alert.id);
    expect(Date.parse(resolved.resolvedAt!)).toBeGreaterThanOrEqual(Date.parse(alert.raisedAt));
    expect(await listAlerts(server, { status: 'resolved' })).toHaveLength(1);
    expect(await summary(server)).toEqual({ open: 0, unacknowledged: 1 });

    // Acknowledge: stored, published, idempotent.
    const ack = await acknowledge(server, alert.id);
    expect(ack.errors).toBeUndefined();
    expect(ack.data!.acknowledgeAlert).toMatchObject({ id: alert.id, acknowledged: true, status: 'resolved' });
    const ackedAt = ack.data!.acknowledgeAlert.acknowledgedAt;
    expect(ackedAt).not.toBeNull();
    await waitFor(async () => updated.events.some((e) => e.alertUpdated.acknowledged), 'alertUpdated (acknowledged)');
    const again = await acknowledge(server, alert.id);
    expect(again.data!.acknowledgeAlert.acknowledgedAt).toBe(ackedAt);
    expect(await summary(server)).toEqual({ open: 0, unacknowledged: 0 });
    expect(await listAlerts(server, { acknowledged: true })).toHaveLength(1);
    expect(await listAlerts(server, { acknowledged: false })).toHaveLength(0);

    // The condition holds again within the 10-minute cooldown: nothing new.
    await postInteractions(server, records(100, false));
    await sleep(SETTLE_MS);
    expect(await listAlerts(server, { kind: 'high_error_rate' })).toHaveLength(1);

    // A shorter cooldown, applied without restart: the still-failing window raises a new alert.
    const res = await updateAlertConfig(server, { alertCooldownMinutes: 0.01 });
    expect(res.errors).toBeUndefined();
    await raised.waitForCount(2);
    const all = await listAlerts(server, { kind: 'high_error_rate' });
    expect(all).toHaveLength(2);
    expect(all[0]!.status).toBe('open');
    expect(all[0]!.id).not.toBe(alert.id);
  });

  it('acknowledging an unknown alert is a clear error', async () => {
    const server = await start({});
    const res = await acknowledge(server, '01NOSUCHALERT');
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]?.message).toMatch(/no alert "01NOSUCHALERT"/);
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('resolves without traffic when the window slides past the failures', async () => {
    const server = await start({ error_rate_threshold: 10, min_sample_size: 5, window_minutes: 0.05 });
    await postInteractions(server, records(5, false));
    const [alert] = await waitFor(async () => {
      const list = await listAlerts(server);
      return list.length > 0 && list;
    }, 'the alert');
    expect(alert!.kind).toBe('high_error_rate');
    const resolved = await waitFor(async () => {
      const list = await listAlerts(server, { status: 'resolved' });
      return list[0];
    }, 'resolution as the 3-second window empties');
    expect(resolved.id).toBe(alert!.id);
  });

  it('raises nothing while disabled, and raises at once when enabled again', async () => {
    const server = await start({ error_rate_threshold: 10, min_sample_size: 5, enabled: false });
    await postInteractions(server, records(10, false));
    await sleep(SETTLE_MS);
    expect(await listAlerts(server)).toEqual([]);
    expect((await updateAlertConfig(server, { enabled: true })).errors).toBeUndefined();
    const alert = await waitFor(async () => (await listAlerts(server))[0], 'the alert after enabling');
    expect(alert.kind).toBe('high_error_rate');
  });
});

describe('slow_response (GraphQL recordInteractions)', () => {
  it('raises when the window p95 crosses the threshold and resolves when it falls back', async () => {
    const server = await start({ response_time_threshold: 1000, min_sample_size: 10 });
    const raised = subscribe<{ alertRaised: AlertView }>(server, `subscription { alertRaised { id kind value threshold message } }`);
    await raised.ready();

    expect(await recordViaGraphql(server, records(9, true, { response_time_ms: 5000 }))).toBe(9);
    await sleep(SETTLE_MS);
    expect(await listAlerts(server)).toEqual([]);

    await recordViaGraphql(server, records(1, true, { response_time_ms: 5000 }));
    const [event] = await raised.waitForCount(1);
    const alert = event!.alertRaised;
    expect(alert.kind).toBe('slow_response');
    expect(alert.threshold).toBe(1000);
    // Percentiles come from log buckets (about 4 % relative error).
    expect(alert.value).toBeGreaterThan(4700);
    expect(alert.value).toBeLessThan(5300);
    expect(alert.message).toMatch(/p95 response time .* ms over the last 5 minutes \(10 interactions\) is above the threshold of 1,000 ms/);

    await recordViaGraphql(server, records(200, true, { response_time_ms: 100 }));
    const resolved = await waitFor(async () => (await listAlerts(server, { status: 'resolved' }))[0], 'resolution');
    expect(resolved.id).toBe(alert.id);
    expect(await listAlerts(server)).toHaveLength(1);
  });
});

describe('consecutive_errors (seed WebSocket)', () => {
  it('counts failures in a row across batches, raises once per incident and again only after the cooldown', async () => {
    const server = await start({ consecutive_errors_threshold: 3, alert_cooldown_minutes: 0.1 });
    const seed = await SeedClient.connect(`${server.wsUrl}/`);
    cleanups.push(() => seed.close());

    await sendSeedBatch(seed, records(2, false));
    await sendSeedBatch(seed, records(1, true));
    await sendSeedBatch(seed, records(2, false));
    await sleep(SETTLE_MS);
    expect(await listAlerts(server)).toEqual([]);

    // The third failure in a row, in a later batch.
    await sendSeedBatch(seed, records(1, false, { error_type: 'tool_failure' }));
    const first = await waitFor(async () => (await listAlerts(server))[0], 'the consecutive_errors alert');
    expect(first).toMatchObject({ kind: 'consecutive_errors', status: 'open', value: 3, threshold: 3 });
    expect(first.message).toMatch(/^3 interactions failed in a row \(threshold 3\); last error: tool_failure$/);
    expect(first.details).toMatchObject({ streak: 3, errorTypes: ['timeout', 'tool_failure'] });
    expect((first.details.interactionIds as string[]).length).toBe(3);

    await sendSeedBatch(seed, records(2, false));
    await sleep(SETTLE_MS);
    expect(await listAlerts(server)).toHaveLength(1);

    // A success breaks the streak: resolved.
    await sendSeedBatch(seed, records(1, true));
    await waitFor(async () => (await listAlerts(server, { status: 'resolved' }))[0], 'resolution after a success');

    // A new streak within the 6-second cooldown: not raised yet...
    await sendSeedBatch(seed, records(3, false));
    await sleep(SETTLE_MS);
    const during = await listAlerts(server);
    expect(during).toHaveLength(1);
    // ...but raised once the cooldown is over, the streak still unbroken.
    const second = await waitFor(async () => (await listAlerts(server, { status: 'open' }))[0], 'the alert after the cooldown', 15_000);
    expect(second.id).not.toBe(first.id);
    expect(Date.parse(second.raisedAt) - Date.parse(first.raisedAt)).toBeGreaterThanOrEqual(6000);
    expect(await listAlerts(server)).toHaveLength(2);
  });

  it('a streak that ends inside the batch that completed it raises and resolves at once', async () => {
    const server = await start({ consecutive_errors_threshold: 3 });
    const seed = await SeedClient.connect(`${server.wsUrl}/`);
    cleanups.push(() => seed.close());
    await sendSeedBatch(seed, [...records(4, false), ...records(1, true)]);
    const alert = await waitFor(async () => (await listAlerts(server, { status: 'resolved' }))[0], 'a raised-then-resolved alert');
    expect(alert).toMatchObject({ kind: 'consecutive_errors', value: 4 });
  });
});
