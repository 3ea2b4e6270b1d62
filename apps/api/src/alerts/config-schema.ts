/**
 * Validation of the seed's `alert_config.json` fields, shared by the file loader and the
 * `updateAlertConfig` mutation so both give the same messages, each naming the field.
 */
import { z } from 'zod';
import { DEFAULT_ALERT_CONFIG, type AlertConfigFile } from '@ai-monitor/schema';
import { ConfigError } from '../config/load.js';
import { jsonType, nonNegative, positiveInt, typeError, type NumericSettingInfo } from './settings-fields.js';
import { ALERT_RULE_LIST, ruleSettingsShape } from './kinds/index.js';

/** One problem with one field; `field` is the file's snake_case name. */
export interface AlertConfigIssue {
  field: string;
  message: string;
}

/** A configuration error (the CLI treats it like one): the message names file or input and field. */
export class AlertConfigError extends ConfigError {
  override name = 'AlertConfigError';
  constructor(
    message: string,
    readonly issues: AlertConfigIssue[] = [],
  ) {
    super(message);
  }
}

/** The file with every optional field filled in: what the engine reads. */
export type AlertSettings = Required<AlertConfigFile>;

/** `alerts@example.com` or `Alerts <alerts@example.com>`. */
const ADDRESS = /^(?:[^<>]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/;

const address = z.string({ error: typeError('an email address') }).trim().regex(ADDRESS, 'expected an email address such as alerts@example.com');

/** A URL with one of `schemes`; empty string and null both mean "none". */
function optionalUrl(schemes: string[], example: string) {
  return z
    .union([z.string(), z.null()], { error: typeError(`a URL such as ${example}, or null`) })
    .transform((v, ctx) => {
      if (v === null || v.trim() === '') return null;
      const text = v.trim();
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected a URL such as ${example}, got "${text.slice(0, 80)}"` });
        return z.NEVER;
      }
      if (!schemes.includes(url.protocol)) {
        ctx.addIssue({ code: 'custom', message: `expected a ${schemes.map((s) => `${s}//`).join(' or ')} URL, got "${url.protocol}"` });
        return z.NEVER;
      }
      return text;
    });
}

const d = DEFAULT_ALERT_CONFIG;

/** The settings every rule shares (cooldown, window, channels); each rule's own thresholds come from the registry. */
const COMMON_SETTINGS = {
  alert_cooldown_minutes: nonNegative(10_080, ' minutes (7 days)').default(d.alert_cooldown_minutes),
  enabled: z.boolean({ error: typeError('true or false') }).default(d.enabled),
  webhook_url: optionalUrl(['http:', 'https:'], 'https://hooks.example.com/alerts').default(null),
  email_notifications: z.boolean({ error: typeError('true or false') }).default(d.email_notifications),
  window_minutes: z
    .number({ error: typeError('a number') })
    .gt(0, 'must be more than 0')
    .max(1440, 'must be at most 1440 minutes (24 hours)')
    .default(d.window_minutes ?? 5),
  min_sample_size: positiveInt(10_000_000).default(d.min_sample_size ?? 20),
  email_to: z.array(address, { error: typeError('a list of email addresses') }).max(100, 'at most 100 recipients').default([]),
  email_from: z.union([address, z.null()], { error: typeError('an email address or null') }).default(null),
  smtp_url: optionalUrl(['smtp:', 'smtps:'], 'smtp://user:password@mail.example.com:587').default(null),
};

/**
 * Missing fields take the seed's defaults; unknown fields are refused (likely typos). The
 * rules' thresholds come first, in ALERT_KINDS order, which is also the seed file's order.
 */
export const alertConfigSchema = z.object({ ...ruleSettingsShape(), ...COMMON_SETTINGS });

// The validator's output is exactly the seed file's shape with every field present.
type ParsedSettings = z.output<typeof alertConfigSchema>;
const sameShape: [ParsedSettings, AlertSettings] extends [AlertSettings, ParsedSettings] ? true : never = true;
void sameShape;

export const ALERT_CONFIG_FIELDS = Object.keys(alertConfigSchema.shape) as (keyof AlertSettings)[];

/** GraphQL's camelCase name of each file field: the rules' from the registry, the shared ones here. */
export const ALERT_CONFIG_GRAPHQL_NAMES = {
  ...Object.fromEntries(ALERT_RULE_LIST.flatMap((r) => Object.entries(r.settingsInfo).map(([field, info]) => [field, info.graphqlName]))),
  alert_cooldown_minutes: 'alertCooldownMinutes',
  enabled: 'enabled',
  webhook_url: 'webhookUrl',
  email_notifications: 'emailNotifications',
  window_minutes: 'windowMinutes',
  min_sample_size: 'minSampleSize',
  email_to: 'emailTo',
  email_from: 'emailFrom',
  smtp_url: 'smtpUrl',
} as Record<keyof AlertSettings, string>;

/** The dashboard editor's fields for the shared numeric settings (the rules' own come from the registry). */
export const COMMON_NUMERIC_EDITOR: Record<'alert_cooldown_minutes' | 'window_minutes' | 'min_sample_size', NumericSettingInfo['editor'] & { integer: boolean }> = {
  alert_cooldown_minutes: { label: 'Cooldown', unit: 'min', min: 0, minInclusive: true, integer: false, hint: 'The same kind is not raised again within this time.' },
  window_minutes: { label: 'Window', unit: 'min', min: 0, minInclusive: false, integer: false, hint: 'Sliding window of the error-rate and response-time rules.' },
  min_sample_size: { label: 'Minimum sample', unit: 'interactions', min: 1, minInclusive: true, integer: true, hint: 'Fewer interactions in the window are not judged.' },
};

/** Names a field (or, without one, the whole input) in an error message. */
export type FieldLabel = (field?: string) => string;

/** Labels for the file: `alert_config.json: error_rate_threshold`. */
export const fileLabel =
  (file: string): FieldLabel =>
  (field) =>
    field ? `${file}: ${field}` : file;

/** Labels for GraphQL input: `input.errorRateThreshold`. */
export const inputLabel: FieldLabel = (field) => {
  if (!field) return 'input';
  const [head, ...rest] = field.split('.');
  const camel = (ALERT_CONFIG_GRAPHQL_NAMES as Record<string, string>)[head!] ?? head!;
  return ['input', camel, ...rest].join('.');
};

/**
 * Validates a parsed file or a merged update; each problem is reported with its field, e.g.
 * `alert_config.json: error_rate_threshold: expected a number, got string`.
 */
export function parseAlertConfig(raw: unknown, label: FieldLabel): AlertSettings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AlertConfigError(`${label()}: expected a JSON object with the alert settings, got ${jsonType(raw)}`);
  }
  const known = new Set<string>(ALERT_CONFIG_FIELDS);
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    fail(unknown.map((field) => ({ field, message: `unknown field (known fields: ${ALERT_CONFIG_FIELDS.join(', ')})` })), label);
  }
  const result = alertConfigSchema.safeParse(raw);
  if (!result.success) fail(result.error.issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message })), label);
  return result.data;
}

function fail(issues: AlertConfigIssue[], label: FieldLabel): never {
  throw new AlertConfigError(issues.map((i) => `${label(i.field || undefined)}: ${i.message}`).join('; '), issues);
}
