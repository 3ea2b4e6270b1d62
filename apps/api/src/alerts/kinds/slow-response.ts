/** slow_response: the sliding window's p95 response time above a number of milliseconds. */
import { DEFAULT_ALERT_CONFIG } from '@ai-monitor/schema';
import { nonNegative } from '../settings-fields.js';
import { defineRule } from './rule.js';
import { fmt, round, windowText } from './format.js';

export const slowResponse = defineRule({
  kind: 'slow_response',
  title: 'Slow responses',
  valueUnit: 'ms',
  description: 'the window p95 above response_time_threshold (ms).',
  settings: {
    response_time_threshold: nonNegative(86_400_000, ' ms').default(DEFAULT_ALERT_CONFIG.response_time_threshold),
  },
  settingsInfo: {
    response_time_threshold: {
      graphqlName: 'responseTimeThreshold',
      graphqlType: 'Float',
      description: 'Milliseconds (window p95).',
      editor: { label: 'Response time threshold', unit: 'ms', min: 0, minInclusive: false, hint: "The window's p95 above this raises slow_response." },
    },
  },
  evaluate({ window: stats }, s) {
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
  },
});
