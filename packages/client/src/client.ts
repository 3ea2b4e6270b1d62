import { randomUUID } from 'node:crypto';
import { HTTP_INGEST_PATH, type HttpIngestReply, type InteractionWire } from '@ai-monitor/schema';
import { registerExitParticipant, unregisterExitParticipant, type ExitParticipant } from './exit-hooks.js';
import { safeStringify, toWireRecord } from './mapping.js';
import { InteractionTracker, type TrackOptions } from './tracker.js';
import {
  AIMonitorError,
  type AIMonitorClientOptions,
  type AIMonitorErrorKind,
  type ClientStats,
  type InteractionRecord,
  type RecordDefaults,
  type RejectedInteraction,
} from './types.js';
import { ulid } from './ulid.js';

export const DEFAULT_URL = 'http://localhost:8765';

/** A record waiting for delivery, already serialised (a snapshot: later mutation by the caller does not leak in). */
interface Entry {
  seq: number;
  json: string;
  bytes: number;
}

/** Result of delivering a batch: records still to deliver (after a transient failure). */
interface Outcome {
  retry: Entry[];
  retryAfterMs?: number | undefined;
}

interface Waiter {
  target: number;
  resolve: () => void;
}

/** Length of `{"data":[]}`. */
const ENVELOPE_BYTES = 11;
const SDK_USER_AGENT = 'ai-monitor-client/0.1.0';

/**
 * Reports interactions to an ai-monitor server over HTTP (`POST {url}/api/interactions`).
 *
 * `logInteraction` and `track` return at once and never throw: records are serialised into a
 * bounded in-memory buffer and sent in batches by a background loop, which retries with
 * exponential back-off and jitter while the server is unreachable or answers 5xx, 429, 401 or
 * 403. Problems are reported to `onError`, counts to `stats()`.
 */
export class AIMonitorClient {
  readonly endpoint: string;
  private readonly enabled: boolean;
  private readonly token: string | undefined;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBufferSize: number;
  private readonly dropOldest: boolean;
  private readonly maxRequestBytes: number;
  private readonly maxRetries: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly requestTimeoutMs: number;
  private readonly generateIds: boolean;
  private readonly defaults: RecordDefaults;
  private readonly fetchImpl: typeof fetch;
  private readonly onError: (error: AIMonitorError) => void;
  private readonly exitParticipant: ExitParticipant | undefined;

  private readonly queue = new Deque<Entry>();
  private inflight: Entry[] | null = null;
  private seq = 0;
  private sent = 0;
  private dropped = 0;
  private rejected = 0;
  private attempts = 0;
  private lastError: string | undefined;
  private overflowing = false;
  private pumping = false;
  private immediatePending = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  private lastAttemptAt = 0;
  private waiters: Waiter[] = [];
  private closed = false;
  private stopped = false;
  private closing: Promise<void> | undefined;
  private reporting = false;

  constructor(options: AIMonitorClientOptions = {}) {
    const o = options ?? {};
    this.enabled = o.enabled !== false;
    this.endpoint = endpointOf(o.url);
    this.token = typeof o.token === 'string' && o.token !== '' ? o.token : undefined;
    this.batchSize = intOption(o.batchSize, 200, 1);
    this.flushIntervalMs = intOption(o.flushIntervalMs, 200, 0);
    this.maxBufferSize = intOption(o.maxBufferSize, 10_000, 1);
    this.dropOldest = o.dropPolicy !== 'newest';
    this.maxRequestBytes = intOption(o.maxRequestBytes, 512 * 1024, 1024);
    this.maxRetries = o.maxRetries === Infinity ? Infinity : intOption(o.maxRetries, 10, 0);
    this.initialBackoffMs = intOption(o.initialBackoffMs, 100, 1);
    this.maxBackoffMs = Math.max(this.initialBackoffMs, intOption(o.maxBackoffMs, 30_000, 1));
    this.requestTimeoutMs = intOption(o.requestTimeoutMs, 10_000, 1);
    this.generateIds = o.generateIds !== false;
    this.defaults = { ...(o.defaults ?? {}) };
    if (this.defaults.sessionId === undefined) this.defaults.sessionId = randomUUID();
    this.fetchImpl = typeof o.fetch === 'function' ? o.fetch : (...args) => globalThis.fetch(...args);
    this.onError = typeof o.onError === 'function' ? o.onError : defaultOnError();
    const exitFlushTimeoutMs = intOption(o.exitFlushTimeoutMs, 2_000, 0);
    if (this.enabled && o.flushOnExit !== false) {
      this.exitParticipant = {
        pending: () => this.bufferedCount(),
        settled: () => this.sent + this.rejected + this.dropped,
        flush: (timeoutMs) => this.flush(timeoutMs ?? exitFlushTimeoutMs),
        exitFlushTimeoutMs,
      };
      try {
        registerExitParticipant(this.exitParticipant);
      } catch {
        // a process without signal support: no hooks
      }
    }
  }

