/**
 * The metrics an alert rule (alertRules) can watch: one entry per metric, read by the rule
 * engine, the rule validator, the GraphQL enum and the notifications. The seed's three kinds
 * (kinds/*.ts) keep their own modules; rules of alert_config.json map onto these metrics.
 */
import type { RuleWindowStats } from '../rules/window.js';

export const RULE_METRICS = [
  'error_rate',
  'p50_response_time',
  'p95_response_time',
  'p99_response_time',
  'throughput',
  'no_data',
  'consecutive_errors',
  'input_tokens',
  'output_tokens',
  'cost',
  'feedback_score',
] as const;
export type RuleMetric = (typeof RULE_METRICS)[number];

export type MetricUnit = 'percent' | 'ms' | 'per_minute' | 'minutes' | 'count' | 'tokens' | 'usd' | 'score';

/** What a metric is computed from at one evaluation. */
export interface MetricInput {
  window: RuleWindowStats;
  /** Failures in a row among the rule's interactions: the longest run since the last evaluation. */
  streak: number;
  /** Minutes since the rule's last interaction (or since the rule started watching). */
  minutesSinceLast: number;
  windowMinutes: number;
}

export interface MetricDefinition {
  id: RuleMetric;
  title: string;
  unit: MetricUnit;
  description: string;
  /** Judged only with at least the rule's minimum sample (rates, percentiles, means). */
  sampled: boolean;
  /** Uses the rule's sliding window (no_data and consecutive_errors do not). */
  windowed: boolean;
  /** The value, or null when there is nothing to judge (empty window, too small a sample). */
  value(input: MetricInput, minSample: number): number | null;
}

const sampled = (n: number, min: number): boolean => n > 0 && n >= min;
const quantile = (q: number) => (i: MetricInput, min: number) => (sampled(i.window.count, min) ? i.window.histogram.quantile(q) : null);

export const METRICS: Record<RuleMetric, MetricDefinition> = {
  error_rate: {
    id: 'error_rate', title: 'Error rate', unit: 'percent', sampled: true, windowed: true,
    description: 'failed / total interactions over the window, percent.',
    value: (i, min) => (sampled(i.window.count, min) ? (i.window.errors / i.window.count) * 100 : null),
  },
  p50_response_time: { id: 'p50_response_time', title: 'p50 response time', unit: 'ms', sampled: true, windowed: true, description: 'median response time over the window, ms.', value: quantile(0.5) },
  p95_response_time: { id: 'p95_response_time', title: 'p95 response time', unit: 'ms', sampled: true, windowed: true, description: 'p95 response time over the window, ms.', value: quantile(0.95) },
  p99_response_time: { id: 'p99_response_time', title: 'p99 response time', unit: 'ms', sampled: true, windowed: true, description: 'p99 response time over the window, ms.', value: quantile(0.99) },
  throughput: {
    id: 'throughput', title: 'Throughput', unit: 'per_minute', sampled: false, windowed: true,
    description: 'interactions per minute over the window.',
    value: (i) => i.window.count / i.windowMinutes,
  },
  no_data: {
    id: 'no_data', title: 'No data', unit: 'minutes', sampled: false, windowed: false,
    description: 'minutes since the last interaction in scope (traffic stopped).',
    value: (i) => i.minutesSinceLast,
  },
  consecutive_errors: {
    id: 'consecutive_errors', title: 'Consecutive errors', unit: 'count', sampled: false, windowed: false,
    description: 'failed interactions in a row.',
    value: (i) => i.streak,
  },
  input_tokens: { id: 'input_tokens', title: 'Input tokens', unit: 'tokens', sampled: false, windowed: true, description: 'input tokens summed over the window.', value: (i) => i.window.inputTokens },
  output_tokens: { id: 'output_tokens', title: 'Output tokens', unit: 'tokens', sampled: false, windowed: true, description: 'output tokens summed over the window.', value: (i) => i.window.outputTokens },
  cost: { id: 'cost', title: 'Cost', unit: 'usd', sampled: false, windowed: true, description: 'cost in USD summed over the window.', value: (i) => i.window.costUsd },
  feedback_score: {
    id: 'feedback_score', title: 'Mean feedback score', unit: 'score', sampled: true, windowed: true,
    description: 'mean feedback score of the rated interactions in the window.',
    value: (i, min) => (sampled(i.window.feedbackCount, min) ? i.window.feedbackSum / i.window.feedbackCount : null),
  },
};

/** The value with its unit, for messages: "12.5 %", "830 ms", "$1.20". */
export function formatMetricValue(unit: MetricUnit, v: number): string {
  const n = (digits: number) => v.toLocaleString('en-US', { maximumFractionDigits: digits });
  switch (unit) {
    case 'percent': return `${n(1)} %`;
    case 'ms': return `${n(0)} ms`;
    case 'per_minute': return `${n(1)}/min`;
    case 'minutes': return `${n(1)} min`;
    case 'count': return n(0);
    case 'tokens': return `${n(0)} tokens`;
    case 'usd': return `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;
    case 'score': return n(2);
  }
}
