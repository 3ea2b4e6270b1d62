/**
 * Group commit: records from every connection that arrive while a write is pending are
 * written together in one transaction. Each caller's promise settles after that commit.
 */
import type { Interaction } from '../model/interaction.js';
import type { Store } from './types.js';

interface Pending {
  records: readonly Interaction[];
  resolve: (stored: boolean[]) => void;
  reject: (err: Error) => void;
}

export interface CommitListener {
  /** Called once per committed transaction with the records stored by it (not duplicates). */
  (stored: Interaction[]): void;
}

export class BatchWriter {
  private queue: Pending[] = [];
  private queued = 0;
  private writing = false;
  private scheduled = false;
  private readonly listeners: CommitListener[] = [];

  constructor(
    private readonly store: Store,
    /** Most records per transaction; larger queues are split. */
    private readonly maxBatch = 10_000,
  ) {}

  onCommit(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  /** Resolves after commit with, per record, whether it was new (false: id already stored). */
  write(records: readonly Interaction[]): Promise<boolean[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      this.queued += records.length;
      this.schedule();
    });
  }

  /** Resolves when everything queued so far is committed. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.writing) await new Promise((r) => setTimeout(r, 5));
  }

  get pending(): number {
    return this.queued;
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    // setImmediate lets every message already read from the sockets join this transaction.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let n = 0;
    while (this.queue.length > 0 && (n === 0 || n + this.queue[0]!.records.length <= this.maxBatch)) {
      const p = this.queue.shift()!;
      n += p.records.length;
      batch.push(p);
    }
    this.queued -= n;
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    const batch = this.takeBatch();
    const all = batch.flatMap((p) => p.records);
    try {
      const stored = await this.store.insertInteractions(all);
      let i = 0;
      for (const p of batch) {
        p.resolve(stored.slice(i, i + p.records.length));
        i += p.records.length;
      }
      const fresh = all.filter((_, k) => stored[k]);
      if (fresh.length > 0) for (const l of this.listeners) l(fresh);
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    } finally {
      this.writing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
