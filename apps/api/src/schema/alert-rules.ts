/** Alert rules and silences: alertRules, createAlertRule, updateAlertRule, deleteAlertRule, silences, createSilence, expireSilence. */
import { GraphQLError } from 'graphql';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { userInputError } from './errors.js';
import { AlertScopeRef, AlertSeverityRef } from './alerts.js';
import { AlertConfigError } from '../alerts/config-schema.js';
import { METRICS, RULE_METRICS } from '../alerts/kinds/metrics.js';
import { CHANNEL_TYPES, COMPARISONS, SCOPE_FIELDS, silenceActive, type ChannelConfig, type Silence } from '../alerts/rules/model.js';
import { RuleNotFoundError, type RuleView } from '../alerts/rules/service.js';
import { principalLabel } from '../security/tokens.js';
import { redactUrl } from '../config/redact.js';

const MetricRef = builder.enumType('AlertMetric', {
  description: RULE_METRICS.map((m) => `${m}: ${METRICS[m].description}`).join(' '),
  values: RULE_METRICS,
});
const ComparisonRef = builder.enumType('AlertComparison', { description: 'above: fires when the value exceeds a threshold; below: when it falls under one.', values: COMPARISONS });
const ChannelTypeRef = builder.enumType('AlertChannelType', { values: CHANNEL_TYPES });
const RulePhaseRef = builder.enumType('AlertRuleState', { description: 'inactive → pending (condition holds, not yet for pendingSeconds) → firing.', values: ['inactive', 'pending', 'firing'] as const });
const RuleSourceRef = builder.enumType('AlertRuleSource', { description: "stored: made with createAlertRule; alert_config: one of alert_config.json's three rules (change them with updateAlertConfig).", values: ['stored', 'alert_config'] as const });

const ChannelRef = builder.objectRef<ChannelConfig>('AlertChannel').implement({
  description: 'Where a rule sends its notices.',
  fields: (t) => ({
    type: t.field({ type: ChannelTypeRef, nullable: false, resolve: (c) => c.type }),
    url: t.string({
      nullable: true,
      description: 'In full for admin tokens; others see only its scheme and host (chat robot URLs carry their key).',
      resolve: (c, _a, ctx) => (c.url && !ctx.auth.scopes.has('admin') ? redactUrl(c.url, true) : c.url),
    }),
    hasSecret: t.boolean({ nullable: false, description: 'A signing secret is set (it is never shown).', resolve: (c) => c.secret !== null }),
    to: t.stringList({ nullable: false, description: 'email: recipients (empty: those of the alert settings).', resolve: (c) => c.to }),
  }),
});

const RuleRef = builder.objectRef<RuleView>('AlertRule').implement({
  description: 'A rule on one metric with an optional scope, warning and critical thresholds, a pending duration, cooldown, re-notify interval and channels.',
  fields: (t) => ({
    id: t.exposeID('id', { nullable: false }),
    name: t.exposeString('name', { nullable: false }),
    source: t.field({ type: RuleSourceRef, nullable: false, resolve: (r) => r.source }),
    metric: t.field({ type: MetricRef, nullable: false, resolve: (r) => r.metric }),
    unit: t.string({ nullable: false, resolve: (r) => METRICS[r.metric].unit }),
    scope: t.field({ type: AlertScopeRef, nullable: false, resolve: (r) => r.scope }),
    comparison: t.field({ type: ComparisonRef, nullable: false, resolve: (r) => r.comparison }),
    warning: t.float({ nullable: true, resolve: (r) => r.warning }),
    critical: t.float({ nullable: true, resolve: (r) => r.critical }),
    windowMinutes: t.exposeFloat('windowMinutes', { nullable: false }),
    minSampleSize: t.exposeInt('minSampleSize', { nullable: false }),
    pendingSeconds: t.exposeFloat('pendingSeconds', { nullable: false, description: 'How long the condition must hold before the rule fires.' }),
    cooldownMinutes: t.exposeFloat('cooldownMinutes', { nullable: false }),
    renotifyMinutes: t.exposeFloat('renotifyMinutes', { nullable: false, description: 'While firing, notify again this often (0: never).' }),
    notifyResolved: t.exposeBoolean('notifyResolved', { nullable: false }),
    enabled: t.exposeBoolean('enabled', { nullable: false }),
    channels: t.field({ type: [ChannelRef], nullable: false, resolve: (r) => r.channels }),
    state: t.field({ type: RulePhaseRef, nullable: true, description: "On this replica; null for alert_config.json's rules (see alerts).", resolve: (r) => r.state?.phase ?? null }),
    currentValue: t.float({ nullable: true, description: 'The value at the last evaluation; null when there is nothing to judge.', resolve: (r) => r.state?.value ?? null }),
    pendingSince: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.state?.pendingSince ?? null }),
    firingAlertId: t.id({ nullable: true, resolve: (r) => r.state?.alertId ?? null }),
    firingSeverity: t.field({ type: AlertSeverityRef, nullable: true, resolve: (r) => r.state?.severity ?? null }),
    createdAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => (r.source === 'stored' ? r.createdAt : null) }),
    updatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => (r.source === 'stored' ? r.updatedAt : null) }),
    createdBy: t.exposeString('createdBy', { nullable: true }),
  }),
});

