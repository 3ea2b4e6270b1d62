// Generated from the alert rule registry (apps/api/src/alerts/kinds) by apps/api/dist/alerts/kinds/web-module.js; do not edit.

/** Every alert kind: its id, its title and the unit of its value and threshold. */
export const ALERT_KINDS = [
  {
    "id": "high_error_rate",
    "label": "High error rate",
    "unit": "percent"
  },
  {
    "id": "slow_response",
    "label": "Slow responses",
    "unit": "ms"
  },
  {
    "id": "consecutive_errors",
    "label": "Consecutive errors",
    "unit": "count"
  }
] as const;

/** The numeric fields of the settings editor: the rules' thresholds, then the shared settings. */
export const ALERT_NUMBER_FIELDS = [
  {
    "key": "errorRateThreshold",
    "label": "Error rate threshold",
    "seed": "error_rate_threshold",
    "unit": "%",
    "min": 0,
    "minInclusive": false,
    "max": 100,
    "integer": false,
    "hint": "Failed share of the window above which high_error_rate is raised."
  },
  {
    "key": "responseTimeThreshold",
    "label": "Response time threshold",
    "seed": "response_time_threshold",
    "unit": "ms",
    "min": 0,
    "minInclusive": false,
    "integer": false,
    "hint": "The window's p95 above this raises slow_response."
  },
  {
    "key": "consecutiveErrorsThreshold",
    "label": "Consecutive errors",
    "seed": "consecutive_errors_threshold",
    "unit": "failures",
    "min": 1,
    "minInclusive": true,
    "integer": true,
    "hint": "That many failures in a row raise consecutive_errors."
  },
  {
    "key": "alertCooldownMinutes",
    "label": "Cooldown",
    "seed": "alert_cooldown_minutes",
    "unit": "min",
    "min": 0,
    "minInclusive": true,
    "integer": false,
    "hint": "The same kind is not raised again within this time."
  },
  {
    "key": "windowMinutes",
    "label": "Window",
    "seed": "window_minutes",
    "unit": "min",
    "min": 0,
    "minInclusive": false,
    "integer": false,
    "hint": "Sliding window of the error-rate and response-time rules."
  },
  {
    "key": "minSampleSize",
    "label": "Minimum sample",
    "seed": "min_sample_size",
    "unit": "interactions",
    "min": 1,
    "minInclusive": true,
    "integer": true,
    "hint": "Fewer interactions in the window are not judged."
  }
] as const;

/** The metrics of alert rules (the rules editor's choices): id, title, unit, whether a window and a minimum sample apply. */
export const ALERT_METRICS = [
  {
    "id": "error_rate",
    "label": "Error rate",
    "unit": "percent",
    "windowed": true,
    "sampled": true,
    "description": "failed / total interactions over the window, percent."
  },
  {
    "id": "p50_response_time",
    "label": "p50 response time",
    "unit": "ms",
    "windowed": true,
    "sampled": true,
    "description": "median response time over the window, ms."
  },
  {
    "id": "p95_response_time",
    "label": "p95 response time",
    "unit": "ms",
    "windowed": true,
    "sampled": true,
    "description": "p95 response time over the window, ms."
  },
  {
    "id": "p99_response_time",
    "label": "p99 response time",
    "unit": "ms",
    "windowed": true,
    "sampled": true,
    "description": "p99 response time over the window, ms."
  },
  {
    "id": "throughput",
    "label": "Throughput",
    "unit": "per_minute",
    "windowed": true,
    "sampled": false,
    "description": "interactions per minute over the window."
  },
  {
    "id": "no_data",
    "label": "No data",
    "unit": "minutes",
    "windowed": false,
    "sampled": false,
    "description": "minutes since the last interaction in scope (traffic stopped)."
  },
  {
    "id": "consecutive_errors",
    "label": "Consecutive errors",
    "unit": "count",
    "windowed": false,
    "sampled": false,
    "description": "failed interactions in a row."
  },
  {
    "id": "input_tokens",
    "label": "Input tokens",
    "unit": "tokens",
    "windowed": true,
    "sampled": false,
    "description": "input tokens summed over the window."
  },
  {
    "id": "output_tokens",
    "label": "Output tokens",
    "unit": "tokens",
    "windowed": true,
    "sampled": false,
    "description": "output tokens summed over the window."
  },
  {
    "id": "cost",
    "label": "Cost",
    "unit": "usd",
    "windowed": true,
    "sampled": false,
    "description": "cost in USD summed over the window."
  },
  {
    "id": "feedback_score",
    "label": "Mean feedback score",
    "unit": "score",
    "windowed": true,
    "sampled": true,
    "description": "mean feedback score of the rated interactions in the window."
  }
] as const;

/** The scope fields of a rule or a silence, and the channel types of a rule. */
export const ALERT_SCOPE_FIELDS = ["assistant","version","environment","intent","tool","errorType","model"] as const;
export const ALERT_CHANNEL_TYPES = ["webhook","slack","feishu","dingtalk","wecom","email"] as const;
