/**
 * The rule registry: every alert kind, one module each. Adding a kind is one module here
 * plus its id in ALERT_KINDS (packages/schema); the engine, the settings validator, the
 * GraphQL types and the notifications pick it up from this list.
 */
import { ALERT_KINDS, type AlertKind } from '@ai-monitor/schema';
import { highErrorRate } from './high-error-rate.js';
import { slowResponse } from './slow-response.js';
import { consecutiveErrors } from './consecutive-errors.js';
import type { AlertRule } from './rule.js';

export const ALERT_RULES = {
  high_error_rate: highErrorRate,
  slow_response: slowResponse,
  consecutive_errors: consecutiveErrors,
} as const satisfies Record<AlertKind, AlertRule>;

/** The rules in the order of ALERT_KINDS (the order they are evaluated in). */
export const ALERT_RULE_LIST: readonly AlertRule[] = ALERT_KINDS.map((kind) => ALERT_RULES[kind]);

export function ruleOf(kind: AlertKind): AlertRule {
  return ALERT_RULES[kind];
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every rule's own settings fields, merged (each field is read by one rule). */
export type RuleSettingsShape = UnionToIntersection<(typeof ALERT_RULES)[AlertKind]['settings']>;

export function ruleSettingsShape(): RuleSettingsShape {
  return Object.assign({}, ...ALERT_RULE_LIST.map((r) => r.settings)) as RuleSettingsShape;
}

export type { AlertRule, Condition, RuleInput, StreakSnapshot } from './rule.js';
