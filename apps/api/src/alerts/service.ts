/**
 * Alerts as the rest of the server sees them: owns the settings file, the rule engine and the
 * notifier; stores alerts through the Store interface and publishes them on the cluster
 * topics `alerts` (raised) and `alertUpdates` (resolved, acknowledged, delivery recorded).
 */
import { ALERT_KINDS } from '@ai-monitor/schema';
import { ALERT_RULE_LIST } from './kinds/index.js';
import type { AlertFilter, AlertRecord, DeliveryOutcome } from '../model/alert.js';
import type { Page, PageRequest } from '../model/interaction.js';
import type { Store } from '../store/types.js';
import type { ClusterPubSub } from '../pubsub/topics.js';
import type { Logger } from '../log/logger.js';
import { newId } from '../ingest/ids.js';
import { AlertConfigError, fileLabel, inputLabel, parseAlertConfig, type AlertSettings } from './config-schema.js';
import { ALERT_SETTINGS_KEY } from '../store/settings.js';
import type { AlertConfigFileStore } from './config-file.js';
import type { AlertCoordinator } from './coordinator.js';
import { AlertEngine, windowMsOf, type SeedAlertProgress } from './engine.js';
import type { Condition } from './kinds/index.js';
import { Notifier, effectiveEmail, type EmailFallbacks } from './notify/notifier.js';
import { RuleService } from './rules/service.js';

export interface AlertServiceOptions {
  settingsFile: AlertConfigFileStore;
  store: Store;
  cluster: ClusterPubSub;
  coordinator: AlertCoordinator;
  fallbacks: EmailFallbacks;
  logger: Logger;
  /** The alert rules' clock (tests inject a fake one); Date.now by default. */
  clock?: () => number;
  /** How often the alert rules are evaluated without new traffic (ms). */
  ruleTickMs?: number;
}

export interface AlertSummary {
  open: number;
  unacknowledged: number;
}

/** Most open alerts restored at start; there is at most one per kind in normal operation. */
const RESTORE_LIMIT = 100;
/** Newest interactions read at start to restore the error streak (indexed read, no scan). */
const STREAK_RESTORE_LIMIT = 1000;

/** How often replicas re-read the stored settings, in case a change notification was lost. */
const SETTINGS_CHECK_MS = 5000;
/** Names the stored copy in messages about it. */
const storedLabel = fileLabel('stored alert settings');

type Subscription = { return?: () => Promise<unknown> };

export class AlertService {
  private readonly engine: AlertEngine;
  private readonly notifier: Notifier;
  /** Alert rules (alertRules) and silences. */
  readonly rules: RuleService;
  /** Per-alert chains: updates of one alert never interleave their read-modify-write. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly subscriptions: Subscription[] = [];
  private readonly loops: Promise<void>[] = [];
  /** The stored settings' version applied here (0: none). */
  private settingsVersion = 0;
  /** Settings changes (updates here, changes from other replicas) apply one at a time. */
  private settingsChain: Promise<unknown> = Promise.resolve();
  private settingsTimer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;

