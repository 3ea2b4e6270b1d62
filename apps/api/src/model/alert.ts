import type { AlertKind } from '@ai-monitor/schema';

export type { AlertKind };
export type AlertStatus = 'open' | 'resolved';

/** One attempt to notify a channel (webhook or email) about an alert. */
export interface DeliveryOutcome {
  channel: 'webhook' | 'email';
  ok: boolean;
  attempts: number;
  at: number;
  /** HTTP status or SMTP response, or the error text. */
  detail: string;
}

export interface AlertRecord {
  id: string;
  kind: AlertKind;
  status: AlertStatus;
  message: string;
  /** The observed value that crossed the threshold (percent, ms or a count). */
  value: number;
  threshold: number;
  raisedAt: number;
  resolvedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  delivery: DeliveryOutcome[];
  details: Record<string, unknown>;
}

export interface AlertFilter {
  status?: AlertStatus | undefined;
  kind?: AlertKind | undefined;
  acknowledged?: boolean | undefined;
  from?: number | undefined;
  to?: number | undefined;
}
