/** Shared helpers of the security suites: real sockets against a real server, loopback only. */
import { afterEach } from 'vitest';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import WebSocket, { type ClientOptions } from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startServer as spawnServer, type RunningServer, type ServerOptions } from '../helpers/server.js';
import { startServer, type RunningApp } from '../helpers/app.js';

export const TOKENS = { ingest: 'ingest-token-1', read: 'read-token-1', admin: 'admin-token-1' } as const;
export const TOKEN_ENV = {
  AI_MONITOR_INGEST_TOKENS: TOKENS.ingest,
  AI_MONITOR_READ_TOKENS: TOKENS.read,
  AI_MONITOR_ADMIN_TOKENS: TOKENS.admin,
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch {
      // keep cleaning the rest
    }
  }
});

export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** The server in this process, stopped after the test. */
export async function serve(opts: ServerOptions = {}): Promise<RunningApp> {
  const s = await startServer(opts);
  onCleanup(() => s.cleanup());
  onCleanup(() => s.stop());
  return s;
}

/** The server as a child process, for tests about the process: its memory, or a crash showing as an exit. */
export async function serveProcess(opts: ServerOptions = {}): Promise<RunningServer> {
  const s = await spawnServer(opts);
  onCleanup(() => s.cleanup());
  onCleanup(() => s.stop());
  return s;
}

export const RECORD = {
  session_id: 'sec-session',
  user_input: 'hello',
  intent: 'greet',
  tools_used: [{ tool: 'read', params: {} }],
  response_time_ms: 12,
  success: true,
  error_type: null,
};

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Source address of the connection (127.0.0.2 tests the allow-list). */
  localAddress?: string;
  /** CA certificate for https URLs. */
  ca?: Buffer;
}