  /**
   * Queues one interaction for delivery and returns at once. Never throws: a record that
   * cannot be serialised, or that overflows the buffer, is reported to `onError` and counted.
   */
  logInteraction(record: InteractionRecord): void {
    if (!this.enabled) return;
    try {
      const now = new Date();
      const wire = toWireRecord(record, this.defaults, now);
      if (this.generateIds && wire.id === undefined) wire.id = ulid(now.getTime());
      const json = safeStringify(wire);
      if (typeof json !== 'string') throw new TypeError('record is not a JSON object');
      this.enqueue(json);
    } catch (err) {
      this.dropped += 1;
      this.report('record', `record not queued: ${messageOf(err)}`, { count: 1, cause: err });
    }
  }

  /**
   * Runs one interaction of the assistant: times it, lets the callback record the intent and
   * the tool uses, and logs the record when the callback ends. Returns the callback's result;
   * if the callback throws, the interaction is recorded with `success: false` and
   * `errorType` = the error's name (or its class name), and the original error is re-thrown
   * unchanged.
   */
  async track<T>(userInput: string, fn: (t: InteractionTracker) => T | Promise<T>, options: TrackOptions = {}): Promise<T> {
    const tracker = new InteractionTracker(userInput, options ?? {});
    let result: T;
    try {
      result = await fn(tracker);
    } catch (err) {
      this.finishTrack(tracker, { error: err });
      throw err;
    }
    this.finishTrack(tracker, undefined);
    return result;
  }

