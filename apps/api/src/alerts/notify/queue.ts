/**
 * A bounded job queue with a few workers: notifications run off the commit path, a slow or
 * hanging endpoint occupies one worker at most for its timeouts, and a flood of alerts
 * cannot grow memory without bound (jobs beyond the capacity are refused, and the caller
 * records that).
 */
export type Job = (shutdown: AbortSignal) => Promise<void>;

export interface QueueOptions {
  capacity: number;
  concurrency: number;
  onError: (err: Error) => void;
}

export class JobQueue {
  private readonly waiting: Job[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();

  constructor(private readonly opts: QueueOptions) {}

  /** False when the queue is full or stopped; the job will not run. */
  push(job: Job): boolean {
    if (this.shutdown.signal.aborted || this.waiting.length >= this.opts.capacity) return false;
    this.waiting.push(job);
    this.pump();
    return true;
  }

  get pending(): number {
    return this.waiting.length + this.inFlight.size;
  }

  /** Aborts running jobs (they record their outcome), drops waiting ones, waits for the runners. */
  async stop(): Promise<Job[]> {
    this.shutdown.abort();
    const dropped = this.waiting.splice(0);
    await Promise.allSettled([...this.inFlight]);
    return dropped;
  }

  private pump(): void {
    while (this.inFlight.size < this.opts.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      const run: Promise<void> = job(this.shutdown.signal)
        .catch((err: unknown) => this.opts.onError(err as Error))
        .finally(() => {
          this.inFlight.delete(run);
          this.pump();
        });
      this.inFlight.add(run);
    }
  }
}