/** One HTTP(S) request on a fresh connection; rejects when the server drops the connection. */
export function http(url: string, opts: HttpOptions = {}): Promise<HttpReply> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      { method: opts.method ?? 'GET', headers: opts.headers, localAddress: opts.localAddress, agent: false, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface GqlReply {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** POSTs a GraphQL operation as JSON with an optional bearer token. */
export async function gqlAs(base: string, query: string, token?: string, variables?: Record<string, unknown>, opts: HttpOptions = {}): Promise<GqlReply> {
  const res = await http(`${base}/graphql`, {
    ...opts,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...res.json<Omit<GqlReply, 'status'>>() };
}

/** A WebSocket client with an inbox, for the seed protocol. */
export interface SeedSocket {
  ws: WebSocket;
  /** Next message (parsed JSON), waiting up to `ms`. */
  next(ms?: number): Promise<Record<string, unknown>>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  send(msg: unknown): void;
}

export async function openSeed(url: string, options: ClientOptions = {}): Promise<SeedSocket> {
  const ws = new WebSocket(url, options);
  const inbox: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(msg);
    else inbox.push(msg);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  onCleanup(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    closed,
    send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
    next: (ms = 10_000) =>
      new Promise((resolve, reject) => {
        const queued = inbox.shift();
        if (queued) return resolve(queued);
        const waiter = (m: Record<string, unknown>): void => {
          clearTimeout(timer);
          resolve(m);
        };
        // A waiter that timed out is removed, so it does not swallow a later message.
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no message within ${ms} ms`));
        }, ms);
        waiters.push(waiter);
      }),
  };
}

/** The HTTP status with which the server refuses a WebSocket upgrade (or 101 when it accepts). */
export function upgradeStatus(url: string, options: ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (err) => reject(err));
  });
}

/** A graphql-ws client; `closed` resolves with the close code when the server closes it. */
export function graphqlWs(url: string, connectionParams?: Record<string, unknown>, wsOptions: ClientOptions = {}): { client: Client; closed: Promise<number> } {
  let onClosed: (code: number) => void = () => {};
  const closed = new Promise<number>((resolve) => (onClosed = resolve));
  class Ws extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, wsOptions);
    }
  }
  const client = createClient({
    url: `${url}/graphql`,
    webSocketImpl: Ws,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
    on: { closed: (e) => onClosed((e as { code: number }).code) },
    onNonLazyError: () => {},
  });
  onCleanup(() => client.dispose());
  return { client, closed };
}

export interface OpResult {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

/**
 * Runs one operation over graphql-ws; resolves with its first result or its errors. A
 * subscription is left running (the client's disposal ends it): disposing from inside `next`
 * upsets the client's connection accounting and closes the socket.
 */
export function wsOnce(client: Client, query: string, variables?: Record<string, unknown>): Promise<OpResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    client.subscribe<Record<string, unknown>>(
      { query, variables },
      {
        next: (r) => {
          if (settled) return;
          settled = true;
          resolve(r as OpResult);
        },
        error: (err) => {
          if (settled) return;
          settled = true;
          if (Array.isArray(err)) resolve({ errors: err as OpResult['errors'] });
          else reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
        },
        complete: () => {
          if (!settled) {
            settled = true;
            resolve({});
          }
        },
      },
    );
  });
}

/** Runs a subscription, collecting results until `stop()` is called. */
export function wsSubscribe(client: Client, query: string, variables?: Record<string, unknown>) {
  const results: OpResult[] = [];
  let errors: OpResult['errors'] | null = null;
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((l) => l());
  const dispose = client.subscribe<Record<string, unknown>>(
    { query, variables },
    {
      next: (r) => {
        results.push(r as OpResult);
        notify();
      },
      error: (err) => {
        errors = Array.isArray(err) ? (err as OpResult['errors']) : [{ message: String((err as Error).message ?? err) }];
        notify();
      },
      complete: () => notify(),
    },
  );
  onCleanup(dispose);
  return {
    results,
    get errors() {
      return errors;
    },
    stop: dispose,
    /** Waits until `predicate` holds (checked on every event), up to `ms`. */
    until(predicate: () => boolean, ms = 20_000): Promise<void> {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`condition not met within ${ms} ms (${results.length} results)`));
        }, ms);
        const check = (): void => {
          if (!predicate()) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
      });
    },
  };
}

/** Interactions stored, as counted by the server. */
export async function storedCount(base: string, token?: string, opts: HttpOptions = {}): Promise<number> {
  const r = await gqlAs(base, '{ metrics(window: "7d") { count } }', token, undefined, opts);
  const m = r.data?.metrics as { count: number } | undefined;
  if (!m) throw new Error(`metrics query failed: ${JSON.stringify(r.errors)}`);
  return m.count;
}

let aliveSeq = 0;

/**
 * The server still serves: /health answers 200 and a record posted to /api/interactions is
 * acknowledged. Pass an ingest token when tokens are configured.
 */
export async function expectServing(base: string, ingestToken?: string): Promise<void> {
  const health = await http(`${base}/health`);
  if (health.status !== 200) throw new Error(`health answered ${health.status}: ${health.body}`);
  const res = await http(`${base}/api/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(ingestToken ? { authorization: `Bearer ${ingestToken}` } : {}) },
    body: JSON.stringify([{ ...RECORD, session_id: 'still-serving', id: `alive-${process.pid}-${aliveSeq++}-${Date.now()}` }]),
  });
  if (res.status !== 200 || res.json<{ accepted: number }>().accepted !== 1) throw new Error(`record not acknowledged: ${res.status} ${res.body}`);
}

/** A raw graphql-ws connection (acknowledged), for frames the client library would not send. */
export async function rawGraphqlWs(wsUrl: string): Promise<{ ws: WebSocket; closed: Promise<number>; next(): Promise<Record<string, unknown>> }> {
  const ws = new WebSocket(`${wsUrl}/graphql`, ['graphql-transport-ws']);
  onCleanup(() => ws.terminate());
  const inbox: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  ws.on('error', () => {}); // the close code is what is asserted
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (): Promise<Record<string, unknown>> => new Promise((resolve) => (inbox.length ? resolve(inbox.shift()!) : waiters.push(resolve)));
  ws.send(JSON.stringify({ type: 'connection_init' }));
  const ack = await next();
  if (ack.type !== 'connection_ack') throw new Error(`expected connection_ack, got ${JSON.stringify(ack)}`);
  return { ws, closed, next };
}
