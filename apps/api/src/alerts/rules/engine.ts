/**
 * The engine of alert rules (alertRules): per rule a sliding window over the interactions in
 * its scope, and Alertmanager's states — inactive → pending (the condition holds, for less
 * than the rule's pending duration) → firing (warning or critical) → resolved. A pending
 * condition that clears is forgotten without a word, so a flap never notifies.
 *
 * Every replica runs it over the same stream (like the seed engine) and reaches the same
 * states; each side effect — raising, escalating, repeating, un-muting, resolving, writing the
 * running value — is claimed through the AlertCoordinator, so it happens once in the cluster.
 * Time comes from an injectable clock: tests drive it with a fake one.
 */
import { SERIES_STEP_MS, appendPoint } from '../series.js';
import type { Interaction } from '../../model/interaction.js';
import type { AlertRecord } from '../../model/alert.js';
import type { Logger } from '../../log/logger.js';
import type { AlertCoordinator } from '../coordinator.js';
import { METRICS, type MetricUnit, type RuleMetric } from '../kinds/metrics.js';
import { RuleWindow } from './window.js';
import { bucketOf } from '../../model/histogram.js';
import { activeSilenceFor, scopeMatcher, type AlertRuleDefinition, type Comparison, type RuleScope, type Severity, type Silence } from './model.js';

/** What a rule's alert carries in `details.rule`. */
export interface RuleAlertDetails {
  ruleId: string;
  ruleName: string;
  metric: RuleMetric;
  unit: MetricUnit;
  severity: Severity;
  comparison: Comparison;
  warning: number | null;
  critical: number | null;
  scope: RuleScope;
  windowMinutes: number;
  currentValue: number;
  peakValue: number;
  /** [epoch ms, value], oldest first (alerts/series.ts). */
  series: [number, number][];
  /** The silence that held back the firing notice (null once it was sent). */
  mutedBy: string | null;
}

export type RuleEvent = 'firing' | 'escalated' | 'repeat' | 'resolved';

export interface RaiseRequest {
  rule: AlertRuleDefinition;
  value: number;
  severity: Severity;
  series: [number, number][];
  now: number;
  silence: Silence | null;
}

export interface RuleActions {
  /** Stores and publishes the alert; notifies the rule's channels unless `silence` (then records why not). */
  raise(req: RaiseRequest): Promise<AlertRecord>;
  /** Writes the running value, peak, series and severity. */
  update(alertId: string, patch: Partial<RuleAlertDetails>): Promise<void>;
  /** Marks the alert resolved (with its last details) and sends the resolve notice when `notice`. */
  resolve(alertId: string, now: number, patch: Partial<RuleAlertDetails>, notice: boolean): Promise<void>;
  /** Sends `event` for a firing alert to the rule's channels. */
  notify(alertId: string, rule: AlertRuleDefinition, event: RuleEvent): Promise<void>;
}

export interface RuleEngineOptions {
  clock: () => number;
  coordinator: AlertCoordinator;
  actions: RuleActions;
  silences: () => readonly Silence[];
  logger: Logger;
  tickMs?: number;
}

export type RulePhase = 'inactive' | 'pending' | 'firing';

export interface RuleStateView {
  phase: RulePhase;
  value: number | null;
  pendingSince: number | null;
  alertId: string | null;
  severity: Severity | null;
}

/** Replicas never both raise, even with a cooldown of 0. */
const MIN_DEDUP_MS = 1000;
const CLAIM_MS = 24 * 3_600_000;

interface FiringAlert {
  id: string;
  raisedAt: number;
  severity: Severity;
  peak: number;
  current: number;
  mutedBy: string | null;
  repeats: number;
  escalations: number;
  /** Read from the store at start: the window it fired on is gone. */
  restored: boolean;
  /** The last sparkline step whose write this replica tried to claim. */
  step: number;
}

