/** How an alert reads in a chat message, an email subject and an email body. */
import type { AlertRecord } from '../../model/alert.js';
import { ruleOf } from '../kinds/index.js';

/** One line, e.g. for Slack / Mattermost `text` and for the email subject. */
export function alertHeadline(alert: AlertRecord): string {
  return `[ai-monitor] ${ruleOf(alert.kind).title}: ${alert.message}`;
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
