/**
 * How `ai-monitor demo` delivers records: the seed WebSocket protocol (metrics_batch messages
 * answered by ack / error) or HTTP batch ingest (POST /api/interactions).
 */
import WebSocket from 'ws';
import { HTTP_INGEST_PATH, type InteractionWire, type RejectedRecord, type SeedServerMessage } from '@ai-monitor/schema';
import { CliFailure } from './common.js';
import { networkReason, type ServerAddress } from './remote.js';

export interface SendResult {
  accepted: number;
  rejected: RejectedRecord[];
}

/** The connection went away; the batch's fate is unknown. Reconnecting may help. */
export class ConnectionLostError extends Error {
  override name = 'ConnectionLostError';
}

export interface Sender {
  /** Where records go, for messages. */
  readonly target: string;
  /** Connects (and authenticates); throws CliFailure when that is impossible. */
  open(): Promise<void>;
  /** Resolves once the server has committed (or refused) the batch. */
  send(batch: InteractionWire[]): Promise<SendResult>;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 10_000;
const ACK_TIMEOUT_MS = 30_000;

interface Waiter {
  size: number;
  resolve: (r: SendResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class SeedWsSender implements Sender {
  readonly target: string;
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  /** Why the last connection closed; a refused token stays fatal for later sends. */
  private closedBy: Error | null = null;

  constructor(
    server: ServerAddress,
    private readonly token: string | undefined,
  ) {
    this.target = server.seedWs;
  }

  async open(): Promise<void> {
    this.closedBy = null;
    const ws = new WebSocket(this.target, { handshakeTimeout: CONNECT_TIMEOUT_MS });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) => reject(new CliFailure(`cannot connect to ${this.target}: ${networkReason(err)}. Is the server running? Start it with "ai-monitor serve", or pass --url.`)));
      ws.once('unexpected-response', (req, res) => {
        req.destroy();
        reject(new CliFailure(`${this.target} refused the WebSocket connection with HTTP ${res.statusCode}`));
      });
    });
    this.ws = ws;
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('close', (code, reason) => {
      this.closedBy = closeError(code, reason.toString());
      this.failAll(this.closedBy);
    });
    ws.on('error', (err) => this.failAll(new ConnectionLostError(networkReason(err))));
    if (this.token) await this.authenticate(ws, this.token);
  }

  private authenticate(ws: WebSocket, token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CliFailure(`${this.target} did not answer the auth message within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
      const onMessage = (data: WebSocket.RawData): void => {
        const msg = parseReply(data.toString());
        if (msg?.type === 'auth_ok') done(null);
        else if (msg?.type === 'error') done(new CliFailure(`the server refused the token: ${msg.error}`));
      };
      const onClose = (code: number): void => done(new CliFailure(`the server closed the connection after the auth message (code ${code}): check --token / AI_MONITOR_TOKEN`));
      const done = (err: Error | null): void => {
        clearTimeout(timer);
        ws.off('message', onMessage);
        ws.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      ws.on('message', onMessage);
      ws.once('close', onClose);
      ws.send(JSON.stringify({ type: 'auth', token }));
    });
  }

  send(batch: InteractionWire[]): Promise<SendResult> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(this.closedBy ?? new ConnectionLostError('not connected'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ConnectionLostError(`no reply within ${ACK_TIMEOUT_MS / 1000} s`));
      }, ACK_TIMEOUT_MS);
      this.waiting.set(id, { size: batch.length, resolve, reject, timer });
      ws.send(JSON.stringify({ type: 'metrics_batch', request_id: id, data: batch }), (err) => {
        if (err) this.settle(id, null, new ConnectionLostError(networkReason(err)));
      });
    });
  }

  private onMessage(text: string): void {
    const msg = parseReply(text);
    if (!msg || (msg.type !== 'ack' && msg.type !== 'error')) return;
    const id = typeof msg.request_id === 'number' ? msg.request_id : Number(msg.request_id);
    const w = this.waiting.get(id);
    if (!w) return;
    if (msg.type === 'ack') return this.settle(id, { accepted: msg.accepted, rejected: msg.rejected ?? [] });
    // A whole-message error: every record of it was refused.
    const rejected = msg.rejected ?? Array.from({ length: w.size }, (_, index) => ({ index, error: msg.error }));
    this.settle(id, { accepted: 0, rejected });
  }

  private settle(id: number, result: SendResult | null, err?: Error): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    if (result) w.resolve(result);
    else w.reject(err ?? new ConnectionLostError('lost'));
  }

  private failAll(err: Error): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, null, err);
  }

  async close(): Promise<void> {
    const ws = this.ws;
    this.ws = null;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      ws.close(1000, 'demo finished');
    });
  }
}

/** 4401 / 4403: the token is missing or refused, which reconnecting will not fix. */
function closeError(code: number, reason: string): Error {
  const what = `${code}${reason ? ` ${reason}` : ''}`;
  if (code === 4401 || code === 4403) {
    return new CliFailure(`the server closed the connection (${what}): it needs a token with ingest access; pass --token or set AI_MONITOR_TOKEN`);
  }
  return new ConnectionLostError(`connection closed (${what})`);
}

function parseReply(text: string): SeedServerMessage | null {
  try {
    const msg = JSON.parse(text) as unknown;
    return typeof msg === 'object' && msg !== null && 'type' in msg ? (msg as SeedServerMessage) : null;
  } catch {
    return null;
  }
}

interface HttpReply {
  accepted?: number;
  rejected?: RejectedRecord[];
  error?: string;
}

export class HttpSender implements Sender {
  readonly target: string;

  constructor(
    server: ServerAddress,
    private readonly token: string | undefined,
  ) {
    this.target = `${server.http}${HTTP_INGEST_PATH}`;
  }

  /** Checks that the server answers, so a wrong URL fails at once rather than per batch. */
  async open(): Promise<void> {
    const health = this.target.replace(HTTP_INGEST_PATH, '/health');
    try {
      await fetch(health, { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) });
    } catch (err) {
      throw new CliFailure(`cannot reach ${health}: ${networkReason(err)}. Is the server running? Start it with "ai-monitor serve", or pass --url.`);
    }
  }

  async send(batch: InteractionWire[]): Promise<SendResult> {
    let res: Response;
    try {
      res = await fetch(this.target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
      });
    } catch (err) {
      throw new ConnectionLostError(networkReason(err));
    }
    const body = (await res.json().catch(() => ({}))) as HttpReply;
    if (res.status === 401 || res.status === 403) {
      throw new CliFailure(`the server refused the records (HTTP ${res.status}${body.error ? `: ${body.error}` : ''}): check --token / AI_MONITOR_TOKEN`);
    }
    if (res.status >= 500) throw new ConnectionLostError(`HTTP ${res.status}${body.error ? `: ${body.error}` : ''}`);
    if (res.status === 200 || (res.status === 400 && body.rejected)) {
      return { accepted: body.accepted ?? 0, rejected: body.rejected ?? [] };
    }
    throw new CliFailure(`the server answered HTTP ${res.status}${body.error ? `: ${body.error}` : ''}`);
  }

  async close(): Promise<void> {
    // fetch keeps no connection state worth closing.
  }
}
