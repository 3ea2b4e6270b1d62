/**
 * The seed's WebSocket protocol on every upgrade path but /graphql: JSON text frames
 * `{"type":"metrics","data":{...}}` and `{"type":"metrics_batch","data":[...]}`, each
 * answered after commit with `{"type":"ack",...}` or `{"type":"error","error":"..."}`.
 * A bad message gets an error reply; the connection stays open.
 */
import type { WebSocket, RawData } from 'ws';
import type { SeedServerMessage } from '@ai-monitor/schema';
import type { IngestService } from '../ingest/service.js';
import { BatchTooLargeError } from '../ingest/service.js';
import { seedAdapter } from '../ingest/adapters/index.js';
import type { Logger } from '../log/logger.js';
import { unsentOverLimit } from '../pubsub/backpressure.js';

export interface SeedDeps {
  ingest: IngestService;
  logger: Logger;
  /** Messages larger than this get an error reply (the socket's hard cap closes it). */
  maxMessageBytes: number;
  /**
   * Checks the token of the first message when tokens are configured; null when no token is
   * needed. Returns true when the token may ingest, else the reason it may not.
   */
  authenticate: ((token: string) => true | string) | null;
  /** The upgrade request already carried a valid ingest token (Authorization header or ?token=). */
  authenticated?: boolean;
  /** Rate limit: a refusal message for this record message, or null to go ahead. */
  throttle?: () => string | null;
  /** The client's address, naming it in clock-skew reports. */
  address?: string | null;
}


type RequestId = string | number | undefined;

export function handleSeedConnection(ws: WebSocket, deps: SeedDeps): void {
  let authed = deps.authenticate === null || deps.authenticated === true;
  let first = true;
  const reply = (msg: SeedServerMessage): void => {
    // Dropped, not queued, once a client that never reads has SOCKET_UNSENT_LIMIT_BYTES waiting.
    if (ws.readyState !== ws.OPEN || unsentOverLimit(ws)) return;
    ws.send(JSON.stringify(msg));
  };
  const fail = (error: string, requestId?: RequestId, extra: Record<string, unknown> = {}): void =>
    reply({ type: 'error', error, ...(requestId !== undefined ? { request_id: requestId } : {}), ...extra });

  // ws emits 'error' (e.g. a frame over maxPayload, then closes with 1009); unheard, it would stop the process.
  ws.on('error', (err: Error) => deps.logger.debug({ err }, 'seed socket error; connection closed'));
  ws.on('message', (raw: RawData, isBinary: boolean) => {
    const wasFirst = first;
    first = false;
    const size = rawSize(raw);
    if (size > deps.maxMessageBytes) return fail(`message of ${size} bytes exceeds the limit of ${deps.maxMessageBytes} bytes; split the batch`);
    if (isBinary) return fail('binary frames are not accepted; send JSON text frames');
    const text = rawText(raw);
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      // The seed's example reads the first message as a bare token.
      if (wasFirst && deps.authenticate && /^\S{1,512}$/.test(text.trim())) return authenticate(text.trim());
      return fail(`malformed JSON: ${(err as Error).message}`);
    }
    if (wasFirst && typeof msg === 'string' && deps.authenticate) return authenticate(msg);
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return fail('expected a JSON object with a "type" field: metrics, metrics_batch, auth or ping');
    }
    const m = msg as { type?: unknown; data?: unknown; token?: unknown; request_id?: unknown };
    const requestId = typeof m.request_id === 'string' || typeof m.request_id === 'number' ? m.request_id : undefined;
    if (m.type === 'auth') {
      if (typeof m.token !== 'string') return fail('auth: "token" must be a string', requestId);
      if (!deps.authenticate) return reply({ type: 'auth_ok' });
      return authenticate(m.token);
    }
    if (m.type === 'ping') return reply({ type: 'pong', ...(requestId !== undefined ? { request_id: requestId } : {}) });
    if (m.type !== 'metrics' && m.type !== 'metrics_batch') {
      return fail(`unknown message type ${JSON.stringify(m.type ?? null)}; expected metrics, metrics_batch, auth or ping`, requestId);
    }
    if (!authed) {
      fail('authentication required: send {"type":"auth","token":"..."} first', requestId);
      ws.close(4401, 'authentication required');
      return;
    }
    const limited = deps.throttle?.();
    if (limited) return fail(limited, requestId);
    if (m.type === 'metrics') {
      if (typeof m.data !== 'object' || m.data === null || Array.isArray(m.data)) {
        return fail('metrics: "data" must be an interaction object', requestId);
      }
      return void ingest([m.data], requestId);
    }
    if (!Array.isArray(m.data)) return fail('metrics_batch: "data" must be an array of interactions', requestId);
    return void ingest(m.data, requestId);
  });

  function authenticate(token: string): void {
    const verdict = deps.authenticate ? deps.authenticate(token) : true;
    if (verdict === true) {
      authed = true;
      reply({ type: 'auth_ok' });
      return;
    }
    fail(verdict);
    ws.close(4403, verdict.slice(0, 120));
  }

  async function ingest(records: unknown[], requestId: RequestId): Promise<void> {
    const rid = requestId !== undefined ? { request_id: requestId } : {};
    try {
      const outcome = await deps.ingest.ingest(records, seedAdapter, deps.address ?? null);
      const ids = outcome.accepted.map((a) => a.id);
      if (outcome.accepted.length === 0 && records.length > 0) {
        const error = records.length === 1 ? outcome.rejected[0]!.error : `all ${records.length} records were rejected; first: ${outcome.rejected[0]!.error}`;
        return fail(error, requestId, records.length === 1 ? {} : { rejected: outcome.rejected });
      }
      reply({ type: 'ack', ...rid, accepted: ids.length, ids, ...(outcome.rejected.length ? { rejected: outcome.rejected } : {}) });
    } catch (err) {
      if (err instanceof BatchTooLargeError) return fail(err.message, requestId);
      deps.logger.error({ err }, 'seed ingest failed');
      fail(`could not store the records: ${(err as Error).message}`, requestId);
    }
  }
}

function rawSize(raw: RawData): number {
  if (Array.isArray(raw)) return raw.reduce((s, b) => s + b.length, 0);
  return raw instanceof ArrayBuffer ? raw.byteLength : raw.length;
}

function rawText(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return raw instanceof ArrayBuffer ? Buffer.from(raw).toString('utf8') : raw.toString('utf8');
}
