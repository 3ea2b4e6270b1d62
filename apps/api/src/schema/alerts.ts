/** Alerts: the list with acknowledge, the settings editor and the live alert subscriptions. */
import { GraphQLError } from 'graphql';
import { ALERT_KINDS, type AlertKind } from '@ai-monitor/schema';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { RULE_ALERT_KIND, type AlertRecord, type DeliveryOutcome } from '../model/alert.js';
import { ruleDetailsOf } from '../alerts/rules/engine.js';
import { alertFigures } from '../alerts/figures.js';
import { SCOPE_FIELDS, SEVERITIES, type RuleScope } from '../alerts/rules/model.js';
import { resolvePage } from './pagination.js';
import { ALERT_CONFIG_GRAPHQL_NAMES, AlertConfigError, type AlertSettings } from '../alerts/config-schema.js';
import type { AlertSummary } from '../alerts/service.js';
import { ALERT_RULE_LIST } from '../alerts/kinds/index.js';
import type { NumericSettingInfo } from '../alerts/settings-fields.js';
import { redactUrl } from '../config/redact.js';
import { userInputError } from './errors.js';

const AlertKindRef = builder.enumType('AlertKind', {
  description: [...ALERT_RULE_LIST.map((r) => `${r.kind}: ${r.description}`), `${RULE_ALERT_KIND}: raised by an alert rule (alertRules; see ruleId).`].join(' '),
  values: [...ALERT_KINDS, RULE_ALERT_KIND] as const,
});

export const AlertSeverityRef = builder.enumType('AlertSeverity', { values: SEVERITIES });
const AlertStateRef = builder.enumType('AlertState', { description: 'firing until the condition clears, then resolved.', values: ['firing', 'resolved'] as const });

/** The scope of a rule (every field set narrows it); shared by rules, silences and alerts. */
export const AlertScopeRef = builder.objectRef<RuleScope>('AlertScope').implement({
  description: 'Which interactions a rule watches: each field set narrows it (tool: interactions with a call of that tool).',
  fields: (t) => Object.fromEntries(SCOPE_FIELDS.map((f) => [f, t.string({ nullable: true, resolve: (s) => s[f] ?? null })])),
});

const AlertPointRef = builder.objectRef<[number, number]>('AlertPoint').implement({
  fields: (t) => ({
    at: t.field({ type: 'DateTime', nullable: false, resolve: (p) => p[0] }),
    value: t.float({ nullable: false, resolve: (p) => p[1] }),
  }),
});

const AlertStatusRef = builder.enumType('AlertStatus', { values: ['open', 'resolved'] as const });

export const AlertDeliveryRef = builder.objectRef<DeliveryOutcome>('AlertDelivery').implement({
  description: 'The outcome of notifying one channel about an alert.',
  fields: (t) => ({
    channel: t.exposeString('channel', { description: 'webhook, email, slack, feishu, dingtalk or wecom.', nullable: false }),
    event: t.string({ nullable: true, description: 'What was announced (rule alerts): firing, escalated, repeat or resolved.', resolve: (d) => d.event ?? null }),
    ok: t.exposeBoolean('ok', { nullable: false }),
    attempts: t.exposeInt('attempts', { description: '0 when it was not sent (see detail).', nullable: false }),
    at: t.field({ type: 'DateTime', resolve: (d) => d.at, nullable: false }),
    detail: t.exposeString('detail', { description: 'HTTP status or SMTP response, or why it failed.', nullable: false }),
  }),
});

