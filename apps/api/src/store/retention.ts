/** Retention: deletes data older than the retention period in small chunks, yielding between them. */
import type { Store } from './types.js';
import type { Logger } from '../log/logger.js';

const DAY_MS = 86_400_000;

export async function runRetention(store: Store, retentionDays: number, opts: { chunk?: number; now?: number } = {}): Promise<number> {
  const cutoff = (opts.now ?? Date.now()) - retentionDays * DAY_MS;
  const chunk = opts.chunk ?? 2000;
  let total = 0;
  for (;;) {
    const n = await store.deleteOlderThan(cutoff, chunk);
    total += n;
    if (n === 0) return total;
    // Let queued ingest commit between chunks.
    await new Promise((r) => setImmediate(r));
  }
}

export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly retentionDays: number,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const tick = (): void => {
      this.running = runRetention(this.store, this.retentionDays)
        .then((n) => {
          if (n > 0) this.logger.info({ deleted: n, retentionDays: this.retentionDays }, 'retention removed old data');
        })
        .catch((err: unknown) => this.logger.error({ err }, 'retention failed'))
        .finally(() => {
          this.running = null;
        });
    };
    setTimeout(tick, 5_000).unref();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
