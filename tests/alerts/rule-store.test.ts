/**
 * Alert rules and silences as data: kept in the store on SQLite and PostgreSQL (a restart
 * keeps them and the alerts they raise), alert_config.json's three rules listed from the file,
 * and every bad input refused with a message naming the field while the server stays up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { gql, makeDataDir } from '../helpers/app.js';
import { PG_URL, dropSchema, noteSkip, probePostgres, randomName } from '../helpers/services.js';
import { QUIET, records, updateAlertConfig, writeAlertConfig } from './support.js';
import { RULE_FIELDS, startRuleServer } from './rule-support.js';

const pgError = await probePostgres();
noteSkip('alert rules store', 'PostgreSQL', pgError);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function storeEnv(kind: 'sqlite' | 'postgres'): Record<string, string> {
  if (kind === 'sqlite') return {};
  const schema = randomName('aim_rules');
  cleanups.push(() => dropSchema(schema));
  return { AI_MONITOR_STORAGE: 'postgres', AI_MONITOR_DATABASE_URL: PG_URL, AI_MONITOR_DATABASE_SCHEMA: schema };
}

describe.each(['sqlite', 'postgres'] as const)('rules and silences in the %s store', (kind) => {
  it.skipIf(kind === 'postgres' && pgError !== null)('keep over a restart, with the alerts they raised', async () => {
    const env = storeEnv(kind);
    const dataDir = makeDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    writeAlertConfig(dataDir, QUIET);
    const local: (() => Promise<void> | void)[] = [];
    let h = await startRuleServer(local, { env, dataDir });
    const rule = await h.createRule({
      name: 'tokens', metric: 'input_tokens', warning: 100, critical: 1000, scope: { model: 'gpt-x' },
      channels: [{ type: 'feishu', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x', secret: 's3cret' }],
    });
    const sil = await gql<{ createSilence: { id: string } }>(h.server, 'mutation { createSilence(input: { durationMinutes: 60, reason: "load test", scope: { model: "gpt-x" } }) { id } }');
    await h.ingest(records(3, true, { model: 'gpt-x', input_tokens: 50 }));
    const [raised] = await h.alerts();
    expect(raised).toMatchObject({ severity: 'warning', value: 150, silencedBy: sil.data!.createSilence.id });
    for (const c of local.splice(0).reverse()) await c();

    h = await startRuleServer(cleanups, { env, dataDir });
    const rules = await gql<{ alertRules: { id: string; source: string; channels: { hasSecret: boolean }[]; state: string }[] }>(h.server, `{ alertRules { ${RULE_FIELDS} } }`);
    const stored = rules.data!.alertRules.filter((r) => r.source === 'stored');
    expect(stored).toEqual([expect.objectContaining({ id: rule.id, name: 'tokens', scope: expect.objectContaining({ model: 'gpt-x' }) })]);
    expect(stored[0]!.channels[0]!.hasSecret).toBe(true);
    // The open alert is the rule's again: more traffic updates it instead of raising another.
    expect(stored[0]!.state).toBe('firing');
    const silences = await gql<{ silences: { id: string; active: boolean; reason: string }[] }>(h.server, '{ silences { id active reason } }');
    expect(silences.data!.silences).toEqual([{ id: sil.data!.createSilence.id, active: true, reason: 'load test' }]);
    await h.ingest(records(30, true, { model: 'gpt-x', input_tokens: 50 }));
    await h.advance(10_000);
    const alerts = await h.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ id: raised!.id, severity: 'critical', currentValue: 1500, peakValue: 1500 });

    // Delete: the rule goes, its firing alert resolves without a notice.
    const del = await gql<{ deleteAlertRule: boolean }>(h.server, `mutation { deleteAlertRule(id: "${rule.id}") }`);
    expect(del.data!.deleteAlertRule).toBe(true);
    expect((await h.alerts())[0]!.state).toBe('resolved');
    const again = await gql<{ deleteAlertRule: boolean }>(h.server, `mutation { deleteAlertRule(id: "${rule.id}") }`);
    expect(again.data!.deleteAlertRule).toBe(false);
  });
});

describe("alert_config.json's rules", () => {
  it('are listed from the file, follow updateAlertConfig, and are edited only there', async () => {
    const h = await startRuleServer(cleanups);
    const list = async () => (await gql<{ alertRules: Record<string, unknown>[] }>(h.server, `{ alertRules { ${RULE_FIELDS} } }`)).data!.alertRules;
    let rules = await list();
    expect(rules.map((r) => [r.id, r.source, r.metric, r.critical])).toEqual([
      ['high_error_rate', 'alert_config', 'error_rate', QUIET.error_rate_threshold],
      ['slow_response', 'alert_config', 'p95_response_time', QUIET.response_time_threshold],
      ['consecutive_errors', 'alert_config', 'consecutive_errors', QUIET.consecutive_errors_threshold],
    ]);
    expect(rules[0]).toMatchObject({ pendingSeconds: 0, renotifyMinutes: 0, notifyResolved: false, cooldownMinutes: QUIET.alert_cooldown_minutes, windowMinutes: 5, minSampleSize: 20 });
    await updateAlertConfig(h.server, { errorRateThreshold: 12.5, webhookUrl: 'https://hooks.example.com/a' });
    rules = await list();
    expect(rules[0]).toMatchObject({ critical: 12.5, channels: [{ type: 'webhook', url: 'https://hooks.example.com/a', hasSecret: false, to: [] }] });
    const refused = await gql(h.server, 'mutation { updateAlertRule(id: "high_error_rate", input: { critical: 3 }) { id } }');
    expect(refused.errors?.[0]?.message).toBe('id: "high_error_rate" is a rule of alert_config.json; change it with updateAlertConfig');
    const silence = await gql<{ createSilence: { ruleId: string } }>(h.server, 'mutation { createSilence(input: { ruleId: "slow_response", durationMinutes: 5, reason: "x" }) { ruleId } }');
    expect(silence.data!.createSilence.ruleId).toBe('slow_response');
  });
});

describe('rule validation', () => {
  it('names the field of each problem', async () => {
    const h = await startRuleServer(cleanups);
    const create = (input: string) => gql(h.server, `mutation { createAlertRule(input: ${input}) { id } }`);
    const cases: [string, string][] = [
      ['{ metric: error_rate, critical: 5 }', 'input.name: '],
      ['{ name: "x", critical: 5 }', 'input.metric: expected one of error_rate'],
      ['{ name: "x", metric: error_rate }', 'input.critical: set a warning or a critical threshold'],
      ['{ name: "x", metric: error_rate, warning: 20, critical: 10 }', 'input.critical: must be at least the warning threshold (20)'],
      ['{ name: "x", metric: feedback_score, comparison: below, warning: 2, critical: 3 }', 'input.critical: must be at most the warning threshold (2)'],
      ['{ name: "x", metric: error_rate, critical: 5, windowMinutes: 0 }', 'input.windowMinutes: must be more than 0'],
      ['{ name: "x", metric: error_rate, critical: 5, pendingSeconds: -1 }', 'input.pendingSeconds: must be 0 or more'],
      ['{ name: "x", metric: error_rate, critical: 5, scope: { intent: "" } }', 'input.scope.intent: must not be empty'],
      ['{ name: "x", metric: error_rate, critical: 5, channels: [{ type: slack }] }', 'input.channels.0.url: a slack channel needs a url'],
      ['{ name: "x", metric: error_rate, critical: 5, channels: [{ type: webhook, url: "ftp://x" }] }', 'input.channels.0.url: expected an http:// or https:// URL'],
      ['{ name: "x", metric: error_rate, critical: 5, channels: [{ type: wecom, url: "https://qyapi.weixin.qq.com/x?key=1", secret: "s" }] }', 'input.channels.0.secret: WeCom robots do not sign'],
      ['{ name: "x", metric: error_rate, critical: 5, channels: [{ type: email, to: ["not-an-address"] }] }', 'input.channels.0.to.0: expected an email address'],
    ];
    for (const [input, message] of cases) {
      const res = await create(input);
      expect(res.errors?.[0]?.message, input).toContain(message);
    }
    const unknown = await gql(h.server, 'mutation { updateAlertRule(id: "missing", input: { critical: 1 }) { id } }');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const rule = await h.createRule({ name: 'ok', metric: 'cost', warning: 1 });
    const upd = await gql<{ updateAlertRule: Record<string, unknown> }>(h.server, `mutation { updateAlertRule(id: "${rule.id}", input: { critical: 5, pendingSeconds: 60 }) { warning critical pendingSeconds name } }`);
    expect(upd.data!.updateAlertRule).toEqual({ warning: 1, critical: 5, pendingSeconds: 60, name: 'ok' });
    const bad = await gql(h.server, `mutation { updateAlertRule(id: "${rule.id}", input: { critical: 0.5 }) { id } }`);
    expect(bad.errors?.[0]?.message).toContain('input.critical: must be at least the warning threshold (1)');
  });

  it('survives hostile rule input: every answer is a rule or a named error (fast-check, seeded)', async () => {
    const h = await startRuleServer(cleanups);
    const value = fc.oneof(fc.string({ maxLength: 300 }), fc.double({ noNaN: false }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }));
    const input = fc.record(
      {
        name: fc.oneof(fc.string({ maxLength: 250 }), value),
        metric: fc.constantFrom('error_rate', 'cost', 'no_data', 'bogus'),
        warning: value,
        critical: value,
        windowMinutes: value,
        pendingSeconds: value,
        scope: fc.dictionary(fc.constantFrom('intent', 'tool', 'model', 'nope'), value),
        channels: fc.array(fc.record({ type: fc.constantFrom('webhook', 'slack', 'feishu', 'email', 'pager'), url: value, secret: value }, { requiredKeys: ['type'] }), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(input, async (i) => {
        const res = await gql<{ createAlertRule: { id: string } }>(h.server, 'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', { input: i });
        if (res.data?.createAlertRule) {
          await gql(h.server, `mutation { deleteAlertRule(id: "${res.data.createAlertRule.id}") }`);
          return;
        }
        expect(res.errors?.length).toBeGreaterThan(0);
        expect(res.errors![0]!.message).toMatch(/input|Variable|Int|Float|String|Boolean|Enum|Expected|expected/);
      }),
      { seed: 16, numRuns: 120 },
    );
    const health = await fetch(`${h.server.url}/health`);
    expect(health.status).toBe(200);
  });
});
