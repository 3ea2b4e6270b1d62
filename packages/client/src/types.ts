import type { InteractionInput, InteractionWire, RejectedRecord, ToolUseInput } from '@ai-monitor/schema';

/** One tool call made while handling an interaction: the canonical record's tool call, in camelCase. */
export type ToolUse = Omit<ToolUseInput, 'params' | 'error'> & {
  /** Any JSON object. */
  params?: Record<string, unknown>;
  /** An `Error` is reported by its message. */
  error?: string | Error | null;
};

/**
 * One interaction as the assistant reports it, in camelCase: the canonical record's fields
 * (`InteractionInput` of @ai-monitor/schema; the server's README lists them). `toWireRecord`
 * maps it to the wire's snake_case `InteractionWire`; that function is the only place the
 * names are mapped. Required by the server and optional here: `sessionId` (the client's
 * `defaults.sessionId`) and `timestamp` (the moment `logInteraction` was called).
 */
export type InteractionRecord = Omit<InteractionInput, 'id' | 'sessionId' | 'timestamp' | 'toolsUsed'> & {
  /**
   * Idempotency key: a repeated id is stored once. The client generates a ULID when absent
   * (option `generateIds`), so a batch re-sent after a lost reply is not stored twice.
   */
  id?: string;
  /** Groups the interactions of one conversation. Defaults to the client's `defaults.sessionId`. */
  sessionId?: string;
  /** When the interaction happened. Defaults to the moment `logInteraction` was called. */
  timestamp?: Date | string | number;
  toolsUsed?: ToolUse[];
};

/** Fields applied to every record that does not set them itself. */
export type RecordDefaults = Partial<
  Pick<InteractionRecord, 'sessionId' | 'intent' | 'assistant' | 'version' | 'environment' | 'model' | 'userId' | 'metadata'>
>;

/** What went wrong, passed to `onError`. The SDK never throws; it reports here instead. */
export type AIMonitorErrorKind =
  /** The server could not be reached (connection refused, DNS, timeout, invalid URL). Retried. */
  | 'network'
  /** The server answered 5xx, 429 or another unexpected status. Retried. */
  | 'http'
  /** The server answered 401 or 403. Retried with back-off (the token may be fixed server-side). */
  | 'auth'
  /** The server refused records as invalid (HTTP 400 / `rejected` list, or 413 for a single record). Not retried. */
  | 'rejected'
  /** Records were discarded: buffer overflow, retries exhausted, or logged after `close()`. */
  | 'dropped'
  /** A record could not be turned into JSON, or a tracker call failed. */
  | 'record';

export interface RejectedInteraction {
  record: InteractionWire;
  error: string;
}

export class AIMonitorError extends Error {
  override readonly name = 'AIMonitorError';
  readonly kind: AIMonitorErrorKind;
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** Number of records concerned. */
  readonly count: number;
  /** For kind `rejected`: each refused record with the server's reason (which names the field). */
  readonly rejected: RejectedInteraction[];

  constructor(
    kind: AIMonitorErrorKind,
    message: string,
    opts: { status?: number; count?: number; rejected?: RejectedInteraction[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.status = opts.status;
    this.count = opts.count ?? 0;
    this.rejected = opts.rejected ?? [];
  }
}

export interface ClientStats {
  /** Records waiting to be delivered, including those of the request in flight. */
  buffered: number;
  /** Records the server accepted. */
  sent: number;
  /** Records discarded by the client: buffer overflow, retries exhausted, logged after close. */
  dropped: number;
  /** Records the server refused as invalid. */
  rejected: number;
  /** Records in the request currently in flight. */
  inFlight: number;
  /** Consecutive failed attempts for the batch at the head of the buffer (0 when healthy). */
  failedAttempts: number;
  /** Message of the last delivery failure, if any since the last success. */
  lastError: string | undefined;
}

export interface AIMonitorClientOptions {
  /**
   * Base URL of the ai-monitor server, default `http://localhost:8765`. Records are POSTed to
   * `{url}/api/interactions`. `ws://` / `wss://` (the seed's notation) are read as `http://` / `https://`.
   */
  url?: string;
  /** Ingest token, sent as `authorization: Bearer <token>`. */
  token?: string;
  /** Most records per request (default 200). */
  batchSize?: number;
  /** Longest time a record waits for a batch to fill before it is sent (default 200 ms). */
  flushIntervalMs?: number;
  /** Most records held in memory, including those in flight (default 10,000). */
  maxBufferSize?: number;
  /**
   * Which records to discard when the buffer is full (default `'oldest'`: the most recent
   * behaviour is the most useful to a live monitor). `'newest'` refuses the incoming record.
   */
  dropPolicy?: 'oldest' | 'newest';
  /** Target upper bound of a request body (default 512 KiB; the server's default limit is 1 MiB). */
  maxRequestBytes?: number;
  /**
   * Retries of a batch before it is dropped (default 10; `Infinity` keeps retrying, and records
   * are then lost only to buffer overflow). Retries happen while the server is unreachable or
   * answers 5xx, 429, 401 or 403.
   */
  maxRetries?: number;
  /** First back-off delay (default 100 ms); doubled after each failure, with jitter. */
  initialBackoffMs?: number;
  /** Longest back-off delay (default 30 s). */
  maxBackoffMs?: number;
  /** Timeout of one HTTP request (default 10 s). */
  requestTimeoutMs?: number;
  /** Generate a ULID for records without `id`, making retries idempotent (default true). */
  generateIds?: boolean;
  /** Fields applied to every record that does not set them; `sessionId` defaults to a random UUID per client. */
  defaults?: RecordDefaults;
  /** Flush on `beforeExit` and, best-effort, on SIGTERM (default true). */
  flushOnExit?: boolean;
  /** Longest time spent flushing on SIGTERM (default 5 s). */
  exitFlushTimeoutMs?: number;
  /** A `fetch` implementation (default: the global `fetch`). */
  fetch?: typeof fetch;
  /**
   * Receives every problem. Default: a `console.warn`, at most one per error kind per minute.
   * Pass `() => {}` to silence. Exceptions thrown by the handler are swallowed.
   */
  onError?: (error: AIMonitorError) => void;
  /** When false, every call is a no-op (default true). */
  enabled?: boolean;
}

export type { InteractionWire, RejectedRecord };
