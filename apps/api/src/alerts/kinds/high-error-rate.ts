/** high_error_rate: the failed share of the sliding window above a percentage. */
import { DEFAULT_ALERT_CONFIG } from '@ai-monitor/schema';
import { nonNegative } from '../settings-fields.js';
import { defineRule } from './rule.js';
import { fmt, round, windowText } from './format.js';

export const highErrorRate = defineRule({
  kind: 'high_error_rate',
  title: 'High error rate',
  valueUnit: 'percent',
  description: 'failed / total over the window above error_rate_threshold (percent).',
  settings: {
    error_rate_threshold: nonNegative(100, ' (percent)').default(DEFAULT_ALERT_CONFIG.error_rate_threshold),
  },
  settingsInfo: {
    error_rate_threshold: {
      graphqlName: 'errorRateThreshold',
      graphqlType: 'Float',
      description: 'Percent.',
      editor: { label: 'Error rate threshold', unit: '%', min: 0, minInclusive: false, max: 100, hint: 'Failed share of the window above which high_error_rate is raised.' },
    },
  },
  evaluate({ window: stats }, s) {
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
  },
});
