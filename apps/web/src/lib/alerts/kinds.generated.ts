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
