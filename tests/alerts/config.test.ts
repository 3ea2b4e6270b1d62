/** alert_config.json: defaults, validation at start, and editing through GraphQL (atomic write-back). */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gql, makeDataDir, startServer, type RunningServer } from '../helpers/server.js';
import { updateAlertConfig, writeAlertConfig } from './support.js';

const CONFIG_QUERY = `{ alertConfig { errorRateThreshold responseTimeThreshold consecutiveErrorsThreshold alertCooldownMinutes enabled
  webhookUrl emailNotifications windowMinutes minSampleSize emailTo emailFrom smtpConfigured } }`;

const SEED_FIELDS = {
  error_rate_threshold: 5.0,
  response_time_threshold: 30000,
  consecutive_errors_threshold: 3,
  alert_cooldown_minutes: 15,
  enabled: true,
  webhook_url: 'https://hooks.example.com/alerts',
  email_notifications: true,
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = makeDataDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dataDir: string, env?: Record<string, string>): Promise<RunningServer> {
  const server = await startServer({ dataDir, env });
  cleanups.push(() => server.stop());
  return server;
}

function readSettings(dataDir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dataDir, 'alert_config.json'), 'utf8')) as Record<string, unknown>;
}

/** Starts a server that must refuse to start; returns what it printed. */
async function refusedStart(dataDir: string): Promise<string> {
  const err = await startServer({ dataDir }).then(
    async (s) => {
      await s.stop();
      throw new Error('the server started despite a bad alert_config.json');
    },
    (e: Error) => e,
  );
  expect(err.message).toMatch(/exited with code [1-9]/);
  return err.message;
}

