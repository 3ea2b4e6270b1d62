/** Email delivery over SMTP through nodemailer (one connection per alert: alerts are rare). */
import { createTransport } from 'nodemailer';
import type { AlertRecord } from '../../model/alert.js';
import { withRetries, type AttemptResult, type RetryPolicy } from './retry.js';
import { alertBody, alertHeadline, type NoticeEvent } from './text.js';

export interface EmailSettings {
  smtpUrl: string;
  from: string;
  to: string[];
}

/** SMTP is slower than a webhook: allow more time per attempt. */
export const EMAIL_TIMEOUT_MS = 20_000;

export async function sendEmail(
  settings: EmailSettings,
  alert: AlertRecord,
  policy: RetryPolicy,
  shutdown: AbortSignal,
  onTransportError: (err: Error) => void,
  event: NoticeEvent = 'firing',
): Promise<AttemptResult> {
  const transport = createTransport({
    url: settings.smtpUrl,
    connectionTimeout: policy.timeoutMs,
    greetingTimeout: policy.timeoutMs,
    socketTimeout: policy.timeoutMs,
  });
  // A pooled transport (smtp_url with ?pool=true) also reports connection errors as an event,
  // outside any send: unheard, one would stop the process.
  transport.on('error', onTransportError);
  try {
    return await withRetries(
      async (signal) => {
        const info = await transport.sendMail({
          from: settings.from,
          to: settings.to,
          subject: alertHeadline(alert, event),
          text: alertBody(alert, event),
          signal,
        });
        return String(info.response ?? 'accepted');
      },
      policy,
      shutdown,
    );
  } finally {
    transport.close();
  }
}
