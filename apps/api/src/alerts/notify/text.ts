/** How an alert reads in a chat message, an email subject and an email body. */
import { RULE_ALERT_KIND, type AlertRecord } from '../../model/alert.js';
import { ruleOf } from '../kinds/index.js';
import { METRICS, formatMetricValue } from '../kinds/metrics.js';
import { ruleDetailsOf } from '../rules/engine.js';
import { scopeText } from '../rules/model.js';

/** What a notice announces: a new alert, a higher severity, a reminder, or the end. */
export type NoticeEvent = 'firing' | 'escalated' | 'repeat' | 'resolved';

const EVENT_WORD: Record<NoticeEvent, string> = { firing: 'FIRING', escalated: 'ESCALATED', repeat: 'STILL FIRING', resolved: 'RESOLVED' };

/** One line, e.g. for Slack / Mattermost `text` and for the email subject. */
export function alertHeadline(alert: AlertRecord, event: NoticeEvent = 'firing'): string {
  const rule = ruleDetailsOf(alert);
  if (alert.kind === RULE_ALERT_KIND && rule) {
    const sev = event === 'resolved' ? '' : ` ${rule.severity}`;
    return `[ai-monitor] ${EVENT_WORD[event]}${sev}: ${rule.ruleName}: ${alert.message}`;
  }
  if (alert.kind === RULE_ALERT_KIND) return `[ai-monitor] ${EVENT_WORD[event]}: ${alert.message}`;
  return `[ai-monitor] ${ruleOf(alert.kind).title}: ${alert.message}`;
}

export function alertBody(alert: AlertRecord, event: NoticeEvent = 'firing'): string {
  const rule = ruleDetailsOf(alert);
  if (rule) {
    const unit = METRICS[rule.metric].unit;
    return [
      alertHeadline(alert, event),
      '',
      `Rule:      ${rule.ruleName} (${rule.ruleId})`,
      `Metric:    ${METRICS[rule.metric].title} ${rule.comparison} ${[rule.warning === null ? null : `warning ${formatMetricValue(unit, rule.warning)}`, rule.critical === null ? null : `critical ${formatMetricValue(unit, rule.critical)}`].filter(Boolean).join(', ')}`,
      `Scope:     ${scopeText(rule.scope)}`,
      `Severity:  ${rule.severity}`,
      `Current:   ${formatMetricValue(unit, rule.currentValue)}`,
      `Peak:      ${formatMetricValue(unit, rule.peakValue)}`,
      `Raised at: ${new Date(alert.raisedAt).toISOString()}`,
      ...(alert.resolvedAt !== null ? [`Resolved:  ${new Date(alert.resolvedAt).toISOString()}`] : []),
      `Alert id:  ${alert.id}`,
    ].join('\n');
  }
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