  /**
   * Sends everything buffered now. Resolves (never rejects) when those records are delivered
   * or refused, when a batch exhausts its retries, or after `timeoutMs` if given. Records
   * logged after the call are not waited for. While a flush waits, its timers keep the
   * process alive.
   */
  flush(timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        if (!this.enabled || this.stopped || this.bufferedCount() === 0) return resolve();
        let timer: NodeJS.Timeout | undefined;
        const waiter: Waiter = {
          target: this.seq,
          resolve: () => {
            if (timer) clearTimeout(timer);
            resolve();
          },
        };
        this.waiters.push(waiter);
        if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
          timer = setTimeout(() => {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            this.syncTimerRefs();
            resolve();
          }, Math.max(0, timeoutMs));
        }
        this.syncTimerRefs();
        // An explicit flush does not wait out a back-off, unless the last attempt was only just made.
        if (this.backoffTimer && Date.now() - this.lastAttemptAt >= this.initialBackoffMs) {
          clearTimeout(this.backoffTimer);
          this.backoffTimer = undefined;
        }
        this.schedule();
      } catch {
        resolve();
      }
    });
  }

  /**
   * Flushes (waiting at most `timeoutMs`, default 10 s), then stops: records still buffered are
   * counted as dropped, later `logInteraction` calls are dropped, and the exit hooks are removed.
   */
  close(timeoutMs = 10_000): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    if (this.exitParticipant) unregisterExitParticipant(this.exitParticipant);
    this.closing = this.flush(timeoutMs).then(() => {
      this.stopped = true;
      if (this.flushTimer) clearTimeout(this.flushTimer);
      if (this.backoffTimer) clearTimeout(this.backoffTimer);
      this.flushTimer = undefined;
      this.backoffTimer = undefined;
      const left = this.queue.length;
      if (left > 0) {
        this.queue.clear();
        this.dropped += left;
        this.report('dropped', `${left} record(s) not delivered before close`, { count: left });
      }
      this.checkWaiters(true);
    });
    return this.closing;
  }

  stats(): ClientStats {
    return {
      buffered: this.bufferedCount(),
      sent: this.sent,
      dropped: this.dropped,
      rejected: this.rejected,
      inFlight: this.inflight?.length ?? 0,
      failedAttempts: this.attempts,
      lastError: this.lastError,
    };
  }

  // ---------------------------------------------------------------------------------------

  private finishTrack(tracker: InteractionTracker, thrown: { error: unknown } | undefined): void {
    try {
      this.logInteraction(tracker.finish(thrown));
    } catch (err) {
      this.report('record', `interaction not recorded: ${messageOf(err)}`, { count: 1, cause: err });
    }
  }

  private bufferedCount(): number {
    return this.queue.length + (this.inflight?.length ?? 0);
  }

  private enqueue(json: string): void {
    if (this.closed) {
      this.dropped += 1;
      this.report('dropped', 'record logged after close() was dropped', { count: 1 });
      return;
    }
    const entry: Entry = { seq: ++this.seq, json, bytes: Buffer.byteLength(json) };
    if (this.bufferedCount() >= this.maxBufferSize) {
      this.dropped += 1;
      if (!this.overflowing) {
        this.overflowing = true;
        this.report(
          'dropped',
          `buffer full (${this.maxBufferSize} records): dropping the ${this.dropOldest ? 'oldest' : 'newest'} records until the server accepts again`,
          { count: 1 },
        );
      }
      if (!this.dropOldest || this.queue.length === 0) return;
      this.queue.shift();
      this.queue.push(entry);
      this.checkWaiters(false);
    } else {
      this.queue.push(entry);
    }
    this.schedule();
  }

  /** Arranges for the pump to run: at once when a batch is full or a flush waits, else after `flushIntervalMs`. */
  private schedule(): void {
    if (this.stopped || this.pumping || this.backoffTimer || this.queue.length === 0) return;
    if (this.queue.length >= this.batchSize || this.waiters.length > 0 || this.flushIntervalMs === 0) {
      if (this.flushTimer) {
        clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
      }
      if (!this.immediatePending) {
        this.immediatePending = true;
        const im = setImmediate(() => {
          this.immediatePending = false;
          void this.pump();
        });
        if (this.waiters.length === 0) im.unref();
      }
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.pump();
      }, this.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.backoffTimer || this.stopped) return;
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.pumping = true;
    let gaveUp = false;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const batch = this.takeBatch();
        this.inflight = batch;
        this.lastAttemptAt = Date.now();
        let outcome: Outcome;
        try {
          outcome = await this.deliver(batch);
        } catch (err) {
          // deliver() handles its own errors; this is a last line of defence.
          this.lastError = messageOf(err);
          outcome = { retry: batch };
        }
        this.inflight = null;
        if (outcome.retry.length === 0) {
          this.attempts = 0;
          this.lastError = undefined;
          this.overflowing = false;
        } else if (this.stopped) {
          this.dropped += outcome.retry.length;
        } else if (++this.attempts > this.maxRetries) {
          const n = outcome.retry.length;
          this.dropped += n;
          this.attempts = 0;
          gaveUp = true;
          this.report('dropped', `${n} record(s) dropped after ${this.maxRetries} retries: ${this.lastError ?? 'delivery failed'}`, {
            count: n,
          });
        } else {
          this.queue.unshiftAll(outcome.retry);
          this.startBackoff(outcome.retryAfterMs);
          break;
        }
        if (gaveUp) {
          this.checkWaiters(true);
          gaveUp = false;
        } else {
          this.checkWaiters(false);
        }
        // Without a flush waiting, let a partial batch fill up for flushIntervalMs.
        if (this.queue.length < this.batchSize && this.waiters.length === 0) break;
      }
    } finally {
      this.pumping = false;
      this.checkWaiters(false);
      this.schedule();
    }
  }

  private startBackoff(retryAfterMs: number | undefined): void {
    const exp = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(30, this.attempts - 1));
    // "Equal jitter": between half and all of the exponential delay, so retries never bunch up.
    let delay = exp / 2 + Math.random() * (exp / 2);
    if (retryAfterMs !== undefined) delay = Math.max(delay, Math.min(retryAfterMs, 5 * 60_000));
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      void this.pump();
    }, Math.round(delay));
    this.syncTimerRefs();
  }

  /** Timers keep the process alive only while someone awaits a flush. */
  private syncTimerRefs(): void {
    const keepAlive = this.waiters.length > 0;
    for (const t of [this.backoffTimer, this.flushTimer]) {
      if (t) {
        if (keepAlive) t.ref();
        else t.unref();
      }
    }
  }

  private checkWaiters(all: boolean): void {
    if (this.waiters.length === 0) return;
    const low = Math.min(this.inflight?.[0]?.seq ?? Infinity, this.queue.peek()?.seq ?? Infinity);
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (all || w.target < low) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
    this.syncTimerRefs();
  }

  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    let bytes = ENVELOPE_BYTES;
    while (batch.length < this.batchSize) {
      const next = this.queue.peek();
      if (!next) break;
      if (batch.length > 0 && bytes + next.bytes + 1 > this.maxRequestBytes) break;
      batch.push(this.queue.shift()!);
      bytes += next.bytes + 1;
    }
    return batch;
  }

  /** Sends a batch, splitting it on 413 and to isolate invalid records on 400. Never throws. */
  private async deliver(batch: Entry[]): Promise<Outcome> {
    let res: { status: number; body: unknown; retryAfterMs: number | undefined };
    try {
      res = await this.post(batch);
    } catch (err) {
      this.lastError = `server unreachable at ${this.endpoint}: ${messageOf(err)}`;
      this.report('network', this.lastError, { count: batch.length, cause: err });
      return { retry: batch };
    }
    const { status, body, retryAfterMs } = res;
    if (status >= 200 && status < 300) {
      this.account(batch, body);
      return { retry: [] };
    }
    if (status === 413) {
      if (batch.length === 1) {
        this.refuse(batch, new Map([[0, 'record too large for the server (HTTP 413)']]), status);
        return { retry: [] };
      }
      return this.deliverParts(halves(batch));
    }
    if (status === 400) {
      const reasons = rejectedReasons(body, batch.length);
      const accepted = isObject(body) && typeof body.accepted === 'number' ? body.accepted : 0;
      if (accepted > 0) {
        // Not the contract (400 means none stored), but the reply is per record: trust it.
        this.account(batch, body);
        return { retry: [] };
      }
      if (reasons.size === batch.length || batch.length === 1) {
        const generic = errorText(body) ?? 'invalid record (HTTP 400)';
        const all = new Map<number, string>();
        batch.forEach((_, i) => all.set(i, reasons.get(i) ?? generic));
        this.refuse(batch, all, status);
        return { retry: [] };
      }
      // Some records unexplained: refuse the named ones, and resend the others in halves until
      // every refusal is pinned on a single record.
      if (reasons.size > 0) this.refuse(batch, reasons, status);
      const rest = batch.filter((_, i) => !reasons.has(i));
      return this.deliverParts(halves(rest));
    }
    const kind: AIMonitorErrorKind = status === 401 || status === 403 ? 'auth' : 'http';
    const detail = errorText(body);
    this.lastError =
      kind === 'auth'
        ? `server refused the token (HTTP ${status})${detail ? `: ${detail}` : ''}; retrying with back-off`
        : `server answered HTTP ${status}${detail ? `: ${detail}` : ''}; retrying`;
    this.report(kind, this.lastError, { status, count: batch.length });
    return { retry: batch, retryAfterMs };
  }

  private async deliverParts(parts: Entry[][]): Promise<Outcome> {
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part.length === 0) continue;
      const outcome = await this.deliver(part);
      if (outcome.retry.length > 0) return { ...outcome, retry: outcome.retry.concat(...parts.slice(i + 1)) };
    }
    return { retry: [] };
  }

  private async post(batch: Entry[]): Promise<{ status: number; body: unknown; retryAfterMs: number | undefined }> {
    let payload = '{"data":[';
    for (let i = 0; i < batch.length; i++) payload += (i > 0 ? ',' : '') + batch[i]!.json;
    payload += ']}';
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': SDK_USER_AGENT,
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await this.fetchImpl(this.endpoint, {
      method: 'POST',
      headers,
      body: payload,
      signal: AbortSignal.timeout(this.requestTimeoutMs),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body, retryAfterMs: parseRetryAfter(res.headers?.get?.('retry-after') ?? null) };
  }

  /** Counts a 2xx reply: every record not listed in `rejected` was accepted. */
  private account(batch: Entry[], body: unknown): void {
    const reasons = rejectedReasons(body, batch.length);
    this.sent += batch.length - reasons.size;
    if (reasons.size > 0) this.refuse(batch, reasons, 200);
  }

  private refuse(batch: Entry[], reasons: Map<number, string>, status: number): void {
    this.rejected += reasons.size;
    const rejected: RejectedInteraction[] = [];
    for (const [i, error] of reasons) {
      const entry = batch[i];
      if (!entry) continue;
      let record: InteractionWire;
      try {
        record = JSON.parse(entry.json) as InteractionWire;
      } catch {
        record = {} as InteractionWire;
      }
      rejected.push({ record, error });
    }
    const first = rejected[0]?.error ?? 'invalid';
    this.report('rejected', `server rejected ${reasons.size} invalid record(s): ${first}${reasons.size > 1 ? ', …' : ''}`, {
      status,
      count: reasons.size,
      rejected,
    });
  }

  private report(
    kind: AIMonitorErrorKind,
    message: string,
    opts: { status?: number; count?: number; rejected?: RejectedInteraction[]; cause?: unknown } = {},
  ): void {
    if (this.reporting) return; // an onError that logs again must not recurse
    this.reporting = true;
    try {
      this.onError(new AIMonitorError(kind, message, opts));
    } catch {
      // the handler's own errors are swallowed
    } finally {
      this.reporting = false;
    }
  }
}

