/**
 * The rule engine alone, with a fake clock, a local coordinator and recorded actions:
 * Alertmanager's states (inactive → pending → firing → resolved), severity, repeat and the
 * documented limits of rules, channels and silences through GraphQL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RuleEngine, type RaiseRequest, type RuleEvent } from '../../apps/api/src/alerts/rules/engine.js';
import { LocalAlertCoordinator } from '../../apps/api/src/alerts/coordinator.js';
import type { AlertRuleDefinition } from '../../apps/api/src/alerts/rules/model.js';
import type { AlertRecord } from '../../apps/api/src/model/alert.js';
import { storedInteraction } from '../helpers/records.js';
import { gql } from '../helpers/app.js';
import { startRuleServer } from './rule-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function rule(over: Partial<AlertRuleDefinition> = {}): AlertRuleDefinition {
  return {
    id: 'r1', name: 'errors', metric: 'error_rate', scope: {}, comparison: 'above', warning: 10, critical: 50, windowMinutes: 5, minSampleSize: 4,
    pendingSeconds: 60, cooldownMinutes: 0, renotifyMinutes: 5, notifyResolved: true, enabled: true, channels: [], createdAt: 0, updatedAt: 0, createdBy: null,
    ...over,
  };
}

function harness() {
  let now = 1_700_000_000_000;
  const log: string[] = [];
  const engine = new RuleEngine({
    clock: () => now,
    coordinator: new LocalAlertCoordinator(),
    logger: pino({ level: 'silent' }),
    silences: () => [],
    actions: {
      async raise(req: RaiseRequest) {
        log.push(`raise ${req.severity} ${req.value}`);
        return { id: 'a1', kind: 'rule', status: 'open', raisedAt: req.now, details: {} } as unknown as AlertRecord;
      },
      async update() {},
      async resolve(_id: string, _now: number, patch: { peakValue?: number }, notice: boolean) {
        log.push(`resolve peak=${patch.peakValue} notice=${notice}`);
      },
      async notify(_id: string, _r: AlertRuleDefinition, event: RuleEvent) {
        log.push(`notify ${event}`);
      },
    },
  });
  engine.start();
  cleanups.push(() => engine.stop());
  return {
    engine,
    log,
    feed: (ok: number, failed: number) =>
      engine.observe([...Array.from({ length: ok }, () => storedInteraction({ timestamp: 0, success: true })), ...Array.from({ length: failed }, () => storedInteraction({ timestamp: 0, success: false, errorType: 'timeout' }))]),
    advance: async (ms: number) => {
      now += ms;
      await engine.evaluateNow();
    },
  };
}

describe('rule engine with a fake clock', () => {
  it('goes inactive → pending → firing → resolved, escalates and repeats', async () => {
    const h = harness();
    await h.engine.setRules([rule()]);
    h.feed(6, 4); // 40 %: warning
    await h.advance(0);
    expect(h.engine.stateOf('r1')).toMatchObject({ phase: 'pending', value: 40 });
    await h.advance(59_000);
    expect(h.log).toEqual([]);
    await h.advance(1_000);
    expect(h.log).toEqual(['raise warning 40']);
    h.feed(0, 10); // 70 %: critical
    await h.advance(1_000);
    expect(h.log.at(-1)).toBe('notify escalated');
    await h.advance(6 * 60_000);
    // The window (5 min) slid past every record: nothing left to judge, so it resolves.
    expect(h.log.slice(2)).toEqual(['resolve peak=70 notice=true']);
    expect(h.engine.stateOf('r1')?.phase).toBe('inactive');
  });

  it('repeats while firing, every renotify interval', async () => {
    const h = harness();
    await h.engine.setRules([rule({ metric: 'consecutive_errors', warning: null, critical: 1, pendingSeconds: 0, renotifyMinutes: 2 })]);
    h.feed(0, 3);
    await h.advance(0);
    for (let i = 0; i < 5; i++) await h.advance(60_000);
    expect(h.log).toEqual(['raise critical 3', 'notify repeat', 'notify repeat']);
  });
});

describe('documented limits', () => {
  it('at most 100 rules, 10 channels per rule, and a silence reason of 1000 characters', async () => {
    const h = await startRuleServer(cleanups);
    for (let i = 0; i < 100; i++) await h.createRule({ name: `rule ${i}`, metric: 'cost', critical: 1 });
    const over = await gql(h.server, 'mutation { createAlertRule(input: { name: "one more", metric: cost, critical: 1 }) { id } }');
    expect(over.errors?.[0]?.message).toBe('at most 100 alert rules; delete one first');
    const channels = Array.from({ length: 11 }, () => ({ type: 'slack', url: 'https://hooks.slack.com/services/x' }));
    const res = await gql(h.server, 'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', { input: { name: 'x', metric: 'cost', critical: 1, channels } });
    expect(res.errors?.[0]?.message).toContain('input.channels: at most 10 channels');
    const long = await gql(h.server, 'mutation ($r: String!) { createSilence(input: { durationMinutes: 5, reason: $r }) { id } }', { r: 'x'.repeat(1001) });
    expect(long.errors?.[0]?.message).toBe('input.reason: must be at most 1000 characters');
    const ok = await gql(h.server, 'mutation ($r: String!) { createSilence(input: { durationMinutes: 5, reason: $r }) { id } }', { r: 'x'.repeat(1000) });
    expect(ok.errors).toBeUndefined();
  });
});
