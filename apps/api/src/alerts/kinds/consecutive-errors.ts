/** consecutive_errors: that many failed interactions in a row. */
import { DEFAULT_ALERT_CONFIG } from '@ai-monitor/schema';
import { positiveInt } from '../settings-fields.js';
import { defineRule } from './rule.js';
import { fmt } from './format.js';

export const consecutiveErrors = defineRule({
  kind: 'consecutive_errors',
  title: 'Consecutive errors',
  valueUnit: 'count',
  description: 'that many failures in a row.',
  settings: {
    consecutive_errors_threshold: positiveInt(100_000).default(DEFAULT_ALERT_CONFIG.consecutive_errors_threshold),
  },
  settingsInfo: {
    consecutive_errors_threshold: {
      graphqlName: 'consecutiveErrorsThreshold',
      graphqlType: 'Int',
      editor: { label: 'Consecutive errors', unit: 'failures', min: 1, minInclusive: true, hint: 'That many failures in a row raise consecutive_errors.' },
    },
  },
  streakDepth: (s) => s.consecutive_errors_threshold,
  evaluate({ streak }, s) {
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
  },
});