// -----------------------------------------------------------------------------------------

/** A FIFO with O(1) shift and cheap re-insertion at the front. */
class Deque<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head += 1;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  unshiftAll(list: T[]): void {
    if (list.length === 0) return;
    if (this.head >= list.length) {
      this.head -= list.length;
      for (let i = 0; i < list.length; i++) this.items[this.head + i] = list[i]!;
    } else {
      this.items = list.concat(this.items.slice(this.head));
      this.head = 0;
    }
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

function endpointOf(url: unknown): string {
  let base = typeof url === 'string' && url.trim() !== '' ? url.trim() : DEFAULT_URL;
  base = base.replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/+$/, '');
  return base.endsWith(HTTP_INGEST_PATH) ? base : base + HTTP_INGEST_PATH;
}

function intOption(value: unknown, fallback: number, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.max(min, Math.floor(value));
}

function halves<T>(list: T[]): T[][] {
  const mid = Math.ceil(list.length / 2);
  return [list.slice(0, mid), list.slice(mid)];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The reply's `rejected` entries with a valid index, keyed by index. */
function rejectedReasons(body: unknown, size: number): Map<number, string> {
  const out = new Map<number, string>();
  const list = isObject(body) ? (body as Partial<HttpIngestReply>).rejected : undefined;
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (!isObject(item)) continue;
    const index = item.index;
    if (typeof index === 'number' && Number.isInteger(index) && index >= 0 && index < size && !out.has(index)) {
      out.set(index, typeof item.error === 'string' ? item.error : 'invalid');
    }
  }
  return out;
}

function errorText(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 200) || undefined;
  if (!isObject(body)) return undefined;
  if (typeof body.error === 'string') return body.error;
  if (isObject(body.error) && typeof body.error.message === 'string') return body.error.message;
  if (typeof body.message === 'string') return body.message;
  return undefined;
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const causeMsg = cause instanceof Error ? cause.message : undefined;
    return causeMsg && causeMsg !== err.message ? `${err.message} (${causeMsg})` : err.message || err.name;
  }
  try {
    return String(err);
  } catch {
    return 'unknown error';
  }
}

/** `console.warn`, at most once per error kind per minute. */
function defaultOnError(): (error: AIMonitorError) => void {
  const last = new Map<AIMonitorErrorKind, number>();
  return (error) => {
    const now = Date.now();
    if (now - (last.get(error.kind) ?? -Infinity) < 60_000) return;
    last.set(error.kind, now);
    console.warn(`[ai-monitor] ${error.message}`);
  };
}
