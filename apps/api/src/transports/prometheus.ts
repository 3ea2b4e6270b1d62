/** `GET /metrics`: Prometheus exposition of the server's own and the assistants' metrics. */
import client from 'prom-client';
import type { MetricsService } from '../metrics/service.js';
import type { IngestStats, Transport } from '../ingest/service.js';

export interface PromMetrics {
  registry: client.Registry;
  commitBatch: client.Histogram;
}

export function createPromMetrics(
  metrics: MetricsService,
  ingestStats: IngestStats,
  connectionCounts: () => { seed: number; graphql: number },
  clockSkewRecords: () => number,
): PromMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'ai_monitor_' });
  for (const outcome of ['accepted', 'rejected'] as const) {
    new client.Counter({
      name: `ai_monitor_ingest_${outcome}_total`,
      help: `Interactions ${outcome} by validation, by transport`,
      labelNames: ['transport'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const t of Object.keys(ingestStats) as Transport[]) this.inc({ transport: t }, ingestStats[t][outcome]);
      },
    });
  }
  new client.Counter({
    name: 'ai_monitor_clock_skew_records_total',
    help: 'Interactions whose timestamp was ahead of the receive time beyond the tolerance; stored at their receive time',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(clockSkewRecords());
    },
  });
  const commitBatch = new client.Histogram({
    name: 'ai_monitor_commit_batch_size',
    help: 'Interactions per committed transaction',
    buckets: [1, 10, 100, 1000, 10000],
    registers: [registry],
  });
  new client.Gauge({
    name: 'ai_monitor_connections',
    help: 'Open WebSocket connections, by protocol',
    labelNames: ['protocol'] as const,
    registers: [registry],
    collect() {
      const c = connectionCounts();
      this.set({ protocol: 'seed' }, c.seed);
      this.set({ protocol: 'graphql-ws' }, c.graphql);
    },
  });
  // The assistants' behaviour over the last five minutes, read from roll-ups at scrape time.
  new client.Gauge({
    name: 'ai_monitor_assistant_5m',
    help: 'Assistant behaviour over the last 5 minutes: interactions, error_rate_percent, p50_ms, p95_ms, p99_ms, active_sessions',
    labelNames: ['measure'] as const,
    registers: [registry],
    async collect() {
      const now = Date.now();
      const m = await metrics.snapshot({ from: now - 300_000, to: now });
      this.set({ measure: 'interactions' }, m.count);
      this.set({ measure: 'error_rate_percent' }, m.errorRate);
      this.set({ measure: 'p50_ms' }, m.p50 ?? 0);
      this.set({ measure: 'p95_ms' }, m.p95 ?? 0);
      this.set({ measure: 'p99_ms' }, m.p99 ?? 0);
      this.set({ measure: 'active_sessions' }, m.activeSessions);
    },
  });
  return { registry, commitBatch };
}
