/**
 * SQLite reads off the event loop: a small pool of worker threads, each with its own read-only
 * better-sqlite3 connection. WAL gives every statement a consistent snapshot, and the single
 * group-commit writer on the main thread never waits for a reader (nor a reader for it).
 *
 * A worker that dies (its heap limit reached by a huge result, say) fails only the query it was
 * running, with a StoreError saying so, and is replaced; the server carries on.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { Dialect, Row, SqlReader } from './core/sql.js';
import { StoreError } from './types.js';

export interface ReaderPoolOptions {
  file: string;
  /** Worker threads (each one connection). */
  size: number;
  dialect: Dialect;
  /** Heap limit of each worker in MB: a result larger than this kills the worker, not the server. */
  maxHeapMb?: number | undefined;
}

interface Job {
  sql: string;
  args: readonly unknown[];
  resolve(rows: Row[]): void;
  reject(err: Error): void;
}

interface Reply {
  rows?: Row[];
  error?: string;
}

/**
 * The worker's code, run with `eval` so the same module works from the TypeScript sources (tests)
 * and from the build. The driver's resolved path comes in workerData.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true, timeout: 5000 });
db.pragma('cache_size = -16000');
db.pragma('temp_store = MEMORY');
db.function('unicode_lower', { deterministic: true }, (t) => (typeof t === 'string' ? t.toLowerCase() : t));
const stmts = new Map();
parentPort.on('message', ({ sql, args }) => {
  try {
    let s = stmts.get(sql);
    if (!s) {
      s = db.prepare(sql);
      if (stmts.size > 500) stmts.clear();
      stmts.set(sql, s);
    }
    parentPort.postMessage({ rows: s.all(...args) });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message ? err.message : err) });
  }
});
`;

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

class ReaderThread {
  private readonly worker: Worker;
  job: Job | null = null;
  dead = false;

  constructor(opts: ReaderPoolOptions, onDone: (t: ReaderThread) => void, onDeath: (t: ReaderThread, err: Error) => void) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: opts.file, driver: DRIVER },
      resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb ?? 256 },
    });
    // Idle readers do not keep the process alive; a query in flight is awaited by its caller.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const job = this.job;
      this.job = null;
      if (job) {
        if (reply.error !== undefined) job.reject(new StoreError(`SQLite read failed: ${reply.error}`));
        else job.resolve(reply.rows!.map(toBuffers));
      }
      onDone(this);
    });
    this.worker.on('error', (err) => this.die(err, onDeath));
    this.worker.on('exit', (code) => this.die(new Error(`exited with code ${code}`), onDeath));
  }

  run(job: Job): void {
    this.job = job;
    this.worker.ref();
    this.worker.postMessage({ sql: job.sql, args: job.args });
  }

  idle(): void {
    this.worker.unref();
  }

  private die(err: Error, onDeath: (t: ReaderThread, err: Error) => void): void {
    if (this.dead) return;
    this.dead = true;
    const job = this.job;
    this.job = null;
    job?.reject(
      new StoreError(`SQLite reader thread stopped while running this query (${err.message}); the query did not complete: narrow it (a smaller page or range) and retry`),
    );
    onDeath(this, err);
  }

  terminate(): Promise<number> {
    this.dead = true;
    return this.worker.terminate();
  }

  /** For diagnostics and tests: the thread's id. */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** Stops the thread as a crash would (used by the crash test). */
  kill(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Rows cross the thread boundary as structured clones: BLOBs arrive as Uint8Array; make them Buffers again. */
function toBuffers(row: Row): Row {
  for (const key in row) {
    const v = row[key];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[key] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}

export class SqliteReaderPool implements SqlReader {
  readonly dialect: Dialect;
  private readonly threads: ReaderThread[] = [];
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(private readonly opts: ReaderPoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new StoreError(`SQLite reader pool size must be a whole number ≥ 1, got ${opts.size}`);
    this.dialect = opts.dialect;
  }

  all(sql: string, args: readonly unknown[]): Promise<Row[]> {
    if (this.closed) return Promise.reject(new StoreError('the SQLite store is closed'));
    return new Promise<Row[]>((resolve, reject) => {
      this.queue.push({ sql, args, resolve, reject });
      this.dispatch();
    });
  }

  /** The live threads (started on first use). */
  get threadIds(): number[] {
    return this.threads.map((t) => t.threadId);
  }

  /** Ends one thread abruptly, as a crash would; its query fails and a new thread takes its place. */
  async killThread(index: number): Promise<void> {
    await this.threads[index]?.kill();
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const thread = this.threads.find((t) => !t.job && !t.dead) ?? this.spawn();
      if (!thread) return;
      thread.run(this.queue.shift()!);
    }
  }

  /** A new thread when the pool is below its size, else null (the job waits). */
  private spawn(): ReaderThread | null {
    if (this.threads.length >= this.opts.size) return null;
    const thread = new ReaderThread(
      this.opts,
      (t) => {
        if (this.queue.length > 0) t.run(this.queue.shift()!);
        else t.idle();
      },
      (t) => {
        this.threads.splice(this.threads.indexOf(t), 1);
        if (!this.closed) this.dispatch();
      },
    );
    this.threads.push(thread);
    return thread;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new StoreError('the SQLite store closed before this query ran'));
    await Promise.all(this.threads.splice(0).map((t) => t.terminate()));
  }
}