const SilenceRef = builder.objectRef<Silence>('Silence').implement({
  description: 'Mutes the notifications of one rule, of rules with a scope, or of everything, until endsAt. Alerts are still raised and shown.',
  fields: (t) => ({
    id: t.exposeID('id', { nullable: false }),
    ruleId: t.exposeString('ruleId', { nullable: true, description: 'null: any rule.' }),
    scope: t.field({ type: AlertScopeRef, nullable: false, description: 'Rules whose scope has each value set here; all empty: any scope.', resolve: (s) => s.scope }),
    startsAt: t.field({ type: 'DateTime', nullable: false, resolve: (s) => s.startsAt }),
    endsAt: t.field({ type: 'DateTime', nullable: false, resolve: (s) => s.endsAt }),
    expiredAt: t.field({ type: 'DateTime', nullable: true, description: 'When expireSilence ended it early.', resolve: (s) => s.expiredAt }),
    active: t.boolean({ nullable: false, resolve: (s, _a, ctx) => silenceActive(s, ctx.services.alerts.rules.now()) }),
    reason: t.exposeString('reason', { nullable: false }),
    createdBy: t.exposeString('createdBy', { nullable: true, description: "The token's name (`name:token` in AI_MONITOR_ADMIN_TOKENS), else its id; null with auth off." }),
  }),
});

const ScopeInputRef = builder.inputType('AlertScopeInput', {
  fields: (t) => Object.fromEntries(SCOPE_FIELDS.map((f) => [f, t.string({ required: false })])),
});

const ChannelInputRef = builder.inputType('AlertChannelInput', {
  description: 'url for every type but email; secret signs webhook (HMAC header), feishu and dingtalk requests; to: email recipients.',
  fields: (t) => ({
    type: t.field({ type: ChannelTypeRef, required: true }),
    url: t.string({ required: false }),
    secret: t.string({ required: false }),
    to: t.stringList({ required: false }),
  }),
});

const RuleInputRef = builder.inputType('AlertRuleInput', {
  description: 'createAlertRule needs name, metric and a warning or critical threshold; updateAlertRule changes the fields given (channels replace the list).',
  fields: (t) => ({
    name: t.string({ required: false }),
    metric: t.field({ type: MetricRef, required: false }),
    scope: t.field({ type: ScopeInputRef, required: false }),
    comparison: t.field({ type: ComparisonRef, required: false }),
    warning: t.float({ required: false }),
    critical: t.float({ required: false }),
    windowMinutes: t.float({ required: false }),
    minSampleSize: t.int({ required: false }),
    pendingSeconds: t.float({ required: false }),
    cooldownMinutes: t.float({ required: false }),
    renotifyMinutes: t.float({ required: false }),
    notifyResolved: t.boolean({ required: false }),
    enabled: t.boolean({ required: false }),
    channels: t.field({ type: [ChannelInputRef], required: false }),
  }),
});

