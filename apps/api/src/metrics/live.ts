/**
 * Coalesces "something changed" into at most one `metricsTick` per interval, so
 * `metricsUpdated` subscribers get a few updates per second however heavy the traffic.
 */
import type { LocalPubSub } from '../pubsub/topics.js';

export class LiveMetrics {
  private timer: NodeJS.Timeout | null = null;
  private lastTick = 0;
  private stopped = false;

  constructor(
    private readonly pubsub: LocalPubSub,
    private readonly intervalMs: number,
  ) {}

  markDirty(): void {
    if (this.timer || this.stopped) return;
    const wait = Math.max(0, this.lastTick + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lastTick = Date.now();
      this.pubsub.publish('metricsTick', this.lastTick);
    }, wait);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