export const AlertRef = builder.objectRef<AlertRecord>('Alert').implement({
  description: 'An alert raised when a rule of alert_config.json held.',
  fields: (t) => ({
    id: t.exposeID('id', { nullable: false }),
    kind: t.field({ type: AlertKindRef, resolve: (a) => a.kind, nullable: false }),
    status: t.field({ type: AlertStatusRef, resolve: (a) => a.status, nullable: false }),
    message: t.exposeString('message', { nullable: false }),
    value: t.exposeFloat('value', { description: 'The observed value: percent, ms or a count, as the threshold.', nullable: false }),
    threshold: t.exposeFloat('threshold', { nullable: false }),
    raisedAt: t.field({ type: 'DateTime', resolve: (a) => a.raisedAt, nullable: false }),
    resolvedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.resolvedAt }),
    acknowledged: t.boolean({ resolve: (a) => a.acknowledgedAt !== null, nullable: false }),
    acknowledgedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.acknowledgedAt }),
    acknowledgedBy: t.exposeString('acknowledgedBy', { nullable: true }),
    delivery: t.field({ type: [AlertDeliveryRef], resolve: (a) => a.delivery, nullable: false }),
    details: t.field({ type: 'JSONObject', resolve: (a) => a.details, nullable: false }),
    ruleId: t.string({ nullable: false, description: "The rule that raised it: an alertRules id, or the seed kind for alert_config.json's rules.", resolve: (a) => ruleDetailsOf(a)?.ruleId ?? a.kind }),
    severity: t.field({ type: AlertSeverityRef, nullable: false, description: "alert_config.json's alerts are critical.", resolve: (a) => ruleDetailsOf(a)?.severity ?? 'critical' }),
    state: t.field({ type: AlertStateRef, nullable: false, resolve: (a) => (a.status === 'open' ? 'firing' : 'resolved') }),
    unit: t.string({ nullable: false, description: 'Unit of value, thresholds and series: percent, ms, per_minute, minutes, count, tokens, usd or score.', resolve: (a) => ruleDetailsOf(a)?.unit ?? SEED_UNITS[a.kind as AlertKind] }),
    currentValue: t.float({ nullable: false, description: 'The latest value while firing; the value when it resolved after.', resolve: (a) => alertFigures(a).currentValue }),
    peakValue: t.float({ nullable: false, description: 'The worst value while it fired.', resolve: (a) => alertFigures(a).peakValue }),
    durationSeconds: t.float({ nullable: false, description: 'From raised to resolved, or to now while firing.', resolve: (a, _a, ctx) => ((a.resolvedAt ?? ctx.services.alerts.rules.now()) - a.raisedAt) / 1000 }),
    scope: t.field({ type: AlertScopeRef, nullable: false, resolve: (a) => ruleDetailsOf(a)?.scope ?? {} }),
    windowMinutes: t.float({ nullable: true, resolve: (a) => ruleDetailsOf(a)?.windowMinutes ?? null }),
    series: t.field({
      type: [AlertPointRef],
      nullable: false,
      description: 'The value over time (a sparkline): before and while it fired, about one point per 10 s, at most 60.',
      resolve: (a): [number, number][] => alertFigures(a).series,
    }),
    silencedBy: t.string({ nullable: true, description: 'The silence that held back its firing notice (null once sent).', resolve: (a) => ruleDetailsOf(a)?.mutedBy ?? null }),
  }),
});

const SEED_UNITS: Record<AlertKind, string> = Object.fromEntries(ALERT_RULE_LIST.map((r) => [r.kind, r.valueUnit])) as Record<AlertKind, string>;

/** Each rule's own numeric settings (file name and GraphQL shape), from the registry. */
type NumericField = { [K in keyof AlertSettings]: AlertSettings[K] extends number ? K : never }[keyof AlertSettings];
function ruleSettings(): [NumericField, NumericSettingInfo][] {
  return ALERT_RULE_LIST.flatMap((r) => Object.entries(r.settingsInfo) as [NumericField, NumericSettingInfo][]);
}

interface AlertConfigView {
  settings: AlertSettings;
  smtpConfigured: boolean;
}

const AlertConfigRef = builder.objectRef<AlertConfigView>('AlertConfig').implement({
  description: 'The settings of alert_config.json (the same fields, in camelCase, with the same units).',
  fields: (t) => ({
    ...Object.fromEntries(
      ruleSettings().map(([field, info]) => {
        const resolve = (c: AlertConfigView): number => c.settings[field];
        const options = { resolve, nullable: false as const, ...(info.description ? { description: info.description } : {}) };
        return [info.graphqlName, info.graphqlType === 'Int' ? t.int(options) : t.float(options)];
      }),
    ),
    alertCooldownMinutes: t.float({ resolve: (c) => c.settings.alert_cooldown_minutes, nullable: false }),
    enabled: t.boolean({ resolve: (c) => c.settings.enabled, nullable: false }),
    webhookUrl: t.string({
      nullable: true,
      description: 'In full for admin tokens; others see only its scheme and host, as chat webhook URLs carry a secret.',
      resolve: (c, _args, ctx) => {
        const url = c.settings.webhook_url;
        return url && !ctx.auth.scopes.has('admin') ? redactUrl(url, true) : url;
      },
    }),
    emailNotifications: t.boolean({ resolve: (c) => c.settings.email_notifications, nullable: false }),
    windowMinutes: t.float({ resolve: (c) => c.settings.window_minutes, nullable: false }),
    minSampleSize: t.int({ resolve: (c) => c.settings.min_sample_size, nullable: false }),
    emailTo: t.stringList({ description: 'As in the file; when empty, AI_MONITOR_ALERT_EMAIL_TO applies.', resolve: (c) => c.settings.email_to, nullable: false }),
    emailFrom: t.string({ nullable: true, description: 'As in the file; when null, AI_MONITOR_ALERT_EMAIL_FROM applies.', resolve: (c) => c.settings.email_from }),
    smtpConfigured: t.boolean({
      nullable: false,
      description: 'Whether email can be sent: an SMTP URL and recipients are known (from the file or the environment). The URL itself is not shown.',
      resolve: (c) => c.smtpConfigured,
    }),
  }),
});