describe('alert_config.json at start', () => {
  it('is created with the seed defaults when missing, and served by alertConfig', async () => {
    const dir = tempDir();
    const server = await start(dir);
    expect(readSettings(dir)).toEqual({
      error_rate_threshold: 5,
      response_time_threshold: 30000,
      consecutive_errors_threshold: 3,
      alert_cooldown_minutes: 15,
      enabled: true,
      webhook_url: null,
      email_notifications: false,
      window_minutes: 5,
      min_sample_size: 20,
      email_to: [],
      email_from: null,
      smtp_url: null,
    });
    const res = await gql(server, CONFIG_QUERY);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      alertConfig: {
        errorRateThreshold: 5,
        responseTimeThreshold: 30000,
        consecutiveErrorsThreshold: 3,
        alertCooldownMinutes: 15,
        enabled: true,
        webhookUrl: null,
        emailNotifications: false,
        windowMinutes: 5,
        minSampleSize: 20,
        emailTo: [],
        emailFrom: null,
        smtpConfigured: false,
      },
    });
  });

  it("reads the seed's file as written in its guide (optional fields default)", async () => {
    const dir = tempDir();
    writeAlertConfig(dir, SEED_FIELDS);
    const server = await start(dir);
    const res = await gql<{ alertConfig: Record<string, unknown> }>(server, CONFIG_QUERY);
    expect(res.data!.alertConfig).toMatchObject({
      errorRateThreshold: 5,
      responseTimeThreshold: 30000,
      consecutiveErrorsThreshold: 3,
      alertCooldownMinutes: 15,
      enabled: true,
      webhookUrl: 'https://hooks.example.com/alerts',
      emailNotifications: true,
      windowMinutes: 5,
      minSampleSize: 20,
      smtpConfigured: false,
    });
  });

  it('takes SMTP settings from the environment when the file has none', async () => {
    const dir = tempDir();
    const server = await start(dir, {
      AI_MONITOR_SMTP_URL: 'smtp://127.0.0.1:2525',
      AI_MONITOR_ALERT_EMAIL_TO: 'oncall@example.com',
      AI_MONITOR_ALERT_EMAIL_FROM: 'monitor@example.com',
    });
    const res = await gql<{ alertConfig: { smtpConfigured: boolean; emailTo: string[] } }>(server, CONFIG_QUERY);
    expect(res.data!.alertConfig.smtpConfigured).toBe(true);
    expect(res.data!.alertConfig.emailTo).toEqual([]);
  });

  const bad: [string, Record<string, unknown> | string, RegExp][] = [
    ['a wrong type', { ...SEED_FIELDS, error_rate_threshold: '5' }, /alert_config\.json: error_rate_threshold: expected a number, got string/],
    ['a negative number', { ...SEED_FIELDS, response_time_threshold: -1 }, /alert_config\.json: response_time_threshold: must be 0 or more/],
    ['a negative cooldown', { ...SEED_FIELDS, alert_cooldown_minutes: -5 }, /alert_config\.json: alert_cooldown_minutes: must be 0 or more/],
    ['a fractional count', { ...SEED_FIELDS, consecutive_errors_threshold: 2.5 }, /alert_config\.json: consecutive_errors_threshold: must be a whole number/],
    ['a percentage above 100', { ...SEED_FIELDS, error_rate_threshold: 150 }, /alert_config\.json: error_rate_threshold: must be at most 100/],
    ['an invalid URL', { ...SEED_FIELDS, webhook_url: 'not a url' }, /alert_config\.json: webhook_url: expected a URL such as https:\/\/hooks\.example\.com\/alerts, got \\?"not a url\\?"/],
    ['a non-HTTP URL', { ...SEED_FIELDS, webhook_url: 'ftp://example.com/x' }, /alert_config\.json: webhook_url: expected a http:\/\/ or https:\/\/ URL/],
    ['a boolean as a string', { ...SEED_FIELDS, enabled: 'yes' }, /alert_config\.json: enabled: expected true or false, got string/],
    ['a bad recipient', { ...SEED_FIELDS, email_to: ['nobody'] }, /alert_config\.json: email_to\.0: expected an email address/],
    ['an unknown (misspelt) field', { ...SEED_FIELDS, error_rate_treshold: 3 }, /alert_config\.json: error_rate_treshold: unknown field/],
    ['broken JSON', '{ "error_rate_threshold": 5.0, ', /alert_config\.json: not valid JSON/],
    ['a JSON array', '[1, 2]', /alert_config\.json: expected a JSON object with the alert settings, got a list/],
  ];

  for (const [what, content, message] of bad) {
    it(`refuses to start on ${what}, naming the field`, async () => {
      const dir = tempDir();
      writeAlertConfig(dir, content);
      const output = await refusedStart(dir);
      expect(output).toMatch(message);
      expect(output).not.toMatch(/listening on/);
    });
  }

  it('reports every bad field at once', async () => {
    const dir = tempDir();
    writeAlertConfig(dir, { ...SEED_FIELDS, error_rate_threshold: 'high', min_sample_size: 0 });
    const output = await refusedStart(dir);
    expect(output).toMatch(/error_rate_threshold: expected a number, got string; .*min_sample_size: must be 1 or more/);
  });
});

