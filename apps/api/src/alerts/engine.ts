/**
 * The rule engine: keeps the window and the error streak up to date with every committed
 * batch (no table scans), evaluates the rules right after each batch and once a second
 * (so conditions also clear when the window slides), and decides raise / resolve. The
 * decisions go through the `AlertCoordinator` (once across replicas) and are carried out by
 * `AlertActions` (storage, pub/sub, notifications), which the engine does not know about.
 */
import { ALERT_KINDS, type AlertKind } from '@ai-monitor/schema';
import type { Interaction } from '../model/interaction.js';
import { RULE_ALERT_KIND, type AlertRecord } from '../model/alert.js';
import type { TimeBucket } from '../store/types.js';
import type { Logger } from '../log/logger.js';
import type { AlertSettings } from './config-schema.js';
import type { AlertCoordinator } from './coordinator.js';
import { SlidingWindow } from './window.js';
import { appendPoint } from './series.js';
import { ALERT_RULES, type Condition, type RuleInput, type StreakSnapshot } from './kinds/index.js';

export interface AlertActions {
  /** Stores and publishes a new alert and queues its notifications. */
  raise(condition: Condition, now: number): Promise<AlertRecord>;
  /** Marks an open alert resolved and publishes the change. */
  resolve(id: string, now: number): Promise<void>;
  /** Stores an open alert's running figures (its value now, its worst, a sparkline). */
  progress(id: string, progress: SeedAlertProgress, now: number): Promise<void>;
}

/** The running figures of an alert of alert_config.json's rules, kept in its `details.progress`. */
export interface SeedAlertProgress {
  currentValue: number;
  peakValue: number;
  /** A sparkline (alerts/series.ts). */
  series: [number, number][];
}

export interface EngineOptions {
  settings: () => AlertSettings;
  coordinator: AlertCoordinator;
  actions: AlertActions;
  logger: Logger;
  /** How often the rules are evaluated without new traffic. */
  tickMs?: number;
}

/** Replicas never both raise, even with a cooldown of 0. */
const MIN_DEDUP_MS = 1000;
/** How long a resolution claim is remembered. */
const RESOLVE_CLAIM_MS = 10 * 60_000;
/** Failures of the current streak kept for the alert's details. */
const STREAK_SAMPLE = 20;

/** Running figures are stored at most this often while the value changes (a new peak at once). */
const PROGRESS_WRITE_MS = 10_000;

type StreakEntry = StreakSnapshot['recent'][number];

export class AlertEngine {
  private window: SlidingWindow;
  private readonly open = new Map<AlertKind, { id: string; raisedAt: number }>();
  /** Running figures of the open alerts this engine has judged, and when they were last stored. */
  private readonly progressOf = new Map<string, { progress: SeedAlertProgress; storedAt: number }>();
  private streak = 0;
  private peak = 0;
  private recent: StreakEntry[] = [];
  private peakRecent: StreakEntry[] = [];
  private dirty = false;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Nothing is evaluated before `start`, so seeding completes first. */
  private started = false;
  private stopped = false;

  constructor(private readonly opts: EngineOptions) {
    this.window = new SlidingWindow(windowMsOf(opts.settings()), Date.now());
  }

  /** The records of one committed batch, in commit order. Cheap and synchronous. */
  observe(records: readonly Interaction[]): void {
    const now = Date.now();
    for (const r of records) {
      this.window.add(r.receivedAt, r.responseTimeMs, !r.success, now);
      if (r.success) this.streakBroken();
      else this.failed({ id: r.id, sessionId: r.sessionId, errorType: r.errorType });
    }
    this.schedule();
  }

  /** An alert raised (or restored) by this or another replica. */
  noteOpen(alert: AlertRecord): void {
    if (alert.status !== 'open' || alert.kind === RULE_ALERT_KIND) return;
    const known = this.open.get(alert.kind);
    if (!known || known.raisedAt <= alert.raisedAt) this.open.set(alert.kind, { id: alert.id, raisedAt: alert.raisedAt });
  }

  /** An alert resolved by this or another replica. */
  noteResolved(alert: AlertRecord): void {
    if (alert.kind === RULE_ALERT_KIND) return;
    if (alert.status === 'resolved' && this.open.get(alert.kind)?.id === alert.id) this.open.delete(alert.kind);
  }

  /** Restores the window from per-minute roll-ups (after a restart or a window change). */
  seedWindow(windowMs: number, minutes: readonly TimeBucket[]): void {
    const now = Date.now();
    const window = new SlidingWindow(windowMs, now);
    for (const m of minutes) window.addAggregate(m.start, m.count, m.errors, m.histogram, now);
    this.window = window;
    this.schedule();
  }

  /** Restores the error streak from the newest interactions, newest first. */
  seedStreak(newestFirst: readonly Interaction[]): void {
    const failures: StreakEntry[] = [];
    for (const r of newestFirst) {
      if (r.success) break;
      failures.push({ id: r.id, sessionId: r.sessionId, errorType: r.errorType });
    }
    this.streak = failures.length;
    this.peak = failures.length;
    this.recent = failures.slice(0, STREAK_SAMPLE).reverse();
  }

