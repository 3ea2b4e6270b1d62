/**
 * Alert rules and silences as stored (settings keys `alert_rules` and `alert_silences`) and as
 * GraphQL takes them: their shape, validation with messages naming the field, scope matching,
 * and the three rules alert_config.json means.
 */
import { z } from 'zod';
import type { Interaction } from '../../model/interaction.js';
import type { AlertSettings } from '../config-schema.js';
import { AlertConfigError } from '../config-schema.js';
import { RULE_METRICS, type RuleMetric } from '../kinds/metrics.js';
import { typeError } from '../settings-fields.js';

export const SCOPE_FIELDS = ['assistant', 'version', 'environment', 'intent', 'tool', 'errorType', 'model'] as const;
export type ScopeField = (typeof SCOPE_FIELDS)[number];
/** Each field set narrows the rule to interactions with that value (tool: any tool call with that name). */
export type RuleScope = { [F in ScopeField]?: string };

export const CHANNEL_TYPES = ['webhook', 'slack', 'feishu', 'dingtalk', 'wecom', 'email'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
export const SEVERITIES = ['warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const COMPARISONS = ['above', 'below'] as const;
export type Comparison = (typeof COMPARISONS)[number];

export interface ChannelConfig {
  type: ChannelType;
  /** The endpoint (every type but email); chat robots carry their key in it. */
  url: string | null;
  /** Signing secret (webhook: HMAC header; feishu, dingtalk: their sign schemes). */
  secret: string | null;
  /** email: recipients (empty: the alert settings' or the environment's). */
  to: string[];
}

export interface AlertRuleDefinition {
  id: string;
  name: string;
  metric: RuleMetric;
  scope: RuleScope;
  comparison: Comparison;
  warning: number | null;
  critical: number | null;
  windowMinutes: number;
  minSampleSize: number;
  /** How long the condition must hold before the rule fires (Alertmanager's `for`). */
  pendingSeconds: number;
  /** After a firing alert of this rule, no new one within this time. */
  cooldownMinutes: number;
  /** While firing, notify again this often (0: never). */
  renotifyMinutes: number;
  notifyResolved: boolean;
  enabled: boolean;
  channels: ChannelConfig[];
  createdAt: number;
  updatedAt: number;
  createdBy: string | null;
}

export interface Silence {
  id: string;
  /** Mutes one rule (a rule id, or a seed kind such as high_error_rate); null: any rule. */
  ruleId: string | null;
  /** Mutes rules whose scope has each of these values; empty: any scope. */
  scope: RuleScope;
  startsAt: number;
  endsAt: number;
  reason: string;
  createdBy: string | null;
  /** Set by expireSilence. */
  expiredAt: number | null;
}

export const MAX_RULES = 100;
export const MAX_SILENCES = 500;
export const MAX_CHANNELS = 10;
const MAX_NAME = 200;
const MAX_LABEL = 200;

const label = z.string({ error: typeError('a string') }).trim().min(1, 'must not be empty').max(MAX_LABEL, `must be at most ${MAX_LABEL} characters`);
export const scopeSchema = z.object(Object.fromEntries(SCOPE_FIELDS.map((f) => [f, label.optional()])) as Record<ScopeField, z.ZodOptional<typeof label>>).strict();

const httpUrl = z
  .string({ error: typeError('a URL') })
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'expected an http:// or https:// URL');

const address = z.string({ error: typeError('an email address') }).trim().regex(/^(?:[^<>]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, 'expected an email address');

export const channelSchema = z
  .object({
    type: z.enum(CHANNEL_TYPES, { error: `expected one of ${CHANNEL_TYPES.join(', ')}` }),
    url: httpUrl.nullish().transform((v) => v ?? null),
    secret: z.string({ error: typeError('a string') }).max(500, 'must be at most 500 characters').nullish().transform((v) => (v ? v : null)),
    to: z.array(address).max(100, 'at most 100 recipients').nullish().transform((v) => v ?? []),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.type !== 'email' && !c.url) ctx.addIssue({ code: 'custom', path: ['url'], message: `a ${c.type} channel needs a url` });
    if (c.type === 'email' && c.url) ctx.addIssue({ code: 'custom', path: ['url'], message: 'an email channel takes recipients in "to", not a url' });
    if (c.type === 'wecom' && c.secret) ctx.addIssue({ code: 'custom', path: ['secret'], message: 'WeCom robots do not sign: their key is in the url' });
  });

const threshold = z.number({ error: typeError('a number') }).refine(Number.isFinite, 'must be a finite number').nullable();

/** Every field a rule has, with defaults; GraphQL's input and the stored copy both go through it. */
export const ruleFieldsSchema = z
  .object({
    name: z.string({ error: typeError('a string') }).trim().min(1, 'must not be empty').max(MAX_NAME, `must be at most ${MAX_NAME} characters`),
    metric: z.enum(RULE_METRICS, { error: `expected one of ${RULE_METRICS.join(', ')}` }),
    scope: scopeSchema.default({}),
    comparison: z.enum(COMPARISONS, { error: 'expected above or below' }).default('above'),
    warning: threshold.default(null),
    critical: threshold.default(null),
    windowMinutes: z.number({ error: typeError('a number') }).gt(0, 'must be more than 0').max(1440, 'must be at most 1440 minutes (24 hours)').default(5),
    minSampleSize: z.number({ error: typeError('a whole number') }).int('must be a whole number').min(1, 'must be 1 or more').max(10_000_000, 'must be at most 10000000').default(20),
    pendingSeconds: z.number({ error: typeError('a number') }).min(0, 'must be 0 or more').max(86_400, 'must be at most 86400 seconds (1 day)').default(0),
    cooldownMinutes: z.number({ error: typeError('a number') }).min(0, 'must be 0 or more').max(10_080, 'must be at most 10080 minutes (7 days)').default(0),
    renotifyMinutes: z.number({ error: typeError('a number') }).min(0, 'must be 0 or more').max(10_080, 'must be at most 10080 minutes (7 days)').default(0),
    notifyResolved: z.boolean({ error: typeError('true or false') }).default(true),
    enabled: z.boolean({ error: typeError('true or false') }).default(true),
    channels: z.array(channelSchema).max(MAX_CHANNELS, `at most ${MAX_CHANNELS} channels`).default([]),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.warning === null && r.critical === null) {
      ctx.addIssue({ code: 'custom', path: ['critical'], message: 'set a warning or a critical threshold (or both)' });
    }
    if (r.warning !== null && r.critical !== null) {
      const ordered = r.comparison === 'above' ? r.critical >= r.warning : r.critical <= r.warning;
      if (!ordered) ctx.addIssue({ code: 'custom', path: ['critical'], message: `must be ${r.comparison === 'above' ? 'at least' : 'at most'} the warning threshold (${r.warning}) for a rule that fires ${r.comparison} it` });
    }
  });

