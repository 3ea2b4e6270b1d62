/**
 * Helpers of the alert-rule suites: a fake clock for the in-process server, rule and silence
 * mutations, and a notification sink on loopback that keeps each request's path, query, raw
 * body and headers and answers like the chat robots do.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { gql, makeDataDir, startServer, type RunningServer } from '../helpers/app.js';
import { QUIET, postInteractions, waitFor, writeAlertConfig } from './support.js';

export const RULE_FIELDS = `id name source metric unit comparison warning critical windowMinutes minSampleSize pendingSeconds
  cooldownMinutes renotifyMinutes notifyResolved enabled state currentValue pendingSince firingAlertId firingSeverity createdBy
  scope { assistant version environment intent tool errorType model } channels { type url hasSecret to }`;

export const RULE_ALERT_FIELDS = `id kind status message value threshold raisedAt resolvedAt ruleId severity state unit currentValue peakValue
  durationSeconds windowMinutes silencedBy scope { intent tool model } series { at value } delivery { channel event ok attempts detail }`;

export interface RuleAlertView {
  id: string;
  kind: string;
  status: string;
  message: string;
  value: number;
  threshold: number;
  raisedAt: string;
  resolvedAt: string | null;
  ruleId: string;
  severity: string;
  state: string;
  unit: string;
  currentValue: number;
  peakValue: number;
  durationSeconds: number;
  silencedBy: string | null;
  scope: Record<string, string | null>;
  series: { at: string; value: number }[];
  delivery: { channel: string; event: string | null; ok: boolean; attempts: number; detail: string }[];
}

/** A clock the test moves by hand. */
export class FakeClock {
  constructor(public now = Math.floor(Date.now() / 60_000) * 60_000) {}
  readonly read = (): number => this.now;
}

export interface RuleServer {
  server: RunningServer;
  clock: FakeClock;
  /** Ingests through HTTP batch and waits until the rule engine has seen the records. */
  ingest(batch: Record<string, unknown>[]): Promise<void>;
  /** Moves the clock and runs one evaluation at the new time. */
  advance(ms: number): Promise<void>;
  evaluate(): Promise<void>;
  createRule(input: Record<string, unknown>, headers?: Record<string, string>): Promise<{ id: string } & Record<string, unknown>>;
  alerts(): Promise<RuleAlertView[]>;
}

export async function startRuleServer(cleanups: (() => Promise<void> | void)[], opts: { env?: Record<string, string>; dataDir?: string } = {}): Promise<RuleServer> {
  const dataDir = opts.dataDir ?? makeDataDir();
  if (!opts.dataDir) {
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    writeAlertConfig(dataDir, QUIET);
  }
  const clock = new FakeClock();
  const server = await startServer({ dataDir, clock: clock.read, ...(opts.env ? { env: opts.env } : {}) });
  cleanups.push(() => server.stop());
  const rules = server.app.services.alerts.rules;
  const auth = opts.env?.AI_MONITOR_ADMIN_TOKENS ? { authorization: `Bearer ${opts.env.AI_MONITOR_ADMIN_TOKENS.split(',')[0]!.split(':').pop()}` } : {};
  const h: RuleServer = {
    server,
    clock,
    async ingest(batch) {
      const target = rules.engine.observed + batch.length;
      await postInteractionsAuth(server, batch, auth);
      await waitFor(async () => rules.engine.observed >= target, 'the rule engine to observe the batch');
      await rules.engine.evaluateNow();
    },
    async advance(ms) {
      clock.now += ms;
      await rules.engine.evaluateNow();
    },
    evaluate: () => rules.engine.evaluateNow(),
    async createRule(input, headers = auth) {
      const res = await gql<{ createAlertRule: { id: string } }>(server, `mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { ${RULE_FIELDS} } }`, { input }, headers);
      if (res.errors) throw new Error(`createAlertRule failed: ${JSON.stringify(res.errors)}`);
      return res.data!.createAlertRule;
    },
    async alerts() {
      const res = await gql<{ alerts: { edges: { node: RuleAlertView }[] } }>(server, `{ alerts(first: 50) { edges { node { ${RULE_ALERT_FIELDS} } } } }`, {}, auth);
      if (res.errors) throw new Error(`alerts failed: ${JSON.stringify(res.errors)}`);
      return res.data!.alerts.edges.map((e) => e.node);
    },
  };
  return h;
}

async function postInteractionsAuth(server: RunningServer, batch: Record<string, unknown>[], headers: Record<string, string>): Promise<void> {
  if (Object.keys(headers).length === 0) {
    await postInteractions(server, batch);
    return;
  }
  const res = await fetch(`${server.url}/api/interactions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(batch) });
  if (res.status !== 200) throw new Error(`HTTP ingest answered ${res.status}: ${await res.text()}`);
}

export interface SinkRequest {
  at: number;
  path: string;
  query: URLSearchParams;
  raw: string;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

export interface NotificationSink {
  base: string;
  requests: SinkRequest[];
  on(path: string): SinkRequest[];
  close(): Promise<void>;
}

/** Answers `answer(path)` (default: 200 with the robots' success body). */
export async function startNotificationSink(answer: (path: string) => { status: number; body: string } = () => ({ status: 200, body: '{"code":0,"errcode":0,"msg":"ok"}' })): Promise<NotificationSink> {
  const requests: SinkRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sink');
      const raw = Buffer.concat(chunks).toString('utf8');
      requests.push({ at: Date.now(), path: url.pathname, query: url.searchParams, raw, body: JSON.parse(raw) as Record<string, unknown>, headers: req.headers });
      const a = answer(url.pathname);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    on: (path) => requests.filter((r) => r.path === path),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The events a sink path received, in order (the generic webhook's `event` field). */
export function events(sink: NotificationSink, path: string): string[] {
  return sink.on(path).map((r) => String(r.body.event));
}
