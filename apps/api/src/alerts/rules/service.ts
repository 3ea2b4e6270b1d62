/**
 * Alert rules and silences as a service: kept in the store's settings (keys `alert_rules` and
 * `alert_silences`, on SQLite and PostgreSQL), followed on every replica (a change notice and
 * a re-read every few seconds), evaluated by the RuleEngine, and carried out on the alerts
 * table and the notifier that the seed's alerts use.
 */
import type { AlertRecord } from '../../model/alert.js';
import type { Store } from '../../store/types.js';
import type { Logger } from '../../log/logger.js';
import type { Interaction } from '../../model/interaction.js';
import { newId } from '../../ingest/ids.js';
import { AlertConfigError, type AlertSettings } from '../config-schema.js';
import type { AlertCoordinator } from '../coordinator.js';
import type { Notifier } from '../notify/notifier.js';
import { METRICS, formatMetricValue } from '../kinds/metrics.js';
import { RuleEngine, round, ruleDetailsOf, type RaiseRequest, type RuleAlertDetails, type RuleEvent, type RuleStateView } from './engine.js';
import {
  MAX_RULES,
  MAX_SILENCES,
  SCOPE_FIELDS,
  SEED_RULE_IDS,
  parseRuleFields,
  scopeSchema,
  scopeText,
  seedRules,
  silenceActive,
  type AlertRuleDefinition,
  type RuleFields,
  type RuleScope,
  type Silence,
} from './model.js';

export const RULES_KEY = 'alert_rules';
export const SILENCES_KEY = 'alert_silences';
const CHECK_MS = 5000;
/** Expired silences are kept this long for the record, then dropped. */
const SILENCE_HISTORY_MS = 7 * 24 * 3_600_000;
const MAX_REASON = 1000;

type AlertChange = (current: AlertRecord) => Partial<Omit<AlertRecord, 'id'>> | null;

export interface RuleServiceOptions {
  store: Store;
  coordinator: AlertCoordinator;
  notifier: Notifier;
  logger: Logger;
  clock: () => number;
  settings: () => AlertSettings;
  /** Stores a new alert and publishes it on `alerts`. */
  insert: (alert: AlertRecord) => Promise<void>;
  /** The alert service's serialised read-modify-write of one alert (publishes on `alertUpdates`). */
  mutate: (id: string, change: AlertChange) => Promise<AlertRecord | null>;
  tickMs?: number;
}

/** A rule as listed: stored, or one of alert_config.json's (read-only here). */
export interface RuleView extends AlertRuleDefinition {
  source: 'stored' | 'alert_config';
  state: RuleStateView | null;
}

export interface SilenceInput {
  ruleId?: string | null | undefined;
  scope?: RuleScope | null | undefined;
  endsAt?: number | null | undefined;
  durationMinutes?: number | null | undefined;
  reason: string;
}

export class RuleService {
  readonly engine: RuleEngine;
  private rules: AlertRuleDefinition[] = [];
  private silences: Silence[] = [];
  private versions = { [RULES_KEY]: 0, [SILENCES_KEY]: 0 } as Record<string, number>;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;

  constructor(private readonly opts: RuleServiceOptions) {
    this.engine = new RuleEngine({
      clock: opts.clock,
      coordinator: opts.coordinator,
      logger: opts.logger,
      silences: () => this.silences,
      ...(opts.tickMs === undefined ? {} : { tickMs: opts.tickMs }),
      actions: {
        raise: (req) => this.raise(req),
        update: (id, patch) => this.updateDetails(id, patch).then(() => undefined),
        resolve: (id, now, patch, notice) => this.resolve(id, now, patch, notice),
        notify: (id, rule, event) => this.notify(id, rule, event),
      },
    });
  }