interface RuleState {
  rule: AlertRuleDefinition;
  /** The rule's scope check; null: every record counts. */
  matches: ((r: Interaction) => boolean) | null;
  identity: string;
  window: RuleWindow;
  streak: number;
  streakPeak: number;
  since: number;
  lastSeen: number;
  /** An interaction in scope arrived since the rule started watching. */
  seen: boolean;
  phase: RulePhase;
  pendingSince: number | null;
  value: number | null;
  series: [number, number][];
  alert: FiringAlert | null;
}

const identityOf = (r: AlertRuleDefinition): string => JSON.stringify([r.metric, r.scope, r.windowMinutes]);

/** warning / critical for `value`, or null when neither threshold is crossed. */
export function severityOf(rule: Pick<AlertRuleDefinition, 'comparison' | 'warning' | 'critical'>, value: number): Severity | null {
  const crosses = (t: number | null): boolean => t !== null && (rule.comparison === 'above' ? value > t : value < t);
  if (crosses(rule.critical)) return 'critical';
  if (crosses(rule.warning)) return 'warning';
  return null;
}

const worse = (c: Comparison, a: number, b: number): boolean => (c === 'above' ? a > b : a < b);

export class RuleEngine {
  private readonly states = new Map<string, RuleState>();
  private dirty = false;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;
  /** Interactions observed (tests wait for their ingest to reach the engine). */
  observed = 0;

  constructor(private readonly opts: RuleEngineOptions) {}

  /** The rules in force; a rule whose metric, scope or window changed starts a new window. */
  async setRules(rules: readonly AlertRuleDefinition[]): Promise<void> {
    const now = this.opts.clock();
    const ids = new Set(rules.map((r) => r.id));
    for (const [id, st] of this.states) {
      if (ids.has(id)) continue;
      this.states.delete(id);
      if (st.alert) await this.closeAlert(st, st.alert, now, false);
    }
    for (const rule of rules) {
      const st = this.states.get(rule.id);
      if (st && st.identity === identityOf(rule)) {
        st.rule = rule;
        continue;
      }
      this.states.set(rule.id, {
        rule, matches: scopeMatcher(rule.scope), identity: identityOf(rule), window: new RuleWindow(rule.windowMinutes * 60_000, now), streak: 0, streakPeak: 0,
        since: now, lastSeen: now, seen: false, phase: st?.phase ?? 'inactive', pendingSince: st?.pendingSince ?? null, value: null,
        series: st?.series ?? [], alert: st?.alert ?? null,
      });
    }
    this.schedule();
  }

