/**
 * What one alert kind is: its id, its title, the settings it reads (alert_config.json names
 * and units, validated by zod), its evaluation over the engine's incremental state, and the
 * text of the alert it raises. The registry (kinds/index.ts) lists every kind; the engine,
 * the settings validator, the GraphQL types and the notifications derive from it.
 */
import type { z } from 'zod';
import type { AlertKind } from '@ai-monitor/schema';
import type { AlertSettings } from '../config-schema.js';
import type { NumericSettingInfo } from '../settings-fields.js';
import type { WindowStats } from '../window.js';

/** A firing condition with its readable message. */
export interface Condition {
  kind: AlertKind;
  /** The observed value: percent, ms or a count. */
  value: number;
  threshold: number;
  message: string;
  details: Record<string, unknown>;
}

/** The failures of the current streak, newest last (bounded). */
export interface StreakSnapshot {
  /** Failures in a row so far (0 after a success). */
  current: number;
  /** The longest the streak reached since the last evaluation. */
  peak: number;
  recent: { id: string; sessionId: string; errorType: string | null }[];
}

/** The engine's state at one evaluation, kept up to date with every committed batch. */
export interface RuleInput {
  window: WindowStats;
  streak: StreakSnapshot;
}

export interface AlertRule<Shape extends z.ZodRawShape = z.ZodRawShape> {
  kind: AlertKind;
  /** Short title: notification headlines and the dashboard's labels. */
  title: string;
  /** The unit of the alert's value and threshold (how the dashboard shows them). */
  valueUnit: 'percent' | 'ms' | 'count';
  /** One sentence for the GraphQL enum's description. */
  description: string;
  /** The alert_config.json fields only this rule reads; each with its default. */
  settings: Shape;
  /** How each of those fields appears in GraphQL and the editor. */
  settingsInfo: { [K in keyof Shape]: NumericSettingInfo };
  /** How many of the newest interactions restore the error streak this rule needs after a restart (none when absent). */
  streakDepth?(settings: AlertSettings): number;
  /** The condition, or null when it does not hold. Pure: same input, same answer. */
  evaluate(input: RuleInput, settings: AlertSettings): Condition | null;
}

/** Keeps a rule's own settings shape in its type (for the registry's typed settings). */
export function defineRule<Shape extends z.ZodRawShape>(rule: AlertRule<Shape>): AlertRule<Shape> {
  return rule;
}