  async start(openAlerts: readonly AlertRecord[]): Promise<void> {
    await this.pull(true);
    for (const a of openAlerts) this.engine.restore(a);
    this.engine.start();
    const stored = this.opts.store.settings;
    if (!stored?.shared) return;
    const check = (): void => {
      this.serial(() => this.pull(false)).catch((err: unknown) =>
        this.opts.logger.warn({ err }, `cannot read the stored alert rules (retried in ${CHECK_MS / 1000} s): ${(err as Error).message}`),
      );
    };
    this.unwatch = stored.watch((key) => {
      if (key === RULES_KEY || key === SILENCES_KEY) check();
    });
    this.timer = setInterval(check, CHECK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unwatch?.();
    await this.chain.catch(() => undefined);
    await this.engine.stop();
  }

  /** The rules' clock. */
  now(): number {
    return this.opts.clock();
  }

  observe(records: readonly Interaction[]): void {
    this.engine.observe(records);
  }

  noteOpen(alert: AlertRecord): void {
    this.engine.noteOpen(alert);
  }

  noteResolved(alert: AlertRecord): void {
    this.engine.noteResolved(alert);
  }

  /** alert_config.json's three rules first, then the stored ones, oldest first. */
  listRules(): RuleView[] {
    return [
      ...seedRules(this.opts.settings()).map((r) => ({ ...r, source: 'alert_config' as const, state: null })),
      ...this.rules.map((r) => ({ ...r, source: 'stored' as const, state: this.engine.stateOf(r.id) })),
    ];
  }

  getRule(id: string): RuleView | null {
    return this.listRules().find((r) => r.id === id) ?? null;
  }

  listSilences(activeOnly: boolean): Silence[] {
    const now = this.opts.clock();
    return this.silences.filter((s) => !activeOnly || silenceActive(s, now)).sort((a, b) => b.startsAt - a.startsAt);
  }

  createRule(input: Record<string, unknown>, by: string | null): Promise<AlertRuleDefinition> {
    return this.serial(async () => {
      const fields = parseRuleFields(input);
      await this.pull(false);
      if (this.rules.length >= MAX_RULES) throw new AlertConfigError(`at most ${MAX_RULES} alert rules; delete one first`);
      const now = this.opts.clock();
      const rule: AlertRuleDefinition = { ...fields, id: newId(now), createdAt: now, updatedAt: now, createdBy: by };
      await this.writeRules([...this.rules, rule]);
      return rule;
    });
  }

  updateRule(id: string, patch: Record<string, unknown>): Promise<AlertRuleDefinition> {
    return this.serial(async () => {
      await this.pull(false);
      this.refuseSeed(id);
      const current = this.rules.find((r) => r.id === id);
      if (!current) throw new RuleNotFoundError(`id: no alert rule "${id}"`);
      const { id: _i, createdAt: _c, updatedAt: _u, createdBy: _b, ...fields } = current;
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      const next: AlertRuleDefinition = { ...current, ...parseRuleFields({ ...fields, ...defined }), updatedAt: this.opts.clock() };
      await this.writeRules(this.rules.map((r) => (r.id === id ? next : r)));
      return next;
    });
  }

  deleteRule(id: string): Promise<boolean> {
    return this.serial(async () => {
      await this.pull(false);
      this.refuseSeed(id);
      if (!this.rules.some((r) => r.id === id)) return false;
      await this.writeRules(this.rules.filter((r) => r.id !== id));
      return true;
    });
  }

  createSilence(input: SilenceInput, by: string | null): Promise<Silence> {
    return this.serial(async () => {
      await this.pull(false);
      const now = this.opts.clock();
      const silence = parseSilence(input, now, by, this.listRules().map((r) => r.id));
      const kept = this.silences.filter((s) => silenceActive(s, now) || (s.expiredAt ?? s.endsAt) > now - SILENCE_HISTORY_MS);
      if (kept.filter((s) => silenceActive(s, now)).length >= MAX_SILENCES) throw new AlertConfigError(`at most ${MAX_SILENCES} active silences; expire one first`);
      await this.writeSilences([...kept, silence]);
      return silence;
    });
  }

  expireSilence(id: string): Promise<Silence> {
    return this.serial(async () => {
      await this.pull(false);
      const current = this.silences.find((s) => s.id === id);
      if (!current) throw new RuleNotFoundError(`id: no silence "${id}"`);
      if (current.expiredAt !== null) return current;
      const now = this.opts.clock();
      const next: Silence = { ...current, expiredAt: Math.min(now, current.endsAt) };
      await this.writeSilences(this.silences.map((s) => (s.id === id ? next : s)));
      return next;
    });
  }

  private refuseSeed(id: string): void {
    if ((SEED_RULE_IDS as readonly string[]).includes(id)) {
      throw new AlertConfigError(`id: "${id}" is a rule of alert_config.json; change it with updateAlertConfig`);
    }
  }

  private async writeRules(rules: AlertRuleDefinition[]): Promise<void> {
    const stored = this.opts.store.settings;
    if (stored) this.versions[RULES_KEY] = (await stored.write(RULES_KEY, { rules })).version;
    this.rules = rules;
    await this.engine.setRules(rules);
  }

  private async writeSilences(silences: Silence[]): Promise<void> {
    const stored = this.opts.store.settings;
    if (stored) this.versions[SILENCES_KEY] = (await stored.write(SILENCES_KEY, { silences })).version;
    this.silences = silences;
    void this.engine.evaluateNow();
  }

  /** Applies newer stored copies (all at start); invalid entries are skipped with a warning. */
  private async pull(force: boolean): Promise<void> {
    const stored = this.opts.store.settings;
    if (!stored || (!force && !stored.shared)) return;
    const rules = await stored.read(RULES_KEY);
    if (rules && rules.version > this.versions[RULES_KEY]!) {
      this.versions[RULES_KEY] = rules.version;
      this.rules = this.parseStoredRules(rules.value);
      await this.engine.setRules(this.rules);
    }
    const silences = await stored.read(SILENCES_KEY);
    if (silences && silences.version > this.versions[SILENCES_KEY]!) {
      this.versions[SILENCES_KEY] = silences.version;
      this.silences = this.parseStoredSilences(silences.value);
    }
  }

  private parseStoredRules(value: unknown): AlertRuleDefinition[] {
    const list = (value as { rules?: unknown } | null)?.rules;
    if (!Array.isArray(list)) return [];
    const out: AlertRuleDefinition[] = [];
    for (const raw of list as Record<string, unknown>[]) {
      try {
        const { id, createdAt, updatedAt, createdBy, ...fields } = raw;
        if (typeof id !== 'string') throw new AlertConfigError('id: missing');
        out.push({ ...parseRuleFields(fields, `rule ${id}`), id, createdAt: Number(createdAt), updatedAt: Number(updatedAt), createdBy: typeof createdBy === 'string' ? createdBy : null });
      } catch (err) {
        this.opts.logger.warn({ err }, `ignoring a stored alert rule: ${(err as Error).message}`);
      }
    }
    return out;
  }

  private parseStoredSilences(value: unknown): Silence[] {
    const list = (value as { silences?: unknown } | null)?.silences;
    if (!Array.isArray(list)) return [];
    return (list as Silence[]).filter((s) => typeof s?.id === 'string' && typeof s.endsAt === 'number' && typeof s.startsAt === 'number');
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async raise(req: RaiseRequest): Promise<AlertRecord> {
    const { rule, value, severity, now, silence } = req;
    const unit = METRICS[rule.metric].unit;
    const threshold = (severity === 'critical' ? rule.critical : rule.warning)!;
    const details: RuleAlertDetails = {
      ruleId: rule.id, ruleName: rule.name, metric: rule.metric, unit, severity, comparison: rule.comparison, warning: rule.warning,
      critical: rule.critical, scope: rule.scope, windowMinutes: rule.windowMinutes, currentValue: round(value), peakValue: round(value),
      series: req.series, mutedBy: silence?.id ?? null,
    };
    const over = METRICS[rule.metric].windowed ? ` over the last ${rule.windowMinutes} min` : '';
    const alert: AlertRecord = {
      id: newId(now),
      kind: 'rule',
      status: 'open',
      message: `${METRICS[rule.metric].title} ${formatMetricValue(unit, value)} is ${rule.comparison} the ${severity} threshold of ${formatMetricValue(unit, threshold)}${over} (${scopeText(rule.scope)})`,
      value: round(value),
      threshold,
      raisedAt: now,
      resolvedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      delivery: [],
      details: { rule: details },
    };
    await this.opts.insert(alert);
    this.opts.logger.warn({ alert: alert.id, rule: rule.id, severity, value }, `alert rule "${rule.name}" firing: ${alert.message}`);
    if (silence) this.opts.notifier.recordSkipped(alert, rule.channels, 'firing', `silenced until ${new Date(silence.endsAt).toISOString()} by ${silence.createdBy ?? 'unknown'}: ${silence.reason}`);
    else this.opts.notifier.notifyRule(alert, rule.channels, 'firing');
    return alert;
  }

  private updateDetails(id: string, patch: Partial<RuleAlertDetails>, extra: Partial<Omit<AlertRecord, 'id'>> = {}): Promise<AlertRecord | null> {
    return this.opts.mutate(id, (current) => {
      const d = ruleDetailsOf(current);
      if (!d || (current.status !== 'open' && extra.status === undefined)) return null;
      return { ...extra, details: { ...current.details, rule: { ...d, ...patch } } };
    });
  }

  private async resolve(id: string, now: number, patch: Partial<RuleAlertDetails>, notice: boolean): Promise<void> {
    const current = await this.opts.store.getAlert(id);
    if (!current || current.status !== 'open') return;
    const alert = await this.updateDetails(id, patch, { status: 'resolved', resolvedAt: now });
    if (!alert) return;
    this.opts.logger.info({ alert: id }, 'rule alert resolved');
    const rule = this.rules.find((r) => r.id === ruleDetailsOf(alert)?.ruleId);
    if (notice && rule) this.opts.notifier.notifyRule(alert, rule.channels, 'resolved');
  }

  private async notify(id: string, rule: AlertRuleDefinition, event: RuleEvent): Promise<void> {
    const alert = await this.opts.store.getAlert(id);
    if (alert) this.opts.notifier.notifyRule(alert, rule.channels, event);
  }
}

export class RuleNotFoundError extends Error {
  override name = 'RuleNotFoundError';
}

function parseSilence(input: SilenceInput, now: number, by: string | null, ruleIds: string[]): Silence {
  const problems: string[] = [];
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (!reason) problems.push('input.reason: must not be empty (say why the alerts are muted)');
  if (reason.length > MAX_REASON) problems.push(`input.reason: must be at most ${MAX_REASON} characters`);
  const ruleId = input.ruleId ?? null;
  if (ruleId !== null && !ruleIds.includes(ruleId)) problems.push(`input.ruleId: no alert rule "${ruleId}"`);
  let scope: RuleScope = {};
  const parsed = scopeSchema.safeParse(Object.fromEntries(Object.entries(input.scope ?? {}).filter(([, v]) => v !== null && v !== undefined)));
  if (parsed.success) scope = parsed.data as RuleScope;
  else problems.push(...parsed.error.issues.map((i) => `input.scope.${i.path.join('.')}: ${i.message}`));
  let endsAt: number | null = null;
  if (input.endsAt != null && input.durationMinutes != null) problems.push('input: give endsAt or durationMinutes, not both');
  else if (input.endsAt != null) endsAt = input.endsAt;
  else if (input.durationMinutes != null) {
    if (!(input.durationMinutes > 0) || input.durationMinutes > 525_600) problems.push('input.durationMinutes: must be more than 0 and at most 525600 (a year)');
    else endsAt = now + input.durationMinutes * 60_000;
  } else problems.push('input: give endsAt or durationMinutes (when the silence ends)');
  if (endsAt !== null && endsAt <= now) problems.push('input.endsAt: must be in the future');
  if (problems.length > 0) throw new AlertConfigError(problems.join('; '));
  return { id: newId(now), ruleId, scope: Object.fromEntries(SCOPE_FIELDS.filter((f) => scope[f]).map((f) => [f, scope[f]])), startsAt: now, endsAt: endsAt!, reason, createdBy: by, expiredAt: null };
}

export type { RuleFields };