describe('updateAlertConfig', () => {
  it('applies a partial update, keeps the other fields and writes the file back atomically', async () => {
    const dir = tempDir();
    writeAlertConfig(dir, SEED_FIELDS);
    const server = await start(dir);
    const res = await updateAlertConfig(server, { errorRateThreshold: 12.5, alertCooldownMinutes: 0.02, minSampleSize: 5, emailTo: ['a@example.com', 'b@example.com'] });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateAlertConfig).toMatchObject({
      errorRateThreshold: 12.5,
      alertCooldownMinutes: 0.02,
      minSampleSize: 5,
      responseTimeThreshold: 30000,
      webhookUrl: 'https://hooks.example.com/alerts',
      emailTo: ['a@example.com', 'b@example.com'],
    });
    expect(readSettings(dir)).toMatchObject({
      error_rate_threshold: 12.5,
      alert_cooldown_minutes: 0.02,
      min_sample_size: 5,
      response_time_threshold: 30000,
      consecutive_errors_threshold: 3,
      webhook_url: 'https://hooks.example.com/alerts',
      email_notifications: true,
      email_to: ['a@example.com', 'b@example.com'],
    });
    // Temp files are renamed into place, never left behind.
    expect(readdirSync(dir).filter((f) => f.includes('alert_config'))).toEqual(['alert_config.json']);
    const again = await gql<{ alertConfig: { errorRateThreshold: number } }>(server, CONFIG_QUERY);
    expect(again.data!.alertConfig.errorRateThreshold).toBe(12.5);
  });

  it('clears webhookUrl, emailFrom and smtpUrl with an explicit null (or an empty URL)', async () => {
    const dir = tempDir();
    writeAlertConfig(dir, { ...SEED_FIELDS, email_from: 'x@example.com', smtp_url: 'smtp://127.0.0.1:2525', email_to: ['y@example.com'] });
    const server = await start(dir);
    const before = await gql<{ alertConfig: { smtpConfigured: boolean } }>(server, CONFIG_QUERY);
    expect(before.data!.alertConfig.smtpConfigured).toBe(true);
    const res = await updateAlertConfig(server, { webhookUrl: null, emailFrom: null, smtpUrl: '' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateAlertConfig).toMatchObject({ webhookUrl: null, emailFrom: null, smtpConfigured: false });
    expect(readSettings(dir)).toMatchObject({ webhook_url: null, email_from: null, smtp_url: null });
  });

  it('refuses invalid input with an error naming the field, and leaves the file unchanged', async () => {
    const dir = tempDir();
    writeAlertConfig(dir, SEED_FIELDS);
    const server = await start(dir);
    const fileBefore = readFileSync(join(dir, 'alert_config.json'), 'utf8');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ errorRateThreshold: -1 }, /^input\.errorRateThreshold: must be 0 or more/],
      [{ responseTimeThreshold: null }, /^input\.responseTimeThreshold: expected a number, got null/],
      [{ consecutiveErrorsThreshold: 0 }, /^input\.consecutiveErrorsThreshold: must be 1 or more/],
      [{ webhookUrl: 'hooks.example.com' }, /^input\.webhookUrl: expected a URL/],
      [{ smtpUrl: 'http://mail.example.com' }, /^input\.smtpUrl: expected a smtp:\/\/ or smtps:\/\/ URL/],
      [{ windowMinutes: 0 }, /^input\.windowMinutes: must be more than 0/],
      [{ emailTo: ['ok@example.com', 'broken'] }, /^input\.emailTo\.1: expected an email address/],
      [{ emailFrom: 'nobody' }, /^input\.emailFrom: expected an email address/],
    ];
    for (const [input, message] of cases) {
      const res = await updateAlertConfig(server, input);
      expect(res.data ?? null, JSON.stringify(input)).toBeNull();
      expect(res.errors?.[0]?.message, JSON.stringify(input)).toMatch(message);
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    // GraphQL's own type check applies before ours.
    const wrongType = await updateAlertConfig(server, { minSampleSize: 'ten' });
    expect(wrongType.errors?.[0]?.message).toMatch(/minSampleSize/);
    expect(readFileSync(join(dir, 'alert_config.json'), 'utf8')).toBe(fileBefore);
  });

  it('keeps the update across a restart', async () => {
    const dir = tempDir();
    const first = await startServer({ dataDir: dir });
    const res = await updateAlertConfig(first, { enabled: false, windowMinutes: 2.5, webhookUrl: 'http://127.0.0.1:9/hook' });
    expect(res.errors).toBeUndefined();
    await first.stop();
    const second = await start(dir);
    const after = await gql<{ alertConfig: Record<string, unknown> }>(second, CONFIG_QUERY);
    expect(after.data!.alertConfig).toMatchObject({ enabled: false, windowMinutes: 2.5, webhookUrl: 'http://127.0.0.1:9/hook' });
  });
});
