/**
 * The seed's `monitoring_data/alert_config.json`: same field names and units.
 * Optional fields cover what the seed leaves implicit.
 */
export interface AlertConfigFile {
  /** Percent: failed / total over the window above this raises `high_error_rate`. */
  error_rate_threshold: number;
  /** Milliseconds: the window's p95 response time above this raises `slow_response`. */
  response_time_threshold: number;
  /** That many failed interactions in a row raise `consecutive_errors`. */
  consecutive_errors_threshold: number;
  /** The same alert kind is not raised again within this many minutes. */
  alert_cooldown_minutes: number;
  /** Master switch. */
  enabled: boolean;
  /** POST target for alert notifications; empty or null disables webhooks. */
  webhook_url: string | null;
  email_notifications: boolean;
  /** Sliding window of the rate and latency rules, in minutes (default 5). */
  window_minutes?: number;
  /** Fewest interactions in the window before the rate and latency rules judge (default 20). */
  min_sample_size?: number;
  /** Mail recipients; falls back to AI_MONITOR_ALERT_EMAIL_TO. */
  email_to?: string[];
  /** Sender address; falls back to AI_MONITOR_ALERT_EMAIL_FROM. */
  email_from?: string | null;
  /** SMTP URL such as smtp://user:pass@host:587; falls back to AI_MONITOR_SMTP_URL. */
  smtp_url?: string | null;
}

export const ALERT_KINDS = ['high_error_rate', 'slow_response', 'consecutive_errors'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** The seed's defaults (its webhook URL is a placeholder, so none is set here). */
export const DEFAULT_ALERT_CONFIG: AlertConfigFile = {
  error_rate_threshold: 5.0,
  response_time_threshold: 30000,
  consecutive_errors_threshold: 3,
  alert_cooldown_minutes: 15,
  enabled: true,
  webhook_url: null,
  email_notifications: false,
  window_minutes: 5,
  min_sample_size: 20,
};
