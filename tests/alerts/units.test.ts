/**
 * Unit tests of the alert pieces on a fake clock: the sliding window (times are passed in),
 * the rule registry's rules, the settings validator derived from it, and the engine driven
 * through vitest's fake timers. No test waits on real time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT_KINDS } from '@ai-monitor/schema';
import { SlidingWindow } from '../../apps/api/src/alerts/window.js';
import { ALERT_RULES, ALERT_RULE_LIST, type RuleInput, type StreakSnapshot } from '../../apps/api/src/alerts/kinds/index.js';
import { ALERT_CONFIG_FIELDS, ALERT_CONFIG_GRAPHQL_NAMES, parseAlertConfig, fileLabel, type AlertSettings } from '../../apps/api/src/alerts/config-schema.js';
import { AlertEngine, type AlertActions, type SeedAlertProgress } from '../../apps/api/src/alerts/engine.js';
import { LocalAlertCoordinator } from '../../apps/api/src/alerts/coordinator.js';
import { alertHeadline } from '../../apps/api/src/alerts/notify/text.js';
import { createLogger } from '../../apps/api/src/log/logger.js';
import type { AlertRecord } from '../../apps/api/src/model/alert.js';
import type { Interaction } from '../../apps/api/src/model/interaction.js';
import { Histogram } from '../../apps/api/src/model/histogram.js';
import { renderWebModule } from '../../apps/api/src/alerts/kinds/web-module.js';

const T0 = Date.UTC(2026, 1, 17, 14, 30, 0);
const MIN = 60_000;

const defaults = (): AlertSettings => parseAlertConfig({}, fileLabel('alert_config.json'));
const settings = (patch: Partial<AlertSettings> = {}): AlertSettings => ({ ...defaults(), ...patch });

const emptyStreak: StreakSnapshot = { current: 0, peak: 0, recent: [] };
const windowOf = (count: number, errors: number, p95: number | null = 100): RuleInput['window'] => ({
  count,
  errors,
  errorRate: count === 0 ? 0 : (errors / count) * 100,
  p95,
});

describe('SlidingWindow', () => {
  it('counts records inside the window and expires them as the clock moves past it', () => {
    const w = new SlidingWindow(5 * MIN, T0);
    for (let i = 0; i < 10; i++) expect(w.add(T0, 100, i < 3, T0)).toBe(true);
    expect(w.stats(T0)).toMatchObject({ count: 10, errors: 3, errorRate: 30 });
    expect(w.stats(T0 + 4 * MIN)).toMatchObject({ count: 10, errors: 3 });
    expect(w.stats(T0 + 5 * MIN + 1000)).toEqual({ count: 0, errors: 0, errorRate: 0, p95: null });
  });

  it('counts future times as now and ignores times older than the window', () => {
    const w = new SlidingWindow(MIN, T0);
    expect(w.add(T0 + 3_600_000, 50, false, T0)).toBe(true);
    expect(w.add(T0 - 2 * MIN, 50, true, T0)).toBe(false);
    expect(w.stats(T0)).toMatchObject({ count: 1, errors: 0 });
    expect(w.stats(T0 + MIN + 1000).count).toBe(0);
  });

  it('reads the p95 of the records in the window (log buckets, about 4 %)', () => {
    const w = new SlidingWindow(MIN, T0);
    for (let i = 1; i <= 100; i++) w.add(T0, i * 10, false, T0);
    const p95 = w.stats(T0).p95!;
    expect(p95).toBeGreaterThan(950 * 0.95);
    expect(p95).toBeLessThan(950 * 1.05);
  });

  it('restores roll-up minutes, including the part of a minute that began before the window', () => {
    const w = new SlidingWindow(5 * MIN, T0);
    const h = new Histogram();
    h.record(200, 4);
    w.addAggregate(T0 - 6 * MIN, 4, 1, h, T0);
    w.addAggregate(T0 - 2 * MIN, 4, 2, h, T0);
    expect(w.stats(T0)).toMatchObject({ count: 8, errors: 3 });
  });
});

describe('rule registry', () => {
  it('has one module per alert kind, in the order of ALERT_KINDS', () => {
    expect(ALERT_RULE_LIST.map((r) => r.kind)).toEqual([...ALERT_KINDS]);
    for (const kind of ALERT_KINDS) expect(ALERT_RULES[kind].kind).toBe(kind);
  });

  it("derives the settings validator: the seed file's fields in the seed's order, with its defaults", () => {
    expect(ALERT_CONFIG_FIELDS.slice(0, 7)).toEqual([
      'error_rate_threshold',
      'response_time_threshold',
      'consecutive_errors_threshold',
      'alert_cooldown_minutes',
      'enabled',
      'webhook_url',
      'email_notifications',
    ]);
    expect(defaults()).toMatchObject({ error_rate_threshold: 5, response_time_threshold: 30000, consecutive_errors_threshold: 3 });
    expect(ALERT_CONFIG_GRAPHQL_NAMES.consecutive_errors_threshold).toBe('consecutiveErrorsThreshold');
    expect(() => parseAlertConfig({ consecutive_errors_threshold: 0 }, fileLabel('f.json'))).toThrow('f.json: consecutive_errors_threshold: must be 1 or more');
  });

  it('high_error_rate waits for the minimum sample and fires strictly above the threshold', () => {
    const rule = ALERT_RULES.high_error_rate;
    const s = settings({ error_rate_threshold: 10, min_sample_size: 20 });
    expect(rule.evaluate({ window: windowOf(10, 10), streak: emptyStreak }, s)).toBeNull();
    expect(rule.evaluate({ window: windowOf(20, 2), streak: emptyStreak }, s)).toBeNull();
    const c = rule.evaluate({ window: windowOf(20, 3), streak: emptyStreak }, s)!;
    expect(c).toMatchObject({ kind: 'high_error_rate', value: 15, threshold: 10 });
    expect(c.message).toBe('Error rate 15.0 % over the last 5 minutes (3 of 20 interactions failed) is above the threshold of 10.0 %');
  });

  it('slow_response judges the window p95 against milliseconds', () => {
    const rule = ALERT_RULES.slow_response;
    const s = settings({ response_time_threshold: 1000, min_sample_size: 1, window_minutes: 1 });
    expect(rule.evaluate({ window: windowOf(5, 0, 1000), streak: emptyStreak }, s)).toBeNull();
    expect(rule.evaluate({ window: windowOf(5, 0, null), streak: emptyStreak }, s)).toBeNull();
    const c = rule.evaluate({ window: windowOf(5, 0, 1500.04), streak: emptyStreak }, s)!;
    expect(c).toMatchObject({ kind: 'slow_response', value: 1500, threshold: 1000 });
    expect(c.message).toContain('over the last minute');
  });

  it('consecutive_errors uses the longest streak since the last evaluation', () => {
    const rule = ALERT_RULES.consecutive_errors;
    const s = settings({ consecutive_errors_threshold: 3 });
    const recent = [
      { id: 'a', sessionId: 's1', errorType: 'timeout' },
      { id: 'b', sessionId: 's2', errorType: null },
      { id: 'c', sessionId: 's1', errorType: 'timeout' },
    ];
    expect(rule.evaluate({ window: windowOf(0, 0), streak: { current: 2, peak: 2, recent } }, s)).toBeNull();
    const c = rule.evaluate({ window: windowOf(0, 0), streak: { current: 0, peak: 3, recent } }, s)!;
    expect(c).toMatchObject({ kind: 'consecutive_errors', value: 3, threshold: 3 });
    expect(c.message).toBe('3 interactions failed in a row (threshold 3); last error: timeout');
    expect(c.details).toMatchObject({ errorTypes: ['timeout', 'unknown'], sessionIds: ['s1', 's2'], interactionIds: ['a', 'b', 'c'] });
  });

  it("the dashboard's kinds and editor fields are the registry's (generated module is current)", () => {
    const file = join(import.meta.dirname, '../../apps/web/src/lib/alerts/kinds.generated.ts');
    expect(readFileSync(file, 'utf8'), 'regenerate: node apps/api/dist/alerts/kinds/web-module.js apps/web/src/lib/alerts/kinds.generated.ts').toBe(renderWebModule());
    expect(renderWebModule()).toContain('"label": "Slow responses"');
  });

  it('titles the notifications from the registry', () => {
    const alert = { kind: 'slow_response', message: 'p95 high' } as AlertRecord;
    expect(alertHeadline(alert)).toBe('[ai-monitor] Slow responses: p95 high');
  });
});

describe('AlertEngine on fake timers', () => {
  let current: AlertSettings;
  let raised: AlertRecord[];
  let resolved: string[];
  let progress: [string, SeedAlertProgress][];
  let engine: AlertEngine;
  let n = 0;

  const interaction = (success: boolean, responseTimeMs = 100): Interaction =>
    ({ id: `i${++n}`, sessionId: 's', receivedAt: Date.now(), responseTimeMs, success, errorType: success ? null : 'timeout' }) as Interaction;

  const actions: AlertActions = {
    async raise(c, now) {
      const alert: AlertRecord = {
        id: `a${raised.length + 1}`,
        kind: c.kind,
        status: 'open',
        message: c.message,
        value: c.value,
        threshold: c.threshold,
        raisedAt: now,
        resolvedAt: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
        delivery: [],
        details: c.details,
      };
      raised.push(alert);
      return alert;
    },
    async resolve(id) {
      resolved.push(id);
    },
    async progress(id, p) {
      progress.push([id, p]);
    },
  };

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    current = settings({ error_rate_threshold: 100, response_time_threshold: 86_400_000, consecutive_errors_threshold: 100_000, alert_cooldown_minutes: 10 });
    raised = [];
    resolved = [];
    progress = [];
    engine = new AlertEngine({
      settings: () => current,
      coordinator: new LocalAlertCoordinator(),
      actions,
      logger: createLogger({ level: 'silent' }),
    });
    engine.start();
  });

  afterEach(async () => {
    await engine.stop();
    vi.useRealTimers();
  });

  /** Lets the engine's coalesced evaluation run (promises only; the clock does not move). */
  const settle = () => vi.advanceTimersByTimeAsync(0);

  it('raises high_error_rate once per incident and resolves it when the window slides past it', async () => {
    current = { ...current, error_rate_threshold: 10, min_sample_size: 20, window_minutes: 1 };
    engine.reevaluate();
    await settle();
    engine.observe(Array.from({ length: 10 }, () => interaction(false)));
    await settle();
    expect(raised).toEqual([]); // below the minimum sample

    engine.observe(Array.from({ length: 10 }, () => interaction(true)));
    await settle();
    expect(raised.map((a) => a.kind)).toEqual(['high_error_rate']);
    expect(raised[0]).toMatchObject({ value: 50, threshold: 10 });

    engine.observe([interaction(false)]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(raised).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(MIN + 2000); // every record left the window; the 1 s tick judges it
    expect(resolved).toEqual(['a1']);
  });

  it('follows an open alert: its worst value stored at once, its current value and a sparkline as the incident develops', async () => {
    current = { ...current, error_rate_threshold: 10, min_sample_size: 20, window_minutes: 5 };
    engine.reevaluate();
    engine.observe([...Array.from({ length: 16 }, () => interaction(true)), ...Array.from({ length: 4 }, () => interaction(false))]);
    await settle();
    expect(raised.map((a) => [a.kind, a.value])).toEqual([['high_error_rate', 20]]);

    await vi.advanceTimersByTimeAsync(10_000);
    engine.observe(Array.from({ length: 20 }, () => interaction(false))); // 24 of 40 failed: 60 %
    await settle();
    expect(progress.at(-1)).toEqual(['a1', { currentValue: 60, peakValue: 60, series: [[T0, 20], [T0 + 10_000, 60]] }]);

    await vi.advanceTimersByTimeAsync(10_000);
    engine.observe(Array.from({ length: 40 }, () => interaction(true))); // 24 of 80: 30 %
    await vi.advanceTimersByTimeAsync(1000);
    const [id, last] = progress.at(-1)!;
    expect(id).toBe('a1');
    expect(last).toMatchObject({ currentValue: 30, peakValue: 60 });
    expect(last.series.map(([, v]) => v)).toEqual([20, 60, 30]);
    expect(resolved).toEqual([]);
  });

  it('keeps the cooldown: a new incident within it raises nothing, one after it raises again', async () => {
    current = { ...current, consecutive_errors_threshold: 2, alert_cooldown_minutes: 10 };
    engine.observe([interaction(false), interaction(false)]);
    await settle();
    expect(raised).toHaveLength(1);
    engine.observe([interaction(true)]);
    await settle();
    expect(resolved).toEqual(['a1']);

    engine.observe([interaction(false), interaction(false)]);
    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect(raised).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(6 * MIN);
    engine.observe([interaction(false), interaction(true), interaction(false), interaction(false)]);
    await settle();
    expect(raised).toHaveLength(2);
  });

  it('resolves a streak that ended within the batch that raised it', async () => {
    current = { ...current, consecutive_errors_threshold: 3 };
    engine.observe([interaction(false), interaction(false), interaction(false), interaction(true)]);
    await settle();
    expect(raised.map((a) => [a.kind, a.value])).toEqual([['consecutive_errors', 3]]);
    expect(resolved).toEqual(['a1']);
  });

  it('applies new thresholds at once on reevaluate, and raises nothing while disabled', async () => {
    engine.observe(Array.from({ length: 20 }, () => interaction(true, 2000)));
    await settle();
    expect(raised).toEqual([]);

    current = { ...current, response_time_threshold: 1000, enabled: false };
    engine.reevaluate();
    await settle();
    expect(raised).toEqual([]);

    current = { ...current, enabled: true };
    engine.reevaluate();
    await settle();
    expect(raised.map((a) => a.kind)).toEqual(['slow_response']);
    expect(raised[0]!.threshold).toBe(1000);
  });

  it('follows alerts raised and resolved by another replica', async () => {
    current = { ...current, consecutive_errors_threshold: 2 };
    engine.noteOpen({ ...(await actions.raise({ kind: 'consecutive_errors', value: 2, threshold: 2, message: 'm', details: {} }, T0)), id: 'other' });
    raised = [];
    engine.observe([interaction(false), interaction(false)]);
    await settle();
    expect(raised).toEqual([]); // already open elsewhere
    engine.observe([interaction(true)]);
    await settle();
    expect(resolved).toEqual(['other']);
  });
});
