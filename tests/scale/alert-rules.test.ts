/**
 * Alert rules across two replicas on PostgreSQL and Redis: a rule or silence made on one
 * replica applies on the other; failures ingested at both raise one alert, with one firing
 * notice and one resolve notice (each transition notifies exactly once).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { gql, type RunningServer } from '../helpers/server.js';
import { noteSkip, pgQuery, probePostgres, probeRedis } from '../helpers/services.js';
import { QUIET, postInteractions, records, writeAlertConfig } from '../alerts/support.js';
import { startNotificationSink, type NotificationSink } from '../alerts/rule-support.js';
import { sleep, startCluster, waitUntil, type Cluster } from './support.js';

const pgError = await probePostgres();
const redisError = await probeRedis();
noteSkip('scale-out: alert rules', 'PostgreSQL', pgError);
noteSkip('scale-out: alert rules', 'Redis', redisError);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function cluster(n: number): Promise<Cluster> {
  const c = await startCluster(n, { prepare: (dir) => writeAlertConfig(dir, QUIET) });
  cleanups.push(() => c.close());
  return c;
}

async function storedRuleIds(server: RunningServer): Promise<string[]> {
  const res = await gql<{ alertRules: { id: string; source: string }[] }>(server, '{ alertRules { id source } }');
  return res.data!.alertRules.filter((r) => r.source === 'stored').map((r) => r.id);
}

describe.skipIf(pgError !== null || redisError !== null)('scale-out: alert rules', () => {
  it('a rule made on one replica fires once for failures at both, with one firing and one resolve notice', async () => {
    const sink: NotificationSink = await startNotificationSink();
    cleanups.push(() => sink.close());
    const c = await cluster(2);
    const [a, b] = c.replicas as [RunningServer, RunningServer];
    const created = await gql<{ createAlertRule: { id: string } }>(
      a,
      'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
      { input: { name: 'streak', metric: 'consecutive_errors', critical: 3, channels: [{ type: 'webhook', url: `${sink.base}/hook`, secret: 'k' }] } },
    );
    const id = created.data!.createAlertRule.id;
    await waitUntil(async () => (await storedRuleIds(b)).includes(id), 'the rule on replica B');

    // Alternating replicas, each batch committed before the next: one streak of 6 in the cluster.
    for (let i = 0; i < 6; i++) await postInteractions(i % 2 === 0 ? a : b, records(1, false));
    const alerts = () => pgQuery<{ id: string; status: string; delivery: string }>(`SELECT id, status, delivery FROM "${c.schema}".alerts WHERE kind = 'rule'`);
    await waitUntil(async () => sink.requests.length >= 1, 'the firing notice');
    await postInteractions(b, records(1, true));
    await waitUntil(async () => (await alerts()).some((r) => r.status === 'resolved'), 'the alert resolved');
    await waitUntil(async () => sink.requests.length >= 2, 'the resolve notice');
    // A quiet period in which a duplicate raise or notice would show up.
    for (let i = 0; i < 15; i++) {
      expect(await alerts()).toHaveLength(1);
      expect(sink.requests).toHaveLength(2);
      await sleep(100);
    }
    expect(sink.requests.map((r) => r.body.event)).toEqual(['firing', 'resolved']);
    const [stored] = await alerts();
    expect(JSON.parse(stored!.delivery).map((d: { event: string; ok: boolean }) => [d.event, d.ok])).toEqual([['firing', true], ['resolved', true]]);
  });

  it('a silence set on one replica mutes the rule on the other', async () => {
    const sink: NotificationSink = await startNotificationSink();
    cleanups.push(() => sink.close());
    const c = await cluster(2);
    const [a, b] = c.replicas as [RunningServer, RunningServer];
    await gql(a, 'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', {
      input: { name: 'refunds', metric: 'consecutive_errors', critical: 1, scope: { intent: 'refund' }, channels: [{ type: 'slack', url: `${sink.base}/slack` }] },
    });
    const silence = await gql<{ createSilence: { id: string } }>(b, 'mutation { createSilence(input: { scope: { intent: "refund" }, durationMinutes: 30, reason: "provider outage" }) { id } }');
    const sid = silence.data!.createSilence.id;
    await waitUntil(async () => {
      const res = await gql<{ silences: { id: string }[] }>(a, '{ silences(active: true) { id } }');
      return res.data!.silences.some((s) => s.id === sid);
    }, 'the silence on replica A');
    await waitUntil(async () => (await storedRuleIds(b)).length === 1, 'the rule on replica B');
    await postInteractions(a, records(2, false, { intent: 'refund' }));
    const rows = await waitUntil(async () => {
      const r = await pgQuery<{ details: string; delivery: string }>(`SELECT details, delivery FROM "${c.schema}".alerts WHERE kind = 'rule'`);
      return r.length === 1 && JSON.parse(r[0]!.delivery).length === 1 ? r : null;
    }, 'the silenced alert');
    expect(JSON.parse(rows[0]!.details).rule.mutedBy).toBe(sid);
    expect(JSON.parse(rows[0]!.delivery)[0].detail).toContain('provider outage');
    await sleep(500);
    expect(sink.requests).toHaveLength(0);
  });
});
