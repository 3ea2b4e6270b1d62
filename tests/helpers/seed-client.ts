/** A seed-protocol WebSocket client for tests: send JSON or raw frames, await replies in order. */
import WebSocket from 'ws';

export interface SeedReply {
  type: string;
  [key: string]: unknown;
}

export class SeedClient {
  readonly ws: WebSocket;
  private readonly inbox: SeedReply[] = [];
  private waiters: ((m: SeedReply) => void)[] = [];
  closed: { code: number; reason: string } | null = null;
  /** Resolves with the close code. */
  readonly closing: Promise<number>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as SeedReply;
      const w = this.waiters.shift();
      if (w) w(msg);
      else this.inbox.push(msg);
    });
    this.closing = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        resolve(code);
      }),
    );
  }

  static async connect(url: string, opts: WebSocket.ClientOptions = {}): Promise<SeedClient> {
    const ws = new WebSocket(url, opts);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new SeedClient(ws);
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  next(timeoutMs = 10_000): Promise<SeedReply> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply from the server within the timeout')), timeoutMs);
      this.waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  /** The next reply, or the close that came instead (`{type: 'closed', code}`). */
  nextOrClose(timeoutMs = 10_000): Promise<SeedReply> {
    if (this.inbox.length > 0) return this.next(timeoutMs);
    return Promise.race([this.next(timeoutMs), this.closing.then((code): SeedReply => ({ type: 'closed', code }))]);
  }

  /** Sends and waits for the reply to this message. */
  async request(msg: unknown): Promise<SeedReply> {
    this.send(msg);
    return this.next();
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** A record exactly as the seed's Python client builds it. */
export function seedRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    session_id: '20260217_143000',
    timestamp: '2026-02-17T14:30:00.123456',
    user_input: 'What is the weather in Paris?',
    intent: 'weather',
    tools_used: [{ tool: 'read', params: {} }],
    response_time_ms: 1500,
    success: true,
    error_type: null,
    ...overrides,
  };
}
