/**
 * Notifications against real endpoints on loopback: a webhook sink (answering, failing then
 * answering, refusing, never answering) and an SMTP server. Delivery outcomes are stored on
 * the alert and published on alertUpdated; a hanging webhook never slows ingest.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { gql, makeDataDir, startServer, type RunningServer } from '../helpers/server.js';
import { SeedClient } from '../helpers/seed-client.js';
import {
  ALERT_FIELDS,
  Subscription,
  getAlert,
  listAlerts,
  postInteractions,
  records,
  sendSeedBatch,
  startSmtpSink,
  startWebhookSink,
  waitFor,
  writeAlertConfig,
  type AlertView,
  type SinkBehaviour,
} from './support.js';

/** Only consecutive_errors can fire (after 2 failures in a row). */
const BASE = {
  error_rate_threshold: 100,
  response_time_threshold: 86_400_000,
  consecutive_errors_threshold: 2,
  alert_cooldown_minutes: 10,
  enabled: true,
  webhook_url: null,
  email_notifications: false,
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(settings: Record<string, unknown>, env?: Record<string, string>): Promise<RunningServer> {
  const dataDir = makeDataDir();
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  writeAlertConfig(dataDir, { ...BASE, ...settings });
  const server = await startServer({ dataDir, env });
  cleanups.push(() => server.stop());
  return server;
}

async function sink(behaviour: SinkBehaviour) {
  const s = await startWebhookSink(behaviour);
  cleanups.push(() => s.close());
  return s;
}

/** Raises one consecutive_errors alert and returns it. */
async function raiseAlert(server: RunningServer): Promise<AlertView> {
  await postInteractions(server, records(2, false));
  return waitFor(async () => (await listAlerts(server))[0], 'the alert');
}

async function deliveredAlert(server: RunningServer, id: string, channels = 1, timeoutMs = 10_000): Promise<AlertView> {
  return waitFor(async () => {
    const a = await getAlert(server, id);
    return a && a.delivery.length >= channels ? a : null;
  }, `the delivery outcome of alert ${id}`, timeoutMs);
}

describe('webhook', () => {
  it('POSTs a JSON body with a readable text field and the structured alert, and records the outcome', async () => {
    const hook = await sink(() => ({ status: 200, body: 'ok' }));
    const server = await start({ webhook_url: hook.url });
    const updates = new Subscription<{ alertUpdated: AlertView }>(server, `subscription { alertUpdated { ${ALERT_FIELDS} } }`);
    cleanups.push(() => updates.close());
    await updates.ready();

    const alert = await raiseAlert(server);
    const done = await deliveredAlert(server, alert.id);
    expect(done.delivery).toEqual([{ channel: 'webhook', ok: true, attempts: 1, at: expect.any(String), detail: 'HTTP 200: ok' }]);

    expect(hook.requests).toHaveLength(1);
    const req = hook.requests[0]!;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toEqual({
      text: `[ai-monitor] Consecutive errors: ${alert.message}`,
      id: alert.id,
      kind: 'consecutive_errors',
      status: 'open',
      message: alert.message,
      value: 2,
      threshold: 2,
      raisedAt: alert.raisedAt,
      details: alert.details,
    });
    const [event] = await updates.waitForCount(1);
    expect(event!.alertUpdated).toMatchObject({ id: alert.id, delivery: [{ channel: 'webhook', ok: true, attempts: 1 }] });
  });

  it('retries with back-off: fails twice, then succeeds on the third attempt', async () => {
    const hook = await sink((n) => (n <= 2 ? { status: 500, body: 'busy' } : { status: 204 }));
    const server = await start({ webhook_url: hook.url });
    const alert = await raiseAlert(server);
    const done = await deliveredAlert(server, alert.id);
    expect(done.delivery).toEqual([{ channel: 'webhook', ok: true, attempts: 3, at: expect.any(String), detail: 'HTTP 204' }]);
    expect(hook.requests).toHaveLength(3);
    expect(hook.requests.every((r) => r.body.id === alert.id)).toBe(true);
    // Exponential back-off: the second wait is longer than the first.
    const [a, b, c] = hook.requests.map((r) => r.at) as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(400);
    expect(c - b).toBeGreaterThanOrEqual(900);
  });

  it('does not retry a request the endpoint refuses (4xx)', async () => {
    const hook = await sink(() => ({ status: 404, body: 'no such hook' }));
    const server = await start({ webhook_url: hook.url });
    const alert = await raiseAlert(server);
    const done = await deliveredAlert(server, alert.id);
    expect(done.delivery).toEqual([{ channel: 'webhook', ok: false, attempts: 1, at: expect.any(String), detail: 'HTTP 404: no such hook' }]);
    expect(hook.requests).toHaveLength(1);
  });

  it('records a failure when nothing listens at the URL', async () => {
    const hook = await sink(() => ({ status: 200 }));
    const url = hook.url;
    await hook.close();
    const server = await start({ webhook_url: url });
    const alert = await raiseAlert(server);
    const done = await deliveredAlert(server, alert.id, 1, 20_000);
    expect(done.delivery[0]).toMatchObject({ channel: 'webhook', ok: false, attempts: 3 });
    expect(done.delivery[0]!.detail).toMatch(/ECONNREFUSED/);
  });

  it('times out a webhook that never answers, after 3 attempts, while ingest goes on unhindered', async () => {
    const hook = await sink(() => 'hang');
    const server = await start({ webhook_url: hook.url });
    const seed = await SeedClient.connect(`${server.wsUrl}/`);
    cleanups.push(() => seed.close());

    const alert = await raiseAlert(server);
    await waitFor(async () => hook.requests.length >= 1, 'the first webhook request');

    // While the sink hangs: 40 batches of 25 through the seed socket, each acknowledged.
    let acked = 0;
    for (let i = 0; i < 40; i++) {
      const reply = await sendSeedBatch(seed, records(25, true));
      expect(reply.type).toBe('ack');
      acked += 25;
    }
    expect(acked).toBe(1000);
    const stored = await gql<{ metrics: { count: number } }>(server, '{ metrics(window: "1h") { count } }');
    expect(stored.data!.metrics.count).toBe(1002);
    // The delivery is still pending: nothing recorded yet.
    expect((await getAlert(server, alert.id))!.delivery).toEqual([]);

    const done = await deliveredAlert(server, alert.id, 1, 40_000);
    expect(done.delivery).toEqual([{ channel: 'webhook', ok: false, attempts: 3, at: expect.any(String), detail: 'timed out after 5 s' }]);
    expect(hook.requests).toHaveLength(3);
  });
});

describe('webhook at shutdown', () => {
  it('a hanging delivery does not hold the server up: it is cut short and recorded', async () => {
    const hook = await sink(() => 'hang');
    const dir = makeDataDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeAlertConfig(dir, { ...BASE, webhook_url: hook.url });
    const first = await startServer({ dataDir: dir });
    const alert = await raiseAlert(first);
    await waitFor(async () => hook.requests.length >= 1, 'the webhook request');
    await first.stop();
    expect(first.proc.exitCode).toBe(0);

    const second = await startServer({ dataDir: dir });
    cleanups.push(() => second.stop());
    const stored = (await getAlert(second, alert.id))!;
    expect(stored.delivery).toHaveLength(1);
    expect(stored.delivery[0]).toMatchObject({ channel: 'webhook', ok: false, attempts: 1 });
    expect(stored.delivery[0]!.detail).toBe('interrupted: the server is shutting down');
  });
});

describe('email', () => {
  it('sends the alert through SMTP and records the server response', async () => {
    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.close());
    const server = await start({
      email_notifications: true,
      smtp_url: smtp.url,
      email_to: ['oncall@example.com', 'lead@example.com'],
      email_from: 'monitor@example.com',
    });
    const alert = await raiseAlert(server);
    const done = await deliveredAlert(server, alert.id);
    expect(done.delivery).toHaveLength(1);
    expect(done.delivery[0]).toMatchObject({ channel: 'email', ok: true, attempts: 1 });
    expect(done.delivery[0]!.detail).toMatch(/^250 /);

    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.from).toBe('monitor@example.com');
    expect(mail.to).toEqual(['oncall@example.com', 'lead@example.com']);
    expect(mail.subject).toBe(`[ai-monitor] Consecutive errors: ${alert.message}`);
    expect(mail.body).toContain(alert.message);
    expect(mail.body).toContain(`Alert id:  ${alert.id}`);
    expect(mail.body).toContain('Kind:      consecutive_errors');
  });

  it('falls back to the SMTP settings of the environment, and sends webhook and email both', async () => {
    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.close());
    const hook = await sink(() => ({ status: 200 }));
    const server = await start(
      { email_notifications: true, webhook_url: hook.url },
      { AI_MONITOR_SMTP_URL: smtp.url, AI_MONITOR_ALERT_EMAIL_TO: 'ops@example.com', AI_MONITOR_ALERT_EMAIL_FROM: 'alerts@example.com' },
    );
    const alert = await raiseAlert(server);
    const done = await deliveredAlert(server, alert.id, 2);
    expect(done.delivery.map((d) => [d.channel, d.ok]).sort()).toEqual([
      ['email', true],
      ['webhook', true],
    ]);
    expect(smtp.mails[0]).toMatchObject({ from: 'alerts@example.com', to: ['ops@example.com'] });
  });

  it('records "not sent" when email is on but SMTP is not configured', async () => {
    const server = await start({ email_notifications: true });
    const alert = await raiseAlert(server);
    const done = await deliveredAlert(server, alert.id);
    expect(done.delivery).toEqual([
      { channel: 'email', ok: false, attempts: 0, at: expect.any(String), detail: expect.stringMatching(/^not sent: .*SMTP is not configured/) },
    ]);
  });
});