  observe(records: readonly Interaction[]): void {
    const now = this.opts.clock();
    this.observed += records.length;
    if (this.states.size === 0) return;
    // Each record's latency bucket once, for every rule.
    const buckets = records.map((r) => bucketOf(r.responseTimeMs));
    for (const st of this.states.values()) {
      const matches = st.matches;
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        if (matches && !matches(r)) continue;
        st.window.add(r, now, buckets[i]);
        st.lastSeen = now;
        st.seen = true;
        st.streak = r.success ? 0 : st.streak + 1;
        if (st.streak > st.streakPeak) st.streakPeak = st.streak;
      }
    }
    this.schedule();
  }

  /** An open rule alert read from the store at start. */
  restore(alert: AlertRecord): void {
    this.noteOpen(alert, true);
  }

  /** A rule alert raised by this or another replica. */
  noteOpen(alert: AlertRecord, restored = false): void {
    const d = ruleDetailsOf(alert);
    if (!d || alert.status !== 'open') return;
    const st = this.states.get(d.ruleId);
    if (!st || st.alert?.id === alert.id || (st.alert && st.alert.raisedAt > alert.raisedAt)) return;
    st.phase = 'firing';
    st.pendingSince = null;
    st.alert = {
      id: alert.id, raisedAt: alert.raisedAt, severity: d.severity, peak: d.peakValue, current: d.currentValue,
      mutedBy: d.mutedBy, repeats: 0, escalations: 0, restored, step: 0,
    };
  }

  noteResolved(alert: AlertRecord): void {
    const d = ruleDetailsOf(alert);
    const st = d ? this.states.get(d.ruleId) : undefined;
    if (!st || alert.status !== 'resolved' || st.alert?.id !== alert.id) return;
    st.alert = null;
    st.phase = 'inactive';
  }

  stateOf(ruleId: string): RuleStateView | null {
    const st = this.states.get(ruleId);
    if (!st) return null;
    return { phase: st.phase, value: st.value, pendingSince: st.pendingSince, alertId: st.alert?.id ?? null, severity: st.alert?.severity ?? null };
  }

  start(): void {
    this.started = true;
    this.timer = setInterval(() => this.schedule(), this.opts.tickMs ?? 1000);
    this.timer.unref();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Runs one full evaluation at the clock's time, after any under way (for tests and settings changes). */
  async evaluateNow(): Promise<void> {
    await this.running;
    if (this.stopped) return;
    this.schedule();
    await this.running;
  }

  private schedule(): void {
    if (!this.started || this.stopped) return;
    this.dirty = true;
    if (this.running) return;
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      const now = this.opts.clock();
      for (const st of [...this.states.values()]) {
        try {
          await this.judge(st, now);
        } catch (err) {
          this.opts.logger.error({ err, rule: st.rule.id }, `alert rule "${st.rule.name}" could not be evaluated: ${(err as Error).message}`);
        }
      }
    }
  }

  private valueOf(st: RuleState, now: number): number | null {
    const { rule } = st;
    const metric = METRICS[rule.metric];
    const windowMs = rule.windowMinutes * 60_000;
    // A "below" rule over a window judges only once the window is full: an empty window at start is not a drop.
    if (metric.windowed && rule.comparison === 'below' && now - st.since < windowMs) return null;
    const streak = Math.max(st.streak, st.streakPeak);
    st.streakPeak = st.streak;
    const value = metric.value(
      { window: st.window.stats(now), streak, minutesSinceLast: (now - st.lastSeen) / 60_000, windowMinutes: rule.windowMinutes },
      rule.minSampleSize,
    );
    return value === null || !Number.isFinite(value) ? null : value;
  }

  private async judge(st: RuleState, now: number): Promise<void> {
    const value = st.rule.enabled ? this.valueOf(st, now) : null;
    st.value = value;
    if (value !== null) appendPoint(st.series, now, round(value));
    const severity = value === null ? null : severityOf(st.rule, value);
    if (st.alert) {
      if (severity === null && st.rule.enabled && this.rebuilding(st, st.alert, now)) return;
      if (severity === null) return this.closeAlert(st, st.alert, now, st.rule.enabled);
      return this.whileFiring(st, st.alert, value!, severity, now);
    }
    if (severity === null) {
      st.phase = 'inactive';
      st.pendingSince = null;
      return;
    }
    if (st.phase !== 'pending' || st.pendingSince === null) {
      st.phase = 'pending';
      st.pendingSince = now;
    }
    if (now - st.pendingSince >= st.rule.pendingSeconds * 1000) await this.fire(st, value!, severity, now);
  }

  /**
   * After a restart the window is empty and the streak unknown: a restored alert is not judged
   * clear until the window has filled again (windowed metrics) or an interaction in scope arrived.
   */
  private rebuilding(st: RuleState, a: FiringAlert, now: number): boolean {
    if (!a.restored) return false;
    const metric = METRICS[st.rule.metric];
    if (metric.windowed ? now - st.since < st.rule.windowMinutes * 60_000 : !st.seen) return true;
    a.restored = false;
    return false;
  }

  private async fire(st: RuleState, value: number, severity: Severity, now: number): Promise<void> {
    const { rule } = st;
    const cooldownMs = Math.max(rule.cooldownMinutes * 60_000, MIN_DEDUP_MS);
    // Another replica raised it (its alert arrives on the alerts topic), or the cooldown holds: stay pending.
    if (!(await this.opts.coordinator.tryAcquire(`rule:${rule.id}`, cooldownMs, now))) return;
    const silence = activeSilenceFor(this.opts.silences(), rule.id, rule.scope, now);
    const alert = await this.opts.actions.raise({ rule, value, severity, series: [...st.series], now, silence });
    st.phase = 'firing';
    st.pendingSince = null;
    st.alert = { id: alert.id, raisedAt: now, severity, peak: value, current: value, mutedBy: silence?.id ?? null, repeats: 0, escalations: 0, restored: false, step: Math.floor(now / SERIES_STEP_MS) };
  }

  private async whileFiring(st: RuleState, a: FiringAlert, value: number, severity: Severity, now: number): Promise<void> {
    const { rule } = st;
    st.phase = 'firing';
    a.current = value;
    if (worse(rule.comparison, value, a.peak)) a.peak = value;
    const claim = (what: string): Promise<boolean> => this.opts.coordinator.tryClaim(`${what}:${a.id}`, CLAIM_MS);
    const silenced = activeSilenceFor(this.opts.silences(), rule.id, rule.scope, now) !== null;
    if (severity !== a.severity) {
      const escalated = severity === 'critical';
      a.severity = severity;
      if (escalated) a.escalations++;
      if (await claim(`severity:${a.escalations}:${severity}`)) {
        await this.opts.actions.update(a.id, this.patchOf(st, a));
        if (escalated && !silenced && a.mutedBy === null) await this.opts.actions.notify(a.id, rule, 'escalated');
      }
    }
    if (a.mutedBy !== null && !silenced) {
      // The silence ended while the alert still fires: the held-back notice goes out now.
      a.mutedBy = null;
      if (await claim('unmuted')) {
        await this.opts.actions.update(a.id, { mutedBy: null });
        await this.opts.actions.notify(a.id, rule, 'firing');
      }
    }
    if (rule.renotifyMinutes > 0) {
      const k = Math.floor((now - a.raisedAt) / (rule.renotifyMinutes * 60_000));
      if (k > a.repeats) {
        a.repeats = k;
        if (!silenced && a.mutedBy === null && (await claim(`repeat:${k}`))) await this.opts.actions.notify(a.id, rule, 'repeat');
      }
    }
    // The running value is written once per step in the cluster (asked once per step here, not per batch).
    const step = Math.floor(now / SERIES_STEP_MS);
    if (step > a.step) {
      a.step = step;
      if (await this.opts.coordinator.tryClaim(`value:${step}:${a.id}`, SERIES_STEP_MS * 6)) await this.opts.actions.update(a.id, this.patchOf(st, a));
    }
  }

  private async closeAlert(st: RuleState, a: FiringAlert, now: number, notice: boolean): Promise<void> {
    st.alert = null;
    st.phase = 'inactive';
    st.pendingSince = null;
    if (!(await this.opts.coordinator.tryClaim(`resolve:${a.id}`, CLAIM_MS))) return;
    const silenced = activeSilenceFor(this.opts.silences(), st.rule.id, st.rule.scope, now) !== null;
    await this.opts.actions.resolve(a.id, now, this.patchOf(st, a), notice && st.rule.notifyResolved && a.mutedBy === null && !silenced);
  }

  private patchOf(st: RuleState, a: FiringAlert): Partial<RuleAlertDetails> {
    return { severity: a.severity, currentValue: round(st.value ?? a.current), peakValue: round(a.peak), series: [...st.series] };
  }
}

export function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

/** The rule details of a rule alert, null for the seed's kinds. */
export function ruleDetailsOf(alert: AlertRecord): RuleAlertDetails | null {
  if (alert.kind !== 'rule') return null;
  const d = alert.details?.rule;
  return typeof d === 'object' && d !== null ? (d as RuleAlertDetails) : null;
}
