import type { AlertKind } from '@ai-monitor/schema';

export type { AlertKind };
export type AlertStatus = 'open' | 'resolved';

/** The kind of alerts raised by alert rules (alertRules); the rule is in `details.rule`. */
export const RULE_ALERT_KIND = 'rule';
/** The seed's kinds (alert_config.json) or a rule's alert. */
export type AlertRecordKind = AlertKind | typeof RULE_ALERT_KIND;

/** One attempt to notify a channel about an alert. */
export interface DeliveryOutcome {
  channel: 'webhook' | 'email' | 'slack' | 'feishu' | 'dingtalk' | 'wecom';
  /** What was announced (rule alerts): firing, escalated, repeat or resolved. */
  event?: string;
  ok: boolean;
  attempts: number;
  at: number;
  /** HTTP status or SMTP response, or the error text. */
  detail: string;
}

export interface AlertRecord {
  id: string;
  kind: AlertRecordKind;
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
  kind?: AlertRecordKind | undefined;
  acknowledged?: boolean | undefined;
  from?: number | undefined;
  to?: number | undefined;
}
