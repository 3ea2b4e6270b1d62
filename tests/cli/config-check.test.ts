/**
 * `ai-monitor config check`: effective settings with their origin and secrets masked (exit 0),
 * or the offending field named (exit 2), for the server configuration and alert_config.json.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli-helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'ai-monitor-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function dir(name: string, alertConfig?: unknown): string {
  const d = join(scratch, name);
  mkdirSync(d, { recursive: true });
  if (alertConfig !== undefined) writeFileSync(join(d, 'alert_config.json'), typeof alertConfig === 'string' ? alertConfig : JSON.stringify(alertConfig));
  return d;
}

function file(name: string, content: unknown): string {
  const f = join(scratch, name);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

/** The settings line for `key`, e.g. `  port   9000   (env)`. */
function line(out: string, key: string): string {
  return out.split('\n').find((l) => l.trim().split(/\s+/)[0] === key) ?? '';
}

describe('ai-monitor config check', () => {
  it('prints the effective settings with where each came from', async () => {
    const dataDir = dir('ok');
    const config = file('config.json', { port: 9000, retentionDays: 7 });
    const r = await cli(['config', 'check', '--config', config, '--data-dir', dataDir], { env: { AI_MONITOR_RETENTION_DAYS: '14' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^configuration: valid/);
    expect(line(r.stdout, 'port')).toMatch(/9000\s+\(file\)/);
    expect(line(r.stdout, 'retentionDays')).toMatch(/14\s+\(env\)/);
    expect(line(r.stdout, 'dataDir')).toMatch(/ok\s+\(flag\)/);
    expect(line(r.stdout, 'host')).toMatch(/0\.0\.0\.0\s+\(default\)/);
    expect(line(r.stdout, 'dbFile')).toContain(join(dataDir, 'realtime_monitoring.db'));
    // The alert file does not exist yet: the seed's defaults, and the check creates nothing.
    expect(r.stdout).toMatch(/alert settings: valid — .*alert_config\.json \(does not exist yet/);
    expect(line(r.stdout, 'error_rate_threshold')).toMatch(/\s5$/);
    expect(line(r.stdout, 'response_time_threshold')).toMatch(/\s30000$/);
    expect(existsSync(join(dataDir, 'alert_config.json'))).toBe(false);
  });

  it('masks tokens and passwords', async () => {
    const dataDir = dir('secrets', { webhook_url: 'https://hooks.example.com/services/T000/B000/XXXXSECRET', smtp_url: 'smtp://mailer:mailpass@mail.example.com:587' });
    const r = await cli(['config', 'check', '--data-dir', dataDir, '--json'], {
      env: {
        AI_MONITOR_ADMIN_TOKENS: 'admin-secret-1,admin-secret-2',
        AI_MONITOR_INGEST_TOKENS: 'ingest-secret',
        AI_MONITOR_REDIS_URL: 'redis://:redispass@127.0.0.1:6379',
      },
    });
    expect(r.code).toBe(0);
    for (const secret of ['admin-secret', 'ingest-secret', 'redispass', 'mailpass', 'XXXXSECRET']) expect(r.stdout).not.toContain(secret);
    const body = JSON.parse(r.stdout) as { valid: boolean; config: Record<string, unknown>; origins: Record<string, string>; alerts: { exists: boolean; settings: Record<string, unknown> } };
    expect(body.valid).toBe(true);
    expect(body.config.adminTokens).toEqual(['****', '****']);
    expect(body.config.redisUrl).toBe('redis://:****@127.0.0.1:6379');
    expect(body.origins.adminTokens).toBe('env');
    expect(body.alerts.exists).toBe(true);
    expect(body.alerts.settings.webhook_url).toBe('https://hooks.example.com/****');
    expect(body.alerts.settings.smtp_url).toBe('smtp://mailer:****@mail.example.com:587');
  });

  it.each([
    ['a port out of range (environment)', [], { AI_MONITOR_PORT: '99999' }, /invalid configuration: port: .*65535/],
    ['a retention that is not a number', [], { AI_MONITOR_RETENTION_DAYS: 'forever' }, /invalid configuration: retentionDays/],
    ['an unknown storage', [], { AI_MONITOR_STORAGE: 'mongodb' }, /invalid configuration: storage/],
    ['only one TLS file', [], { AI_MONITOR_TLS_CERT: '/etc/cert.pem' }, /tlsCert and tlsKey .* must be set together/],
  ])('exits 2 naming the field for %s', async (_what, args, env, message) => {
    const r = await cli(['config', 'check', '--data-dir', dir('bad-env'), ...args], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('exits 2 for config files that are missing, malformed or hold unknown settings', async () => {
    let r = await cli(['config', 'check', '--config', join(scratch, 'missing.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config file .*missing\.json does not exist/);
    r = await cli(['config', 'check', '--config', file('broken.json', '{"port": 80,')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.json is not valid JSON/);
    r = await cli(['config', 'check', '--config', file('typo.json', { prot: 80 })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/typo\.json: unknown setting "prot"/);
  });

  it('exits 2 naming the field of a bad alert_config.json', async () => {
    let r = await cli(['config', 'check', '--data-dir', dir('bad-alerts', { error_rate_threshold: 'high' })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/alert_config\.json: error_rate_threshold: expected a number, got string/);
    r = await cli(['config', 'check', '--data-dir', dir('typo-alerts', { error_rate_treshold: 5 })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error_rate_treshold: unknown field/);
    r = await cli(['config', 'check', '--data-dir', dir('json-alerts', '{ nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/alert_config\.json: not valid JSON/);
  });

  it('validates model_prices.json: counts its models, or exits 2 naming the bad entry', async () => {
    const good = dir('prices-ok');
    writeFileSync(join(good, 'model_prices.json'), JSON.stringify({ models: { 'qwen-max': { input_per_million: 1.6, output_per_million: 6.4 } } }));
    let r = await cli(['config', 'check', '--data-dir', good]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/model prices: valid — .*model_prices\.json \(1 model\)/);
    r = await cli(['config', 'check', '--data-dir', dir('prices-none')]);
    expect(r.stdout).toMatch(/model prices: valid — .*model_prices\.json \(does not exist; the packaged price table alone\)/);
    const bad = dir('prices-bad');
    writeFileSync(join(bad, 'model_prices.json'), JSON.stringify({ models: { 'glm-4.5': { input_per_million: 'cheap', output_per_million: 1 } } }));
    r = await cli(['config', 'check', '--data-dir', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model_prices\.json: models\."glm-4\.5"\.input_per_million: expected a number of USD per million tokens, got string "cheap"/);
  });

  it('refuses unknown options and subcommands with exit 2', async () => {
    let r = await cli(['config', 'check', '--strict']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--strict'/);
    r = await cli(['config', 'lint']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'lint'/);
  });
});
