/**
 * The three alert rules as pure functions of the current state and the settings: each
 * returns the firing condition (with a readable message) or null when it does not hold.
 */
import type { AlertKind } from '@ai-monitor/schema';
import type { AlertSettings } from './config-schema.js';
import type { WindowStats } from './window.js';

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

// toLocaleString builds a formatter per call; rules run on every batch, so keep them.
const formatters = new Map<number, Intl.NumberFormat>();
const fmt = (n: number, digits = 0): string => {
  let f = formatters.get(digits);
  if (!f) formatters.set(digits, (f = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })));
  return f.format(n);
};
const windowText = (minutes: number): string => (minutes === 1 ? 'the last minute' : `the last ${fmt(minutes, minutes % 1 === 0 ? 0 : 2)} minutes`);

export function highErrorRate(stats: WindowStats, s: AlertSettings): Condition | null {
  if (stats.count < s.min_sample_size || !(stats.errorRate > s.error_rate_threshold)) return null;
  return {
    kind: 'high_error_rate',
    value: round(stats.errorRate, 2),
    threshold: s.error_rate_threshold,
    message:
      `Error rate ${fmt(stats.errorRate, 1)} % over ${windowText(s.window_minutes)} ` +
      `(${fmt(stats.errors)} of ${fmt(stats.count)} interactions failed) is above the threshold of ${fmt(s.error_rate_threshold, 1)} %`,
    details: { windowMinutes: s.window_minutes, count: stats.count, errors: stats.errors, minSampleSize: s.min_sample_size },
  };
}

export function slowResponse(stats: WindowStats, s: AlertSettings): Condition | null {
  if (stats.count < s.min_sample_size || stats.p95 === null || !(stats.p95 > s.response_time_threshold)) return null;
  return {
    kind: 'slow_response',
    value: round(stats.p95, 1),
    threshold: s.response_time_threshold,
    message:
      `p95 response time ${fmt(stats.p95)} ms over ${windowText(s.window_minutes)} ` +
      `(${fmt(stats.count)} interactions) is above the threshold of ${fmt(s.response_time_threshold)} ms`,
    details: { windowMinutes: s.window_minutes, count: stats.count, p95Ms: round(stats.p95, 1), minSampleSize: s.min_sample_size },
  };
}

export function consecutiveErrors(streak: StreakSnapshot, s: AlertSettings): Condition | null {
  const run = Math.max(streak.peak, streak.current);
  if (run < s.consecutive_errors_threshold) return null;
  const last = streak.recent[streak.recent.length - 1];
  const types = [...new Set(streak.recent.map((r) => r.errorType ?? 'unknown'))];
  return {
    kind: 'consecutive_errors',
    value: run,
    threshold: s.consecutive_errors_threshold,
    message:
      `${fmt(run)} interactions failed in a row (threshold ${fmt(s.consecutive_errors_threshold)})` +
      (last ? `; last error: ${last.errorType ?? 'unknown'}` : ''),
    details: {
      streak: run,
      errorTypes: types,
      interactionIds: streak.recent.map((r) => r.id),
      sessionIds: [...new Set(streak.recent.map((r) => r.sessionId))],
    },
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
