/**
 * Alert rules (alertRules) driven through real ingest (HTTP batch into the in-process server)
 * with a fake clock: every metric fires with its value, scopes narrow, pending suppresses a
 * flap, severities escalate, re-notify and resolve notices arrive, silences hold and expire,
 * and the notices reach a real HTTP sink.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { gql } from '../helpers/app.js';
import { records, waitFor, sleep } from './support.js';
import { RULE_FIELDS, events, startNotificationSink, startRuleServer, type NotificationSink } from './rule-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sink(): Promise<NotificationSink> {
  const s = await startNotificationSink();
  cleanups.push(() => s.close());
  return s;
}

const MIN = 60_000;

describe('every metric, through real ingest', () => {
  const cases: { metric: string; rule: Record<string, unknown>; batch: () => Record<string, unknown>[]; before?: number; after?: number; expect: (v: number) => void }[] = [
    { metric: 'error_rate', rule: { critical: 20 }, batch: () => [...records(5, true), ...records(5, false)], expect: (v) => expect(v).toBe(50) },
    { metric: 'p50_response_time', rule: { critical: 500 }, batch: () => records(10, true, { response_time_ms: 1000 }), expect: (v) => expect(v).toBeGreaterThan(950) },
    { metric: 'p95_response_time', rule: { critical: 500 }, batch: () => records(10, true, { response_time_ms: 1000 }), expect: (v) => expect(v).toBeGreaterThan(950) },
    { metric: 'p99_response_time', rule: { critical: 500 }, batch: () => records(10, true, { response_time_ms: 1000 }), expect: (v) => expect(v).toBeLessThan(1050) },
    { metric: 'throughput', rule: { critical: 1 }, batch: () => records(10, true), expect: (v) => expect(v).toBe(2) },
    { metric: 'consecutive_errors', rule: { critical: 2 }, batch: () => records(3, false), expect: (v) => expect(v).toBe(3) },
    { metric: 'input_tokens', rule: { critical: 300 }, batch: () => records(5, true, { input_tokens: 100 }), expect: (v) => expect(v).toBe(500) },
    { metric: 'output_tokens', rule: { critical: 300 }, batch: () => records(5, true, { output_tokens: 70 }), expect: (v) => expect(v).toBe(350) },
    { metric: 'cost', rule: { critical: 1 }, batch: () => records(5, true, { cost_usd: 0.5 }), expect: (v) => expect(v).toBe(2.5) },
    // A "below" rule judges once its window is full: the empty window at start is not a drop.
    { metric: 'feedback_score', rule: { comparison: 'below', critical: 2, minSampleSize: 5 }, before: 5 * MIN, batch: () => records(5, true, { feedback_score: 1 }), expect: (v) => expect(v).toBe(1) },
    { metric: 'no_data', rule: { critical: 10 }, batch: () => records(1, true), after: 11 * MIN, expect: (v) => expect(v).toBe(11) },
  ];

  it.each(cases)('$metric fires with its value', async (c) => {
    const h = await startRuleServer(cleanups);
    const rule = await h.createRule({ name: `rule on ${c.metric}`, metric: c.metric, minSampleSize: 1, ...c.rule });
    if (c.before) await h.advance(c.before);
    await h.ingest(c.batch());
    if (c.after) await h.advance(c.after);
    const alerts = await h.alerts();
    expect(alerts).toHaveLength(1);
    const [a] = alerts;
    expect(a!.kind).toBe('rule');
    expect(a!.ruleId).toBe(rule.id);
    expect(a!.severity).toBe('critical');
    expect(a!.state).toBe('firing');
    c.expect(a!.value);
    expect(a!.currentValue).toBe(a!.value);
    expect(a!.peakValue).toBe(a!.value);
  });

  it('no_data resolves when traffic returns', async () => {
    const h = await startRuleServer(cleanups);
    await h.createRule({ name: 'traffic stopped', metric: 'no_data', warning: 5, critical: 15 });
    await h.advance(6 * MIN);
    expect((await h.alerts())[0]).toMatchObject({ severity: 'warning', state: 'firing' });
    await h.advance(10 * MIN);
    expect((await h.alerts())[0]).toMatchObject({ severity: 'critical', state: 'firing', peakValue: 16 });
    await h.ingest(records(1, true));
    expect((await h.alerts())[0]).toMatchObject({ state: 'resolved' });
  });
});

describe('scopes', () => {
  it('a scoped rule sees only its interactions: assistant, version, environment, intent, tool, error type, model', async () => {
    const h = await startRuleServer(cleanups);
    const scope = { assistant: 'helpdesk', version: '2.1', environment: 'production', intent: 'refund', tool: 'payments', errorType: 'timeout', model: 'gpt-x' };
    const rule = await h.createRule({ name: 'refund failures', metric: 'consecutive_errors', critical: 2, scope });
    expect(rule.scope).toEqual(scope);
    const matching = { assistant: 'helpdesk', version: '2.1', environment: 'production', intent: 'refund', model: 'gpt-x', tools_used: [{ tool: 'payments', params: {} }] };
    // Each batch differs from the scope in one field: none counts.
    for (const [field, value] of Object.entries({ assistant: 'other', version: '2.2', environment: 'staging', intent: 'search', model: 'gpt-y', error_type: 'rate_limit', tools_used: [{ tool: 'web', params: {} }] })) {
      await h.ingest(records(3, false, { ...matching, [field]: value }));
    }
    expect(await h.alerts()).toHaveLength(0);
    await h.ingest(records(3, false, matching));
    const [a] = await h.alerts();
    expect(a).toMatchObject({ value: 3, scope: { intent: 'refund', tool: 'payments', model: 'gpt-x' } });
    expect(a!.message).toContain('intent=refund');
  });
});

describe('pending, severity, re-notify and resolve', () => {
  it('pending suppresses a flap: raised-and-cleared failures never notify', async () => {
    const s = await sink();
    const h = await startRuleServer(cleanups);
    const rule = await h.createRule({ name: 'streak', metric: 'consecutive_errors', critical: 4, pendingSeconds: 30, channels: [{ type: 'webhook', url: `${s.base}/hook` }] });
    const state = async () => (await gql<{ alertRule: { state: string; pendingSince: string | null } }>(h.server, `{ alertRule(id: "${rule.id}") { ${RULE_FIELDS} } }`)).data!.alertRule;
    // Five failures then a success, in one batch (the burst of the issue): cleared before it was due.
    await h.ingest([...records(5, false), ...records(1, true)]);
    expect(await state()).toMatchObject({ state: 'inactive', pendingSince: null });
    // Failures that keep coming: pending; a success before the pending duration: back to inactive.
    await h.ingest(records(5, false));
    expect(await state()).toMatchObject({ state: 'pending', pendingSince: new Date(h.clock.now).toISOString() });
    await h.advance(20_000);
    await h.ingest(records(1, true));
    expect((await state()).state).toBe('inactive');
    await h.advance(31_000);
    await sleep(300);
    expect(await h.alerts()).toHaveLength(0);
    expect(s.requests).toHaveLength(0);

    // A condition that holds for the pending duration fires once.
    await h.ingest(records(5, false));
    await h.advance(15_000);
    expect(await h.alerts()).toHaveLength(0);
    await h.advance(16_000);
    const [a] = await h.alerts();
    expect(a).toMatchObject({ state: 'firing', value: 5 });
    await waitFor(async () => s.requests.length === 1, 'the firing notice');
    expect(events(s, '/hook')).toEqual(['firing']);
  });

  it('warning escalates to critical, repeats while firing, and sends a resolve notice with peak, duration and sparkline', async () => {
    const s = await sink();
    const h = await startRuleServer(cleanups);
    await h.createRule({
      name: 'errors', metric: 'error_rate', warning: 10, critical: 40, minSampleSize: 10, windowMinutes: 5, renotifyMinutes: 2,
      channels: [{ type: 'webhook', url: `${s.base}/hook` }],
    });
    await h.ingest([...records(17, true), ...records(3, false)]);
    let [a] = await h.alerts();
    expect(a).toMatchObject({ severity: 'warning', value: 15, threshold: 10, unit: 'percent' });
    await waitFor(async () => s.requests.length === 1, 'the firing notice');

    await h.advance(20_000);
    await h.ingest(records(20, false));
    [a] = await h.alerts();
    expect(a).toMatchObject({ severity: 'critical', currentValue: 57.5, peakValue: 57.5 });
    await waitFor(async () => s.requests.length === 2, 'the escalation notice');

    await h.advance(2 * MIN);
    await waitFor(async () => s.requests.length === 3, 'the repeat notice');
    await h.advance(20_000);
    await h.ingest(records(60, true));
    [a] = await h.alerts();
    expect(a).toMatchObject({ severity: 'warning', currentValue: 23, peakValue: 57.5, state: 'firing' });

    // The window slides past every record: nothing to judge, so the alert resolves.
    await h.advance(6 * MIN);
    [a] = await h.alerts();
    expect(a!.state).toBe('resolved');
    expect(a!.peakValue).toBe(57.5);
    expect(a!.durationSeconds).toBeGreaterThan(8 * 60);
    expect(a!.series.length).toBeGreaterThanOrEqual(3);
    expect(a!.series.map((p) => p.value)).toContain(57.5);
    await waitFor(async () => s.requests.length === 4, 'the resolve notice');
    expect(events(s, '/hook')).toEqual(['firing', 'escalated', 'repeat', 'resolved']);
    const last = s.requests[3]!.body;
    expect(String(last.text)).toContain('RESOLVED');
    [a] = await waitFor(async () => ((await h.alerts())[0]!.delivery.length === 4 ? h.alerts() : null), 'the resolve delivery to be recorded');
    expect(a!.delivery.map((d) => d.event)).toEqual(['firing', 'escalated', 'repeat', 'resolved']);
    expect(a!.delivery.every((d) => d.ok && d.channel === 'webhook')).toBe(true);
  });

  it('cooldown: a rule that fires again within it stays pending until it ends', async () => {
    const h = await startRuleServer(cleanups);
    await h.createRule({ name: 'streak', metric: 'consecutive_errors', critical: 1, cooldownMinutes: 10 });
    await h.ingest(records(2, false));
    await h.ingest(records(1, true));
    expect((await h.alerts()).map((a) => a.state)).toEqual(['resolved']);
    await h.ingest(records(2, false));
    await h.advance(5 * MIN);
    expect(await h.alerts()).toHaveLength(1);
    await h.advance(5 * MIN + 1000);
    expect((await h.alerts()).map((a) => a.state)).toEqual(['firing', 'resolved']);
  });

  it('notifyResolved false sends no resolve notice; a disabled rule never fires', async () => {
    const s = await sink();
    const h = await startRuleServer(cleanups);
    await h.createRule({ name: 'quiet end', metric: 'consecutive_errors', critical: 1, notifyResolved: false, channels: [{ type: 'webhook', url: `${s.base}/hook` }] });
    await h.createRule({ name: 'off', metric: 'consecutive_errors', critical: 1, enabled: false, channels: [{ type: 'webhook', url: `${s.base}/off` }] });
    await h.ingest(records(2, false));
    await h.ingest(records(1, true));
    await waitFor(async () => s.requests.length >= 1, 'the firing notice');
    await sleep(300);
    expect(events(s, '/hook')).toEqual(['firing']);
    expect(s.on('/off')).toHaveLength(0);
    expect((await h.alerts()).map((a) => a.state)).toEqual(['resolved']);
  });
});

describe('silences', () => {
  const silence = (h: Awaited<ReturnType<typeof startRuleServer>>, input: Record<string, unknown>, headers: Record<string, string> = {}) =>
    gql<{ createSilence: Record<string, unknown> & { id: string } }>(
      h.server,
      'mutation ($input: SilenceInput!) { createSilence(input: $input) { id ruleId reason createdBy active startsAt endsAt scope { intent } } }',
      { input },
      headers,
    );

  it('a silence holds the notices of its rule and, when it ends, the held-back notice goes out', async () => {
    const s = await sink();
    const token = 'alice:admin-token-1234';
    const h = await startRuleServer(cleanups, { env: { AI_MONITOR_ADMIN_TOKENS: token } });
    const auth = { authorization: 'Bearer admin-token-1234' };
    const rule = await h.createRule({ name: 'streak', metric: 'consecutive_errors', critical: 1, channels: [{ type: 'webhook', url: `${s.base}/hook` }] });
    expect(rule.createdBy).toBe('alice');
    const created = await silence(h, { ruleId: rule.id, durationMinutes: 10, reason: 'deploying the fix' }, auth);
    expect(created.errors).toBeUndefined();
    expect(created.data!.createSilence).toMatchObject({ ruleId: rule.id, reason: 'deploying the fix', createdBy: 'alice', active: true });

    await h.ingest(records(3, false));
    let [a] = await h.alerts();
    expect(a).toMatchObject({ state: 'firing', silencedBy: created.data!.createSilence.id });
    await waitFor(async () => (await h.alerts())[0]!.delivery.length === 1, 'the skipped delivery');
    [a] = await h.alerts();
    expect(a!.delivery[0]).toMatchObject({ channel: 'webhook', ok: false, attempts: 0 });
    expect(a!.delivery[0]!.detail).toContain('silenced');
    expect(a!.delivery[0]!.detail).toContain('alice');

    await h.advance(5 * MIN);
    await sleep(200);
    expect(s.requests).toHaveLength(0);
    await h.advance(5 * MIN + 1000);
    await waitFor(async () => s.requests.length === 1, 'the notice after the silence');
    expect(events(s, '/hook')).toEqual(['firing']);
    [a] = await h.alerts();
    expect(a!.silencedBy).toBeNull();
    const list = await gql<{ silences: { active: boolean }[] }>(h.server, '{ silences { id active } }', {}, auth);
    expect(list.data!.silences).toEqual([expect.objectContaining({ active: false })]);
    const active = await gql<{ silences: unknown[] }>(h.server, '{ silences(active: true) { id } }', {}, auth);
    expect(active.data!.silences).toEqual([]);
  });

  it('a scope silence mutes matching rules only; a global silence mutes everything; expireSilence ends one', async () => {
    const s = await sink();
    const h = await startRuleServer(cleanups);
    const hook = (p: string) => [{ type: 'webhook', url: `${s.base}/${p}` }];
    await h.createRule({ name: 'refunds', metric: 'consecutive_errors', critical: 1, scope: { intent: 'refund' }, channels: hook('refund') });
    await h.createRule({ name: 'search', metric: 'consecutive_errors', critical: 1, scope: { intent: 'search' }, channels: hook('search') });
    const scoped = await silence(h, { scope: { intent: 'refund' }, durationMinutes: 60, reason: 'refund provider down' });
    expect(scoped.errors).toBeUndefined();
    await h.ingest([...records(2, false, { intent: 'refund' }), ...records(2, false, { intent: 'search' })]);
    await waitFor(async () => s.on('/search').length === 1, 'the search notice');
    await sleep(200);
    expect(s.on('/refund')).toHaveLength(0);

    const all = await silence(h, { durationMinutes: 60, reason: 'maintenance' });
    await h.ingest(records(1, true, { intent: 'search' }));
    await h.advance(2000);
    await h.ingest(records(2, false, { intent: 'search' }));
    expect((await h.alerts()).filter((a) => a.state === 'firing').map((a) => a.silencedBy)).toEqual([all.data!.createSilence.id, scoped.data!.createSilence.id]);
    await sleep(300);
    expect(s.on('/search')).toHaveLength(1);

    const expired = await gql<{ expireSilence: { active: boolean } }>(h.server, `mutation { expireSilence(id: "${all.data!.createSilence.id}") { active } }`);
    expect(expired.data!.expireSilence.active).toBe(false);
    await h.evaluate();
    await waitFor(async () => s.on('/search').length === 2, 'the notice once the global silence ended');
    expect(s.on('/refund')).toHaveLength(0);
  });

  it('refuses a silence without reason or end, with an end in the past, or on an unknown rule', async () => {
    const h = await startRuleServer(cleanups);
    const cases: [Record<string, unknown>, string][] = [
      [{ reason: ' ', durationMinutes: 5 }, 'input.reason'],
      [{ reason: 'x' }, 'endsAt or durationMinutes'],
      [{ reason: 'x', endsAt: new Date(h.clock.now - MIN).toISOString() }, 'input.endsAt: must be in the future'],
      [{ reason: 'x', durationMinutes: 5, ruleId: 'nope' }, 'input.ruleId: no alert rule "nope"'],
      [{ reason: 'x', durationMinutes: 5, scope: { intent: '' } }, 'input.scope.intent'],
    ];
    for (const [input, message] of cases) {
      const res = await silence(h, input);
      expect(res.errors?.[0]?.message, JSON.stringify(input)).toContain(message);
    }
    const unknown = await gql(h.server, 'mutation { expireSilence(id: "missing") { id } }');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