  /** Settings changed: evaluate now so new thresholds apply at once. */
  reevaluate(): void {
    this.schedule();
  }

  start(): void {
    this.started = true;
    const tickMs = this.opts.tickMs ?? 1000;
    this.timer = setInterval(() => this.schedule(), tickMs);
    this.timer.unref();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private failed(entry: StreakEntry): void {
    this.streak++;
    this.recent.push(entry);
    if (this.recent.length > STREAK_SAMPLE) this.recent.shift();
    if (this.streak > this.peak) this.peak = this.streak;
  }

  private streakBroken(): void {
    // Keep the sample of the longest streak for the alert raised from it.
    if (this.streak > 0 && this.streak >= this.peak) this.peakRecent = this.recent;
    this.recent = [];
    this.streak = 0;
  }

  private takeStreak(): StreakSnapshot {
    const snapshot = { current: this.streak, peak: this.peak, recent: this.streak >= this.peak ? [...this.recent] : this.peakRecent };
    this.peak = this.streak;
    this.peakRecent = [];
    return snapshot;
  }

  /** Coalesces: at most one evaluation runs, and one more follows if anything changed meanwhile. */
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
      try {
        await this.evaluate(Date.now());
      } catch (err) {
        this.opts.logger.error({ err }, `alert evaluation failed: ${(err as Error).message}`);
      }
    }
  }

  private async evaluate(now: number): Promise<void> {
    const settings = this.opts.settings();
    if (windowMsOf(settings) !== this.window.windowMs) this.seedWindow(windowMsOf(settings), []);
    const input: RuleInput = { window: this.window.stats(now), streak: this.takeStreak() };
    for (const kind of ALERT_KINDS) await this.decide(kind, ALERT_RULES[kind].evaluate(input, settings), settings, now);
    // A condition that ended within the batch that raised its alert (a streak broken in the
    // same batch) resolves at once: judge the open kinds again on the current state alone.
    const current: RuleInput = { window: input.window, streak: { current: this.streak, peak: this.streak, recent: this.recent } };
    for (const kind of this.open.keys()) if (ALERT_RULES[kind].evaluate(current, settings) === null) this.dirty = true;
  }

  private async decide(kind: AlertKind, condition: Condition | null, settings: AlertSettings, now: number): Promise<void> {
    const open = this.open.get(kind);
    if (condition) {
      if (open) return this.track(open.id, condition.value, now);
      if (!settings.enabled) return;
      const cooldownMs = Math.max(settings.alert_cooldown_minutes * 60_000, MIN_DEDUP_MS);
      if (!(await this.opts.coordinator.tryAcquire(kind, cooldownMs, now))) return;
      const alert = await this.opts.actions.raise(condition, now);
      this.noteOpen(alert);
      const v = condition.value;
      this.progressOf.set(alert.id, { progress: { currentValue: v, peakValue: v, series: [[now, v]] }, storedAt: now });
      return;
    }
    if (!open) return;
    this.open.delete(kind);
    this.progressOf.delete(open.id);
    if (await this.opts.coordinator.tryClaim(`resolve:${open.id}`, RESOLVE_CLAIM_MS)) await this.opts.actions.resolve(open.id, now);
  }

  /**
   * Follows an open alert's value: the worst is stored at once, other changes at most every
   * PROGRESS_WRITE_MS, so cards show the incident as it develops rather than its first value.
   */
  private async track(id: string, value: number, now: number): Promise<void> {
    let entry = this.progressOf.get(id);
    if (!entry) {
      entry = { progress: { currentValue: value, peakValue: value, series: [[now, value]] }, storedAt: Number.NEGATIVE_INFINITY };
      this.progressOf.set(id, entry);
    }
    const p = entry.progress;
    const newPeak = value > p.peakValue;
    const changed = value !== p.currentValue || newPeak;
    p.currentValue = value;
    p.peakValue = Math.max(p.peakValue, value);
    // Within a step its point takes the newest value (the first point stays the raise).
    if (!appendPoint(p.series, now, value) && p.series.length > 1) p.series[p.series.length - 1] = [p.series[p.series.length - 1]![0], value];
    if (!newPeak && !(changed && now - entry.storedAt >= PROGRESS_WRITE_MS)) return;
    entry.storedAt = now;
    await this.opts.actions.progress(id, { ...p, series: [...p.series] }, now);
  }
}

/** The running figures stored on an alert of alert_config.json's rules, null before any. */
export function seedProgressOf(alert: AlertRecord): SeedAlertProgress | null {
  const p = alert.details?.progress;
  return typeof p === 'object' && p !== null && 'peakValue' in p ? (p as SeedAlertProgress) : null;
}

export function windowMsOf(settings: AlertSettings): number {
  return settings.window_minutes * 60_000;
}