  constructor(private readonly opts: AlertServiceOptions) {
    this.notifier = new Notifier({
      settings: () => this.settings,
      fallbacks: opts.fallbacks,
      record: (id, outcome) => this.recordDelivery(id, outcome),
      logger: opts.logger,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    this.rules = new RuleService({
      store: opts.store,
      coordinator: opts.coordinator,
      notifier: this.notifier,
      logger: opts.logger,
      clock: opts.clock ?? Date.now,
      settings: () => this.settings,
      insert: async (alert) => {
        await opts.store.insertAlert(alert);
        opts.cluster.publish('alerts', alert);
      },
      mutate: (id, change) => this.mutate(id, change),
      ...(opts.ruleTickMs === undefined ? {} : { tickMs: opts.ruleTickMs }),
    });
    this.engine = new AlertEngine({
      settings: () => this.settings,
      coordinator: opts.coordinator,
      logger: opts.logger,
      actions: {
        raise: (c, now) => this.raise(c, now),
        resolve: (id, now) => this.resolve(id, now),
        progress: (id, progress) => this.progress(id, progress),
      },
    });
  }

  get settings(): AlertSettings {
    return this.opts.settingsFile.current;
  }

  /** True when email alerts could be sent (SMTP URL and recipients known, from the file or the environment). */
  get smtpConfigured(): boolean {
    return effectiveEmail(this.settings, this.opts.fallbacks) !== null;
  }

  /** Restores open alerts, cooldowns, the window and the streak from the store, then follows the cluster topics. */
  async start(): Promise<void> {
    const { store, coordinator } = this.opts;
    await this.loadStoredSettings();
    const open = await store.listAlerts({ status: 'open' }, { first: RESTORE_LIMIT });
    for (const alert of open.items) this.engine.noteOpen(alert);
    for (const kind of ALERT_KINDS) {
      const last = (await store.listAlerts({ kind }, { first: 1 })).items[0];
      if (last) await coordinator.restore(kind, last.raisedAt);
    }
    await this.seedWindow();
    const depth = Math.max(1, ...ALERT_RULE_LIST.map((r) => r.streakDepth?.(this.settings) ?? 0));
    const first = Math.min(depth, STREAK_RESTORE_LIMIT);
    this.engine.seedStreak((await store.listInteractions({}, { first })).items);

    const { cluster } = this.opts;
    this.follow('interactions', cluster.subscribe('interactions'), (records) => {
      this.engine.observe(records);
      this.rules.observe(records);
    });
    this.follow('alerts', cluster.subscribe('alerts'), (alert) => {
      this.engine.noteOpen(alert);
      this.rules.noteOpen(alert);
    });
    this.follow('alertUpdates', cluster.subscribe('alertUpdates'), (alert) => {
      this.engine.noteResolved(alert);
      this.rules.noteResolved(alert);
    });
    this.engine.start();
    await this.rules.start(open.items);
    this.followStoredSettings();
  }

  async stop(): Promise<void> {
    if (this.settingsTimer) clearInterval(this.settingsTimer);
    this.unwatch?.();
    await this.settingsChain;
    await this.engine.stop();
    await this.rules.stop();
    for (const s of this.subscriptions) await s.return?.();
    await Promise.all(this.loops);
    await this.notifier.stop();
    await Promise.allSettled([...this.chains.values()]);
    await this.opts.coordinator.close();
  }

  /**
   * Partial update (file field names); validated like the file, errors naming `input.<graphqlName>`,
   * written back atomically, stored for the other replicas and applied at once.
   */
  updateSettings(patch: Partial<Record<keyof AlertSettings, unknown>>): Promise<AlertSettings> {
    return this.serialSettings(async () => {
      // Merge onto the cluster's newest settings, so a change made elsewhere is not undone.
      await this.pullStoredSettings();
      const before = this.settings;
      const next = await this.opts.settingsFile.update(patch, inputLabel);
      this.opts.logger.info({ file: this.opts.settingsFile.file }, 'alert settings updated');
      const stored = this.opts.store.settings;
      if (stored) this.settingsVersion = (await stored.write(ALERT_SETTINGS_KEY, next)).version;
      await this.applied(before, next);
      return next;
    });
  }

  get(id: string): Promise<AlertRecord | null> {
    return this.opts.store.getAlert(id);
  }

  list(filter: AlertFilter, page: PageRequest): Promise<Page<AlertRecord>> {
    return this.opts.store.listAlerts(filter, page);
  }

  async summary(): Promise<AlertSummary> {
    const [open, unacknowledged] = await Promise.all([
      this.opts.store.countAlerts({ status: 'open' }),
      this.opts.store.countAlerts({ acknowledged: false }),
    ]);
    return { open, unacknowledged };
  }

  /** Acknowledges once (a repeat keeps the first time); null when there is no such alert. */
  acknowledge(id: string, by: string | null): Promise<AlertRecord | null> {
    return this.mutate(id, (current) => (current.acknowledgedAt !== null ? null : { acknowledgedAt: Date.now(), acknowledgedBy: by }));
  }

  /**
   * At start: on one node the file is the user's and becomes the stored copy; with replicas
   * the stored copy is the cluster's and is written to this replica's file (the file seeds the
   * store only when the cluster has none yet).
   */
  private async loadStoredSettings(): Promise<void> {
    const stored = this.opts.store.settings;
    if (!stored) return;
    const current = await stored.read(ALERT_SETTINGS_KEY);
    const parsed = current ? this.parseStored(current.value) : null;
    if (current && parsed && (stored.shared || sameSettings(parsed, this.settings))) {
      if (!sameSettings(parsed, this.settings)) await this.opts.settingsFile.replace(parsed);
      this.settingsVersion = current.version;
      return;
    }
    this.settingsVersion = (await stored.write(ALERT_SETTINGS_KEY, this.settings)).version;
  }

  /** With replicas: re-reads on every change another replica announces, and every few seconds. */
  private followStoredSettings(): void {
    const stored = this.opts.store.settings;
    if (!stored?.shared) return;
    const check = (): void => {
      this.serialSettings(() => this.pullStoredSettings()).catch((err: unknown) =>
        this.opts.logger.warn({ err }, `cannot read the stored alert settings (retried in ${SETTINGS_CHECK_MS / 1000} s): ${(err as Error).message}`),
      );
    };
    this.unwatch = stored.watch((key) => {
      if (key === ALERT_SETTINGS_KEY) check();
    });
    this.settingsTimer = setInterval(check, SETTINGS_CHECK_MS);
    this.settingsTimer.unref();
  }

  /** Applies a newer stored version (written by another replica); call inside `serialSettings`. */
  private async pullStoredSettings(): Promise<void> {
    const stored = this.opts.store.settings;
    if (!stored?.shared) return;
    const current = await stored.read(ALERT_SETTINGS_KEY);
    if (!current || current.version <= this.settingsVersion) return;
    this.settingsVersion = current.version;
    const next = this.parseStored(current.value);
    if (!next || sameSettings(next, this.settings)) return;
    const before = this.settings;
    await this.opts.settingsFile.replace(next);
    this.opts.logger.info({ file: this.opts.settingsFile.file, version: current.version }, 'alert settings changed on another replica; applied');
    await this.applied(before, next);
  }

  /** The stored copy, validated like the file; null (and a warning) when it does not validate. */
  private parseStored(value: unknown): AlertSettings | null {
    try {
      return parseAlertConfig(value, storedLabel);
    } catch (err) {
      if (!(err instanceof AlertConfigError)) throw err;
      this.opts.logger.warn({ err }, `ignoring the stored alert settings: ${err.message}`);
      return null;
    }
  }

  /** New settings are in force: a changed window is restored from the roll-ups, and the rules judge at once. */
  private async applied(before: AlertSettings, next: AlertSettings): Promise<void> {
    if (next.window_minutes !== before.window_minutes) await this.seedWindow();
    this.engine.reevaluate();
  }

  private serialSettings<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.settingsChain.then(fn);
    this.settingsChain = next.catch(() => undefined);
    return next;
  }

  private async seedWindow(): Promise<void> {
    const windowMs = windowMsOf(this.settings);
    const now = Date.now();
    const minutes = await this.opts.store.timeseries({ from: now - windowMs, to: now + 60_000 }, 60_000);
    this.engine.seedWindow(windowMs, minutes);
  }

  /** Runs `handle` for every event of a cluster topic until `stop`. */
  private follow<T>(topic: string, source: AsyncIterable<T> & { return?: () => Promise<unknown> }, handle: (payload: T) => void): void {
    this.subscriptions.push(source);
    this.loops.push(
      (async () => {
        for await (const payload of source) {
          try {
            handle(payload);
          } catch (err) {
            this.opts.logger.error({ err }, `alerts could not handle a "${topic}" event: ${(err as Error).message}`);
          }
        }
      })().catch((err: unknown) => this.opts.logger.error({ err }, `alerts stopped following "${topic}": ${(err as Error).message}`)),
    );
  }

  private async raise(condition: Condition, now: number): Promise<AlertRecord> {
    const alert: AlertRecord = {
      id: newId(now),
      kind: condition.kind,
      status: 'open',
      message: condition.message,
      value: condition.value,
      threshold: condition.threshold,
      raisedAt: now,
      resolvedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      delivery: [],
      details: condition.details,
    };
    await this.opts.store.insertAlert(alert);
    this.opts.logger.warn({ alert: alert.id, kind: alert.kind, value: alert.value, threshold: alert.threshold }, `alert raised: ${alert.message}`);
    this.opts.cluster.publish('alerts', alert);
    this.notifier.notify(alert);
    return alert;
  }

  private async resolve(id: string, now: number): Promise<void> {
    const alert = await this.mutate(id, (current) => (current.status === 'open' ? { status: 'resolved', resolvedAt: now } : null));
    if (alert) this.opts.logger.info({ alert: id, kind: alert.kind }, 'alert resolved');
  }

  private async progress(id: string, progress: SeedAlertProgress): Promise<void> {
    await this.mutate(id, (current) => (current.status === 'open' ? { details: { ...current.details, progress } } : null));
  }

  private async recordDelivery(id: string, outcome: DeliveryOutcome): Promise<void> {
    await this.mutate(id, (current) => ({ delivery: [...current.delivery, outcome] }));
  }

  /**
   * Applies `change` to the stored alert (serialised per alert) and publishes the result
   * when something changed. Resolves with the stored alert, null when it does not exist
   * (never raised, or removed by retention).
   */
  private mutate(id: string, change: (current: AlertRecord) => Partial<Omit<AlertRecord, 'id'>> | null): Promise<AlertRecord | null> {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      const current = await this.opts.store.getAlert(id);
      if (!current) return null;
      const patch = change(current);
      if (!patch) return current;
      const updated = await this.opts.store.updateAlert(id, patch);
      if (updated) this.opts.cluster.publish('alertUpdates', updated);
      return updated;
    });
    const settled = next.catch(() => undefined);
    this.chains.set(id, settled);
    void settled.then(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id);
    });
    return next;
  }
}

/** Settings compare by their JSON: the validator emits fields in one order. */
function sameSettings(a: AlertSettings, b: AlertSettings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
