/**
 * Shapes of the answers the dashboard asks for. The printed schema marks most fields
 * nullable (the server's default); values the server always sets are typed as present,
 * measures that can be missing (percentiles of an empty range) as nullable.
 */

export interface ToolUse {
  tool: string;
  params: Record<string, unknown> | null;
  durationMs: number | null;
  success: boolean | null;
  error: string | null;
}

/** The columns lists and the live feed show. */
export interface InteractionRow {
  id: string;
  sessionId: string;
  timestamp: string;
  userInput: string;
  intent: string;
  responseTimeMs: number;
  success: boolean;
  errorType: string | null;
  toolsUsed: { tool: string }[];
}

/** The full record, for the detail view. */
export interface InteractionFull extends Omit<InteractionRow, 'toolsUsed'> {
  receivedAt: string | null;
  toolsUsed: ToolUse[];
  assistant: string | null;
  version: string | null;
  model: string | null;
  userId: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  feedbackScore: number | null;
  metadata: Record<string, unknown> | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

export interface Metrics {
  from: string;
  to: string;
  count: number;
  errors: number;
  errorRate: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  throughputPerMinute: number;
  activeSessions: number;
}

export interface TimeseriesPoint {
  start: string;
  count: number;
  errorRate: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  throughputPerMinute: number;
}

export interface IntentStat {
  intent: string;
  count: number;
  errors: number;
  errorRate: number;
  meanResponseTimeMs: number | null;
}

export interface ToolStat {
  tool: string;
  calls: number;
  errors: number;
  errorRate: number;
  meanDurationMs: number | null;
}

export interface ErrorTypeStat {
  errorType: string;
  count: number;
  share: number;
}

export interface SessionSummary {
  id: string;
  firstSeen: string;
  lastSeen: string;
  interactionCount: number;
  errorCount: number;
  errorRate: number;
  meanResponseTimeMs: number | null;
}

export type AlertKind = 'high_error_rate' | 'slow_response' | 'consecutive_errors';
export type AlertStatus = 'open' | 'resolved';

export interface AlertDelivery {
  channel: string;
  ok: boolean;
  attempts: number;
  at: string;
  detail: string;
}

export interface Alert {
  id: string;
  kind: AlertKind;
  status: AlertStatus;
  message: string;
  value: number;
  threshold: number;
  raisedAt: string;
  resolvedAt: string | null;
  acknowledged: boolean;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  delivery: AlertDelivery[];
  details: Record<string, unknown>;
}

export interface AlertSummary {
  open: number;
  unacknowledged: number;
}

export interface AlertConfig {
  errorRateThreshold: number;
  responseTimeThreshold: number;
  consecutiveErrorsThreshold: number;
  alertCooldownMinutes: number;
  enabled: boolean;
  webhookUrl: string | null;
  emailNotifications: boolean;
  windowMinutes: number;
  minSampleSize: number;
  emailTo: string[];
  emailFrom: string | null;
  smtpConfigured: boolean;
}

export type AlertConfigInput = Partial<Omit<AlertConfig, 'smtpConfigured'>> & { smtpUrl?: string | null };

/** The explorer's filter; also the feed subscription's. */
export interface InteractionFilter {
  from?: string;
  to?: string;
  sessionId?: string;
  intent?: string;
  tool?: string;
  success?: boolean;
  errorType?: string;
  search?: string;
}

/** Arguments shared by the range-bound metric fields. */
export interface RangeVars {
  window?: string;
  from?: string;
  to?: string;
}

/** A sender whose timestamps arrived ahead of the server clock (see `clockSkew`). */
export interface ClockSkewClient {
  client: string;
  assistant: string | null;
  address: string | null;
  records: number;
  naiveRecords: number;
  /** `+8 h`, `+5 h 30 min`: the skew rounded to the nearest 15 minutes. */
  likelyOffset: string;
  suggestedTimezone: string | null;
}

export interface ClockSkewSummary {
  records: number;
  toleranceMs: number;
  naiveTimezone: string;
  clients: ClockSkewClient[];
}