const SilenceInputRef = builder.inputType('SilenceInput', {
  description: 'Give endsAt or durationMinutes. No ruleId and no scope: everything is muted.',
  fields: (t) => ({
    ruleId: t.string({ required: false }),
    scope: t.field({ type: ScopeInputRef, required: false }),
    endsAt: t.field({ type: 'DateTime', required: false }),
    durationMinutes: t.float({ required: false }),
    reason: t.string({ required: true }),
  }),
});

/** GraphQL input → the rule validator's fields: nulls of a scope dropped, absent fields left out. */
function ruleInput(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    if (k === 'scope' && v && typeof v === 'object') out.scope = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null && x !== undefined));
    else out[k] = v;
  }
  return out;
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AlertConfigError) throw userInputError(err.message);
    if (err instanceof RuleNotFoundError) throw new GraphQLError(err.message, { extensions: { code: 'NOT_FOUND' } });
    throw err;
  }
}

const by = (ctx: Context): string | null => principalLabel(ctx.auth);

builder.queryFields((t) => ({
  alertRules: t.field({
    type: [RuleRef],
    nullable: false,
    description: "alert_config.json's three rules, then the stored rules, oldest first.",
    resolve: (_r, _a, ctx) => ctx.services.alerts.rules.listRules(),
  }),
  alertRule: t.field({ type: RuleRef, nullable: true, args: { id: t.arg.id({ required: true }) }, resolve: (_r, { id }, ctx) => ctx.services.alerts.rules.getRule(String(id)) }),
  silences: t.field({
    type: [SilenceRef],
    nullable: false,
    description: 'Newest first; active: true lists only those in force. Expired silences are kept for 7 days.',
    args: { active: t.arg.boolean({ required: false }) },
    resolve: (_r, { active }, ctx) => ctx.services.alerts.rules.listSilences(active === true),
  }),
}));

builder.mutationFields((t) => ({
  // admin scope (every mutation)
  createAlertRule: t.field({
    type: RuleRef,
    nullable: false,
    args: { input: t.arg({ type: RuleInputRef, required: true }) },
    resolve: (_r, { input }, ctx) =>
      guarded(async () => {
        const rule = await ctx.services.alerts.rules.createRule(ruleInput(input as Record<string, unknown>), by(ctx));
        return ctx.services.alerts.rules.getRule(rule.id)!;
      }),
  }),
  updateAlertRule: t.field({
    type: RuleRef,
    nullable: false,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: RuleInputRef, required: true }) },
    resolve: (_r, { id, input }, ctx) =>
      guarded(async () => {
        await ctx.services.alerts.rules.updateRule(String(id), ruleInput(input as Record<string, unknown>));
        return ctx.services.alerts.rules.getRule(String(id))!;
      }),
  }),
  deleteAlertRule: t.boolean({
    nullable: false,
    description: 'True when it existed. Its firing alert, if any, is resolved without a notice.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => guarded(() => ctx.services.alerts.rules.deleteRule(String(id))),
  }),
  createSilence: t.field({
    type: SilenceRef,
    nullable: false,
    args: { input: t.arg({ type: SilenceInputRef, required: true }) },
    resolve: (_r, { input }, ctx) =>
      guarded(() =>
        ctx.services.alerts.rules.createSilence(
          {
            ruleId: input.ruleId ?? null,
            scope: (input.scope as Record<string, string> | null | undefined) ?? null,
            endsAt: input.endsAt ? input.endsAt.getTime() : null,
            durationMinutes: input.durationMinutes ?? null,
            reason: input.reason,
          },
          by(ctx),
        ),
      ),
  }),
  expireSilence: t.field({
    type: SilenceRef,
    nullable: false,
    description: 'Ends a silence now (again: no change).',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => guarded(() => ctx.services.alerts.rules.expireSilence(String(id))),
  }),
}));
