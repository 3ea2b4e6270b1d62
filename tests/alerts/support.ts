/**
 * Helpers of the alert tests: the settings file, ingest through the three real paths, GraphQL
 * queries and subscriptions, a webhook sink and an SMTP server, all on loopback.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { SMTPServer } from 'smtp-server';
import { gql, type ServerHandle as RunningServer } from '../helpers/server.js';
import { SeedClient } from '../helpers/seed-client.js';

export const ALERT_FIELDS = `id kind status message value threshold raisedAt resolvedAt acknowledged acknowledgedAt acknowledgedBy
  delivery { channel ok attempts at detail } details`;

export interface AlertView {
  id: string;
  kind: string;
  status: string;
  message: string;
  value: number;
  threshold: number;
  raisedAt: string;
  resolvedAt: string | null;
  acknowledged: boolean;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  delivery: { channel: string; ok: boolean; attempts: number; at: string; detail: string }[];
  details: Record<string, unknown>;
}

/** Writes `alert_config.json` into a data directory before the server starts. */
/** alert_config.json settings under which no rule fires unless a test lowers its threshold. */
export const QUIET = {
  error_rate_threshold: 100,
  response_time_threshold: 86_400_000,
  consecutive_errors_threshold: 100_000,
  alert_cooldown_minutes: 10,
  enabled: true,
  webhook_url: null,
  email_notifications: false,
  window_minutes: 5,
  min_sample_size: 20,
};

export function writeAlertConfig(dataDir: string, settings: Record<string, unknown> | string): void {
  writeFileSync(join(dataDir, 'alert_config.json'), typeof settings === 'string' ? settings : JSON.stringify(settings, null, 2));
}

let counter = 0;

/** A seed (snake_case) record received now. */
export function record(success: boolean, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    session_id: `alert-test-${counter % 7}`,
    user_input: `question ${counter}`,
    intent: 'search',
    tools_used: [{ tool: 'web', params: { q: 'x' } }],
    response_time_ms: 120,
    success,
    error_type: success ? null : 'timeout',
    ...overrides,
  };
}

export function records(n: number, success: boolean, overrides: Record<string, unknown> = {}): Record<string, unknown>[] {
  return Array.from({ length: n }, () => record(success, overrides));
}

/** POST /api/interactions; resolves with the reply after commit. */
export async function postInteractions(server: RunningServer, batch: Record<string, unknown>[]): Promise<{ accepted: number }> {
  const res = await fetch(`${server.url}/api/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(batch),
  });
  const body = (await res.json()) as { accepted: number; error?: string };
  if (res.status !== 200) throw new Error(`HTTP ingest answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** GraphQL recordInteractions with camelCase fields; resolves after commit. */
export async function recordViaGraphql(server: RunningServer, batch: Record<string, unknown>[]): Promise<number> {
  const inputs = batch.map((r) => ({
    sessionId: r.session_id,
    userInput: r.user_input,
    intent: r.intent,
    responseTimeMs: r.response_time_ms,
    success: r.success,
    errorType: r.error_type,
  }));
  const res = await gql<{ recordInteractions: { acceptedCount: number } }>(
    server,
    'mutation ($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { acceptedCount } }',
    { inputs },
  );
  if (res.errors) throw new Error(`recordInteractions failed: ${JSON.stringify(res.errors)}`);
  return res.data!.recordInteractions.acceptedCount;
}

/** Sends one seed `metrics_batch` and waits for its ack. */
export async function sendSeedBatch(seed: SeedClient, batch: Record<string, unknown>[]): Promise<Record<string, unknown>> {
  const reply = await seed.request({ type: 'metrics_batch', data: batch });
  if (reply.type !== 'ack') throw new Error(`seed batch not acknowledged: ${JSON.stringify(reply)}`);
  return reply;
}

export async function listAlerts(server: RunningServer, args: Record<string, unknown> = {}): Promise<AlertView[]> {
  const res = await gql<{ alerts: { edges: { node: AlertView }[] } }>(
    server,
    `query ($status: AlertStatus, $kind: AlertKind, $acknowledged: Boolean, $first: Int) {
      alerts(status: $status, kind: $kind, acknowledged: $acknowledged, first: $first) { edges { node { ${ALERT_FIELDS} } } }
    }`,
    args,
  );
  if (res.errors) throw new Error(`alerts query failed: ${JSON.stringify(res.errors)}`);
  return res.data!.alerts.edges.map((e) => e.node);
}

export async function getAlert(server: RunningServer, id: string): Promise<AlertView | null> {
  const res = await gql<{ alert: AlertView | null }>(server, `query ($id: ID!) { alert(id: $id) { ${ALERT_FIELDS} } }`, { id });
  if (res.errors) throw new Error(`alert query failed: ${JSON.stringify(res.errors)}`);
  return res.data!.alert;
}

export async function updateAlertConfig(server: RunningServer, input: Record<string, unknown>) {
  return gql<{ updateAlertConfig: Record<string, unknown> }>(
    server,
    `mutation ($input: AlertConfigInput!) { updateAlertConfig(input: $input) {
      errorRateThreshold responseTimeThreshold consecutiveErrorsThreshold alertCooldownMinutes enabled webhookUrl
      emailNotifications windowMinutes minSampleSize emailTo emailFrom smtpConfigured } }`,
    { input },
  );
}

/** Polls `probe` every 100 ms until it returns a value, at most `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A graphql-ws subscription whose events are collected as they arrive. */
export class Subscription<T> {
  readonly events: T[] = [];
  readonly errors: unknown[] = [];
  private readonly client: Client;
  private waiters: (() => void)[] = [];
  private readonly unsubscribe: () => void;

  constructor(server: RunningServer, query: string) {
    this.client = createClient({ url: `${server.wsUrl}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    this.unsubscribe = this.client.subscribe<T>(
      { query },
      {
        next: (v) => {
          if (v.errors) this.errors.push(v.errors);
          if (v.data) this.events.push(v.data);
          for (const w of this.waiters.splice(0)) w();
        },
        error: (e) => this.errors.push(e),
        complete: () => undefined,
      },
    );
  }

  /** Waits until the subscription is registered on the server (graphql-ws has no ack for it). */
  async ready(): Promise<void> {
    await sleep(300);
  }

  /** Resolves when at least `n` events arrived, or rejects after `timeoutMs`. */
  async waitForCount(n: number, timeoutMs = 10_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} subscription events, got ${this.events.length}: ${JSON.stringify(this.errors)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.client.dispose();
  }
}

/** What a webhook sink does with request number `n` (1-based). */
export type SinkBehaviour = (n: number) => { status: number; body?: string } | 'hang';

export interface WebhookSink {
  url: string;
  requests: { at: number; body: Record<string, unknown>; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

export async function startWebhookSink(behaviour: SinkBehaviour): Promise<WebhookSink> {
  const requests: WebhookSink['requests'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ at: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, headers: req.headers });
      const action = behaviour(requests.length);
      if (action === 'hang') return;
      res.writeHead(action.status, { 'content-type': 'text/plain' });
      res.end(action.body ?? '');
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  body: string;
}

export interface SmtpSink {
  url: string;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server) on loopback, without TLS or auth, that keeps what it receives. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const split = raw.indexOf('\r\n\r\n');
        const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
        const subject = /^Subject: (.*)$/im.exec(headers)?.[1] ?? '';
        const qp = /^Content-Transfer-Encoding: quoted-printable$/im.test(headers);
        const rawBody = raw.slice(split + 4);
        const body = qp ? rawBody.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : rawBody;
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        mails.push({ from, to: session.envelope.rcptTo.map((r) => r.address), subject, body });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
