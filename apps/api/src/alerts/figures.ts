/**
 * An alert's running figures for cards, notices and the API, whichever engine raised it: the
 * rule engine keeps them in a rule alert's details, the engine of alert_config.json's rules in
 * its `progress`; an alert stored before either kept them has only its raise-time value.
 */
import type { AlertRecord } from '../model/alert.js';
import { seedProgressOf } from './engine.js';
import { ruleDetailsOf } from './rules/engine.js';

export interface AlertFigures {
  currentValue: number;
  peakValue: number;
  /** [epoch ms, value] points, oldest first. */
  series: [number, number][];
}

export function alertFigures(alert: AlertRecord): AlertFigures {
  const rule = ruleDetailsOf(alert);
  if (rule) return { currentValue: rule.currentValue, peakValue: rule.peakValue, series: rule.series };
  return seedProgressOf(alert) ?? { currentValue: alert.value, peakValue: alert.value, series: [[alert.raisedAt, alert.value]] };
}
