/**
 * Chooses the channels for a new alert (webhook, email) from the current settings and sends
 * through a bounded queue, off the commit path. Every outcome, including "not sent", is
 * handed to `record`, which stores it on the alert.
 */
import type { AlertRecord, DeliveryOutcome } from '../../model/alert.js';
import type { Logger } from '../../log/logger.js';
import type { AlertSettings } from '../config-schema.js';
import { JobQueue } from './queue.js';
import { DEFAULT_RETRY, type AttemptResult, type RetryPolicy } from './retry.js';
import { sendWebhook } from './webhook.js';
import { EMAIL_TIMEOUT_MS, sendEmail, type EmailSettings } from './email.js';
import { sendChannel } from './channels.js';
import type { NoticeEvent } from './text.js';
import type { ChannelConfig } from '../rules/model.js';

/** SMTP settings from the server configuration / environment, used where the file leaves them unset. */
export interface EmailFallbacks {
  smtpUrl?: string | undefined;
  from?: string | undefined;
  to: string[];
}

export interface NotifierOptions {
  settings: () => AlertSettings;
  fallbacks: EmailFallbacks;
  record: (alertId: string, outcome: DeliveryOutcome) => Promise<void>;
  logger: Logger;
  capacity?: number;
  concurrency?: number;
  /** Signing timestamps of the chat channels. */
  clock?: () => number;
}

const DEFAULT_FROM = 'ai-monitor@localhost';

/** The effective email settings, or null when SMTP or recipients are missing. */
export function effectiveEmail(settings: AlertSettings, fallbacks: EmailFallbacks): EmailSettings | null {
  const smtpUrl = settings.smtp_url ?? fallbacks.smtpUrl;
  const to = settings.email_to.length > 0 ? settings.email_to : fallbacks.to;
  if (!smtpUrl || to.length === 0) return null;
  return { smtpUrl, to, from: settings.email_from ?? fallbacks.from ?? DEFAULT_FROM };
}

export class Notifier {
  private readonly queue: JobQueue;
  private readonly webhookPolicy: RetryPolicy = DEFAULT_RETRY;
  private readonly emailPolicy: RetryPolicy = { ...DEFAULT_RETRY, timeoutMs: EMAIL_TIMEOUT_MS };

  constructor(private readonly opts: NotifierOptions) {
    this.queue = new JobQueue({
      capacity: opts.capacity ?? 1000,
      concurrency: opts.concurrency ?? 4,
      onError: (err) => opts.logger.error({ err }, `alert notification failed: ${err.message}`),
    });
  }

  /** Queues the notifications of a new alert; never throws and never waits for delivery. */
  notify(alert: AlertRecord): void {
    const settings = this.opts.settings();
    if (settings.webhook_url) {
      const url = settings.webhook_url;
      this.enqueue(alert, 'webhook', (shutdown) => sendWebhook(url, alert, this.webhookPolicy, shutdown));
    }
    if (settings.email_notifications) {
      const email = effectiveEmail(settings, this.opts.fallbacks);
      const onTransportError = (err: Error): void => this.opts.logger.warn({ err }, `SMTP transport error: ${err.message}`);
      if (email) this.enqueue(alert, 'email', (shutdown) => sendEmail(email, alert, this.emailPolicy, shutdown, onTransportError));
      else {
        this.save(alert.id, {
          channel: 'email',
          ok: false,
          attempts: 0,
          at: Date.now(),
          detail: 'not sent: email_notifications is on but SMTP is not configured (set smtp_url and email_to in alert_config.json, or AI_MONITOR_SMTP_URL and AI_MONITOR_ALERT_EMAIL_TO)',
        });
      }
    }
  }

  /**
   * Queues `event` of a rule's alert to each of the rule's channels; never throws and never
   * waits. Each outcome is recorded on the alert with its event.
   */
  notifyRule(alert: AlertRecord, channels: readonly ChannelConfig[], event: NoticeEvent): void {
    const clock = this.opts.clock ?? Date.now;
    for (const channel of channels) {
      if (channel.type === 'email') {
        const email = effectiveEmail({ ...this.opts.settings(), email_to: channel.to.length > 0 ? channel.to : this.opts.settings().email_to }, this.opts.fallbacks);
        const onTransportError = (err: Error): void => this.opts.logger.warn({ err }, `SMTP transport error: ${err.message}`);
        if (email) this.enqueue(alert, 'email', (shutdown) => sendEmail(email, alert, this.emailPolicy, shutdown, onTransportError, event), event);
        else this.save(alert.id, { channel: 'email', event, ok: false, attempts: 0, at: clock(), detail: 'not sent: SMTP is not configured (smtp_url in alert_config.json or AI_MONITOR_SMTP_URL, and recipients)' });
        continue;
      }
      const { url, type } = channel;
      if (!url) continue;
      this.enqueue(alert, type, (shutdown) => sendChannel({ ...channel, type, url }, alert, event, this.webhookPolicy, shutdown, clock), event);
    }
  }

  /** Records, for each channel, that `event` was held back (e.g. by a silence). */
  recordSkipped(alert: AlertRecord, channels: readonly ChannelConfig[], event: NoticeEvent, why: string): void {
    const at = (this.opts.clock ?? Date.now)();
    for (const channel of channels) this.save(alert.id, { channel: channel.type, event, ok: false, attempts: 0, at, detail: `not sent: ${why}` });
  }

  get pending(): number {
    return this.queue.pending;
  }

  async stop(): Promise<void> {
    const dropped = await this.queue.stop();
    if (dropped.length > 0) this.opts.logger.warn({ dropped: dropped.length }, 'alert notifications not sent: the server stopped first');
  }

  private enqueue(alert: AlertRecord, channel: DeliveryOutcome['channel'], send: (shutdown: AbortSignal) => Promise<AttemptResult>, event?: NoticeEvent): void {
    const tag = event === undefined ? {} : { event };
    const accepted = this.queue.push(async (shutdown) => {
      const result = await send(shutdown);
      if (!result.ok) this.opts.logger.warn({ alert: alert.id, channel, detail: result.detail }, `alert ${channel} delivery failed`);
      await this.opts.record(alert.id, { channel, ...tag, ok: result.ok, attempts: result.attempts, at: Date.now(), detail: result.detail });
    });
    if (!accepted) {
      this.save(alert.id, { channel, ...tag, ok: false, attempts: 0, at: Date.now(), detail: `not sent: the notification queue is full (${this.queue.pending} pending)` });
    }
  }

  private save(alertId: string, outcome: DeliveryOutcome): void {
    this.opts.record(alertId, outcome).catch((err: unknown) => this.opts.logger.error({ err }, `cannot record the delivery of alert ${alertId}`));
  }
}