export type RuleFields = z.output<typeof ruleFieldsSchema>;

/** Validates rule fields; problems name `input.<field>`. */
export function parseRuleFields(raw: unknown, prefix = 'input'): RuleFields {
  const result = ruleFieldsSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ field: [prefix, ...i.path.map(String)].join('.'), message: i.message }));
  throw new AlertConfigError(issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
}

/** The scope as a compiled check (the engine runs it for every record and rule). */
export function scopeMatcher(scope: RuleScope): ((r: Interaction) => boolean) | null {
  const fields = SCOPE_FIELDS.filter((f) => scope[f] !== undefined && f !== 'tool').map((f) => [f, scope[f]!] as const);
  const tool = scope.tool;
  if (fields.length === 0 && tool === undefined) return null;
  return (r) => {
    for (const [f, v] of fields) if (r[f as Exclude<ScopeField, 'tool'>] !== v) return false;
    if (tool === undefined) return true;
    for (const t of r.toolsUsed) if (t.tool === tool) return true;
    return false;
  };
}

export function scopeText(scope: RuleScope): string {
  const parts = SCOPE_FIELDS.filter((f) => scope[f] !== undefined).map((f) => `${f}=${scope[f]}`);
  return parts.length === 0 ? 'all interactions' : parts.join(', ');
}

/** Ids of the rules alert_config.json means: its kinds. */
export const SEED_RULE_IDS = ['high_error_rate', 'slow_response', 'consecutive_errors'] as const;

/**
 * alert_config.json's three rules, as rules: read-only here (updateAlertConfig edits them) and
 * evaluated by the seed engine exactly as before (no pending, no re-notify, no resolve notice).
 */
export function seedRules(s: AlertSettings): AlertRuleDefinition[] {
  const channels: ChannelConfig[] = [
    ...(s.webhook_url ? [{ type: 'webhook' as const, url: s.webhook_url, secret: null, to: [] }] : []),
    ...(s.email_notifications ? [{ type: 'email' as const, url: null, secret: null, to: s.email_to }] : []),
  ];
  const common = {
    scope: {}, comparison: 'above' as const, warning: null, windowMinutes: s.window_minutes, minSampleSize: s.min_sample_size,
    pendingSeconds: 0, cooldownMinutes: s.alert_cooldown_minutes, renotifyMinutes: 0, notifyResolved: false, enabled: s.enabled,
    channels, createdAt: 0, updatedAt: 0, createdBy: 'alert_config.json',
  };
  return [
    { ...common, id: 'high_error_rate', name: 'High error rate (alert_config.json)', metric: 'error_rate', critical: s.error_rate_threshold },
    { ...common, id: 'slow_response', name: 'Slow responses (alert_config.json)', metric: 'p95_response_time', critical: s.response_time_threshold },
    // The seed's rule fires at the threshold (that many in a row), not above it.
    { ...common, id: 'consecutive_errors', name: 'Consecutive errors (alert_config.json)', metric: 'consecutive_errors', critical: s.consecutive_errors_threshold },
  ];
}

/** Whether the silence is in force at `now`. */
export function silenceActive(s: Silence, now: number): boolean {
  return s.expiredAt === null && s.startsAt <= now && now < s.endsAt;
}

/** The silence mutes this rule: same rule (or any), and the rule's scope has each value the silence names. */
export function silenceMatches(s: Silence, ruleId: string, scope: RuleScope): boolean {
  if (s.ruleId !== null && s.ruleId !== ruleId) return false;
  return SCOPE_FIELDS.every((f) => s.scope[f] === undefined || scope[f] === s.scope[f]);
}

export function activeSilenceFor(silences: readonly Silence[], ruleId: string, scope: RuleScope, now: number): Silence | null {
  return silences.find((s) => silenceActive(s, now) && silenceMatches(s, ruleId, scope)) ?? null;
}
