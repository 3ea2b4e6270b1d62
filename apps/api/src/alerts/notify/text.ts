/** How an alert reads in a chat message, an email subject and an email body. */
import type { AlertRecord } from '../../model/alert.js';

const TITLES: Record<AlertRecord['kind'], string> = {
  high_error_rate: 'High error rate',
  slow_response: 'Slow responses',
  consecutive_errors: 'Consecutive errors',
};

/** One line, e.g. for Slack / Mattermost `text` and for the email subject. */
export function alertHeadline(alert: AlertRecord): string {
  return `[ai-monitor] ${TITLES[alert.kind]}: ${alert.message}`;
}

export function alertBody(alert: AlertRecord): string {
  return [
    alert.message,
    '',
    `Kind:      ${alert.kind}`,
    `Value:     ${alert.value}`,
    `Threshold: ${alert.threshold}`,
    `Raised at: ${new Date(alert.raisedAt).toISOString()}`,
    `Alert id:  ${alert.id}`,
    '',
    `Details:   ${JSON.stringify(alert.details)}`,
    '',
    'Acknowledge it on the ai-monitor dashboard or with the acknowledgeAlert mutation.',
  ].join('\n');
}
