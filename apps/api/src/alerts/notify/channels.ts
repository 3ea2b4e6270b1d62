/**
 * The chat and webhook channels of alert rules: each type's payload and signing, sent with the
 * same retries and back-off as the seed's webhook (retry.ts).
 *
 * - webhook: the seed's JSON (with `text`) plus `event` and `rule`; with a secret, headers
 *   `X-AI-Monitor-Timestamp: <unix seconds>` and `X-AI-Monitor-Signature: sha256=<hex>`, the
 *   HMAC-SHA256 (key: the secret) of `<timestamp>.<body>`.
 * - slack: incoming-webhook `text` plus one mrkdwn section block.
 * - feishu (Lark): `msg_type: text`; with a secret, `timestamp` (unix seconds) and `sign`:
 *   base64 of HMAC-SHA256 keyed with `<timestamp>\n<secret>` over the empty string.
 * - dingtalk: `msgtype: text`; with a secret, query parameters `timestamp` (ms) and `sign`:
 *   URL-encoded base64 of HMAC-SHA256 keyed with the secret over `<timestamp>\n<secret>`.
 * - wecom: `msgtype: markdown`; no signing (the robot's key is in its URL).
 * The robots answer HTTP 200 with an error code in the body; a non-zero code is a failure.
 */
import { createHmac } from 'node:crypto';
import type { AlertRecord } from '../../model/alert.js';
import type { ChannelConfig } from '../rules/model.js';
import { ruleDetailsOf } from '../rules/engine.js';
import { PermanentError, withRetries, type AttemptResult, type RetryPolicy } from './retry.js';
import { alertBody, alertHeadline, type NoticeEvent } from './text.js';
import { webhookPayload } from './webhook.js';

export type HttpChannel = Exclude<ChannelConfig['type'], 'email'>;

export interface PreparedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export const SIGNATURE_HEADER = 'x-ai-monitor-signature';
export const TIMESTAMP_HEADER = 'x-ai-monitor-timestamp';

const hmac = (key: string, data: string) => createHmac('sha256', key).update(data, 'utf8');

/** The request a channel sends for `event` of `alert`, at `now` (signatures depend on it). */
export function prepareRequest(channel: ChannelConfig & { type: HttpChannel; url: string }, alert: AlertRecord, event: NoticeEvent, now: number): PreparedRequest {
  const headline = alertHeadline(alert, event);
  const text = alertBody(alert, event);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'ai-monitor-alerts' };
  switch (channel.type) {
    case 'webhook': {
      const body = JSON.stringify({ ...webhookPayload(alert), text: headline, event, resolvedAt: alert.resolvedAt === null ? null : new Date(alert.resolvedAt).toISOString(), rule: ruleDetailsOf(alert) });
      if (channel.secret) {
        const ts = String(Math.floor(now / 1000));
        headers[TIMESTAMP_HEADER] = ts;
        headers[SIGNATURE_HEADER] = `sha256=${hmac(channel.secret, `${ts}.${body}`).digest('hex')}`;
      }
      return { url: channel.url, headers, body };
    }
    case 'slack':
      return { url: channel.url, headers, body: JSON.stringify({ text: headline, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '```' + text + '```' } }] }) };
    case 'feishu': {
      const payload: Record<string, unknown> = { msg_type: 'text', content: { text } };
      if (channel.secret) {
        const ts = String(Math.floor(now / 1000));
        payload.timestamp = ts;
        payload.sign = hmac(`${ts}\n${channel.secret}`, '').digest('base64');
      }
      return { url: channel.url, headers, body: JSON.stringify(payload) };
    }
    case 'dingtalk': {
      let url = channel.url;
      if (channel.secret) {
        const ts = String(now);
        const sign = encodeURIComponent(hmac(channel.secret, `${ts}\n${channel.secret}`).digest('base64'));
        url += `${url.includes('?') ? '&' : '?'}timestamp=${ts}&sign=${sign}`;
      }
      return { url, headers, body: JSON.stringify({ msgtype: 'text', text: { content: text } }) };
    }
    case 'wecom':
      return { url: channel.url, headers, body: JSON.stringify({ msgtype: 'markdown', markdown: { content: text } }) };
  }
}

const RETRYABLE = (status: number): boolean => status >= 500 || status === 408 || status === 429;

/** The robots' error code in a 200 answer ({"code":…} Feishu, {"errcode":…} DingTalk and WeCom), or null. */
function robotError(type: HttpChannel, text: string): string | null {
  if (type !== 'feishu' && type !== 'dingtalk' && type !== 'wecom') return null;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  const code = b.code ?? b.errcode ?? b.StatusCode;
  if (code === undefined || code === 0) return null;
  return `${type} answered error ${String(code)}: ${String(b.msg ?? b.errmsg ?? b.StatusMessage ?? '')}`.trim();
}

export async function sendChannel(
  channel: ChannelConfig & { type: HttpChannel; url: string },
  alert: AlertRecord,
  event: NoticeEvent,
  policy: RetryPolicy,
  shutdown: AbortSignal,
  clock: () => number,
): Promise<AttemptResult> {
  return withRetries(
    async (signal) => {
      // Signed each attempt: robots refuse timestamps more than about an hour old.
      const req = prepareRequest(channel, alert, event, clock());
      let res: Response;
      try {
        res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal, redirect: 'error' });
      } catch (err) {
        const e = err as Error;
        throw new Error(e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message);
      }
      const text = (await res.text()).slice(0, 300).trim();
      const detail = `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
      if (res.ok) {
        const robot = robotError(channel.type, text);
        if (robot) throw new PermanentError(robot);
        return detail;
      }
      if (RETRYABLE(res.status)) throw new Error(detail);
      throw new PermanentError(detail);
    },
    policy,
    shutdown,
  );
}
