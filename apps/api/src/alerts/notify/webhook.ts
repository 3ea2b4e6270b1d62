/**
 * Webhook delivery: a JSON POST whose `text` field chat webhooks (Slack, Mattermost, Teams
 * connectors) render as the message, plus the alert's structured fields for programs.
 */
import type { AlertRecord } from '../../model/alert.js';
import { PermanentError, withRetries, type AttemptResult, type RetryPolicy } from './retry.js';
import { alertHeadline } from './text.js';

export interface WebhookPayload {
  text: string;
  id: string;
  kind: AlertRecord['kind'];
  status: AlertRecord['status'];
  message: string;
  value: number;
  threshold: number;
  raisedAt: string;
  details: Record<string, unknown>;
}

export function webhookPayload(alert: AlertRecord): WebhookPayload {
  return {
    text: alertHeadline(alert),
    id: alert.id,
    kind: alert.kind,
    status: alert.status,
    message: alert.message,
    value: alert.value,
    threshold: alert.threshold,
    raisedAt: new Date(alert.raisedAt).toISOString(),
    details: alert.details,
  };
}

/** HTTP statuses worth another attempt; other 4xx answers mean the request itself is wrong. */
const RETRYABLE = (status: number): boolean => status >= 500 || status === 408 || status === 429;

export async function sendWebhook(url: string, alert: AlertRecord, policy: RetryPolicy, shutdown: AbortSignal): Promise<AttemptResult> {
  return postWebhookJson(url, webhookPayload(alert), policy, shutdown);
}

/**
 * POSTs any JSON body with a human-readable `text` to the webhook, with the alerts' timeout,
 * retries and back-off (the improvement tracker's verdicts go out this way too).
 */
export async function postWebhookJson(url: string, payload: { text: string }, policy: RetryPolicy, shutdown: AbortSignal): Promise<AttemptResult> {
  const body = JSON.stringify(payload);
  return withRetries(
    async (signal) => {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'ai-monitor-alerts' },
          body,
          signal,
          redirect: 'error',
        });
      } catch (err) {
        throw new Error(fetchErrorText(err as Error));
      }
      const text = (await res.text()).slice(0, 200).trim();
      const detail = `HTTP ${res.status}${text ? `: ${text}` : ''}`;
      if (res.ok) return detail;
      if (RETRYABLE(res.status)) throw new Error(detail);
      throw new PermanentError(detail);
    },
    policy,
    shutdown,
  );
}

/** fetch reports "fetch failed" and hides the reason (refused, DNS, TLS) in `cause`. */
function fetchErrorText(err: Error): string {
  const cause = err.cause instanceof Error ? err.cause.message : null;
  return cause ? `${err.message}: ${cause}` : err.message;
}