const AlertConfigInputRef = builder.inputType('AlertConfigInput', {
  description: 'A partial update: omitted fields keep their value; null clears webhookUrl, emailFrom and smtpUrl.',
  fields: (t) => ({
    ...Object.fromEntries(
      ruleSettings().map(([, info]) => [info.graphqlName, info.graphqlType === 'Int' ? t.int({ required: false }) : t.float({ required: false })]),
    ),
    alertCooldownMinutes: t.float({ required: false }),
    enabled: t.boolean({ required: false }),
    webhookUrl: t.string({ required: false }),
    emailNotifications: t.boolean({ required: false }),
    windowMinutes: t.float({ required: false }),
    minSampleSize: t.int({ required: false }),
    emailTo: t.stringList({ required: false }),
    emailFrom: t.string({ required: false }),
    smtpUrl: t.string({ required: false }),
  }),
});

const AlertSummaryRef = builder.objectRef<AlertSummary>('AlertSummary').implement({
  fields: (t) => ({
    open: t.exposeInt('open', { description: 'Alerts whose condition still holds.', nullable: false }),
    firing: t.int({ description: 'Alerts firing now (the same as open): what the nav badge counts.', nullable: false, resolve: (s) => s.open }),
    unacknowledged: t.exposeInt('unacknowledged', { description: 'Alerts, open or resolved, nobody has acknowledged yet.', nullable: false }),
  }),
});

function configView(ctx: Context): AlertConfigView {
  return { settings: ctx.services.alerts.settings, smtpConfigured: ctx.services.alerts.smtpConfigured };
}

/** GraphQL names to file names; only the fields present in the input (null included) are changed. */
function toFilePatch(input: Record<string, unknown>): Partial<Record<keyof AlertSettings, unknown>> {
  const patch: Partial<Record<keyof AlertSettings, unknown>> = {};
  for (const [file, graphql] of Object.entries(ALERT_CONFIG_GRAPHQL_NAMES) as [keyof AlertSettings, string][]) {
    if (graphql in input && input[graphql] !== undefined) patch[file] = input[graphql];
  }
  return patch;
}

builder.queryFields((t) => ({
  alerts: t.connection(
    {
      type: AlertRef,
      nullable: false,
      description: 'Alerts, newest first, with cursor pagination (`first`, `after`).',
      args: {
        status: t.arg({ type: AlertStatusRef, required: false }),
        kind: t.arg({ type: AlertKindRef, required: false }),
        acknowledged: t.arg.boolean({ required: false }),
      },
      resolve: (_root, args, ctx) => {
        const filter = { status: args.status ?? undefined, kind: args.kind ?? undefined, acknowledged: args.acknowledged ?? undefined };
        return resolvePage('alerts', args, (page) => ctx.services.alerts.list(filter, page));
      },
    },
    { name: 'AlertConnection' },
    { name: 'AlertEdge' },
  ),
  alert: t.field({
    type: AlertRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.alerts.get(String(id)),
  }),
  alertSummary: t.field({ type: AlertSummaryRef, resolve: (_root, _args, ctx) => ctx.services.alerts.summary(), nullable: false }),
  alertConfig: t.field({ type: AlertConfigRef, resolve: (_root, _args, ctx) => configView(ctx), nullable: false }),
}));

builder.mutationFields((t) => ({
  // admin scope
  updateAlertConfig: t.field({
    type: AlertConfigRef,
    nullable: false,
    description: 'Changes alert settings: validated like alert_config.json, written back to it atomically, applied at once.',
    args: { input: t.arg({ type: AlertConfigInputRef, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      try {
        await ctx.services.alerts.updateSettings(toFilePatch(input as Record<string, unknown>));
      } catch (err) {
        if (err instanceof AlertConfigError) throw userInputError(err.message);
        throw err;
      }
      return configView(ctx);
    },
  }),
  // admin scope
  acknowledgeAlert: t.field({
    type: AlertRef,
    nullable: false,
    description: 'Marks an alert as seen. Acknowledging again keeps the first acknowledgement.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      // Tokens carry no user identity yet, so who acknowledged is not known.
      const alert = await ctx.services.alerts.acknowledge(String(id), null);
      if (!alert) throw new GraphQLError(`id: no alert "${String(id)}" (it may have been removed by retention)`, { extensions: { code: 'NOT_FOUND' } });
      return alert;
    },
  }),
}));

builder.subscriptionFields((t) => ({
  alertRaised: t.field({
    type: AlertRef,
    nullable: false,
    description: 'Every new alert, raised by any replica.',
    subscribe: (_root, _args, ctx) => ctx.services.cluster.subscribe('alerts'),
    resolve: (alert: AlertRecord) => alert,
  }),
  alertUpdated: t.field({
    type: AlertRef,
    nullable: false,
    description: 'An alert resolved, acknowledged, or with a notification outcome recorded.',
    subscribe: (_root, _args, ctx) => ctx.services.cluster.subscribe('alertUpdates'),
    resolve: (alert: AlertRecord) => alert,
  }),
}));
