/**
 * The `ai-monitor stats` report: gathered from a running server (GraphQL) or from the SQLite
 * file (Store + MetricsService), printed as text tables or JSON. Both sources fill the same shape.
 */
import type { ErrorTypeStat, IntentStat, MetricsSnapshot, ToolStat } from '../metrics/service.js';
import { MetricsService } from '../metrics/service.js';
import { parseDuration } from '../metrics/window.js';
import type { Store } from '../store/types.js';
import { graphqlRequest, type ServerAddress } from './remote.js';
import { formatCount, formatMs, formatPercent, formatRate, table } from './output.js';

export interface StatsReport {
  /** Where the figures come from: the server's URL or the database file. */
  source: string;
  window: string;
  /** ISO-8601. */
  from: string;
  to: string;
  metrics: Omit<MetricsSnapshot, 'from' | 'to'>;
  intents: IntentStat[];
  tools: ToolStat[];
  errorTypes: ErrorTypeStat[];
}

const METRIC_FIELDS = `count errors errorRate p50 p95 p99 meanResponseTimeMs maxResponseTimeMs
  throughputPerSecond throughputPerMinute activeSessions inputTokens outputTokens costUsd`;

const STATS_QUERY = `query Stats($window: String!, $limit: Int!) {
  metrics(window: $window) { from to ${METRIC_FIELDS} }
  intentBreakdown(window: $window, limit: $limit) { intent count errors errorRate meanResponseTimeMs }
  toolBreakdown(window: $window, limit: $limit) { tool calls errors errorRate meanDurationMs }
  errorBreakdown(window: $window, limit: $limit) { errorType count share }
}`;

interface StatsReply {
  metrics: Omit<MetricsSnapshot, 'from' | 'to'> & { from: string; to: string };
  intentBreakdown: IntentStat[];
  toolBreakdown: ToolStat[];
  errorBreakdown: ErrorTypeStat[];
}

export async function remoteReport(server: ServerAddress, window: string, top: number, token: string | undefined): Promise<StatsReport> {
  const r = await graphqlRequest<StatsReply>(server, STATS_QUERY, { window, limit: top }, { token });
  const { from, to, ...metrics } = r.metrics;
  return { source: server.http, window, from, to, metrics, intents: r.intentBreakdown, tools: r.toolBreakdown, errorTypes: r.errorBreakdown };
}

export async function localReport(store: Store, source: string, window: string, top: number, now = Date.now()): Promise<StatsReport> {
  const range = { from: now - parseDuration(window), to: now };
  const service = new MetricsService(store);
  const [snapshot, intents, tools, errorTypes] = await Promise.all([
    service.snapshot(range),
    service.intents(range, top),
    service.tools(range, top),
    service.errorTypes(range, top),
  ]);
  const { from, to, ...metrics } = snapshot;
  return { source, window, from: new Date(from).toISOString(), to: new Date(to).toISOString(), metrics, intents, tools, errorTypes };
}

export function formatReport(r: StatsReport): string {
  const m = r.metrics;
  const summary = table(
    [{ header: 'metric' }, { header: 'value', align: 'right' }],
    [
      ['interactions', formatCount(m.count)],
      ['failed', formatCount(m.errors)],
      ['error rate', formatPercent(m.errorRate)],
      ['p50 response time', formatMs(m.p50)],
      ['p95 response time', formatMs(m.p95)],
      ['p99 response time', formatMs(m.p99)],
      ['mean response time', formatMs(m.meanResponseTimeMs)],
      ['max response time', formatMs(m.maxResponseTimeMs)],
      ['throughput', `${formatRate(m.throughputPerSecond)} (${m.throughputPerMinute.toFixed(1)}/min)`],
      ['active sessions', formatCount(m.activeSessions)],
      ['tokens in / out', `${formatCount(m.inputTokens)} / ${formatCount(m.outputTokens)}`],
      ['cost', `$${m.costUsd.toFixed(4)}`],
    ],
  );
  const sections = [`ai-monitor stats — last ${r.window} (${r.from} to ${r.to}) from ${r.source}`, '', summary];
  sections.push('', 'Top intents', r.intents.length === 0 ? '  (none)' : table(
    [{ header: 'intent' }, { header: 'count', align: 'right' }, { header: 'errors', align: 'right' }, { header: 'error rate', align: 'right' }, { header: 'mean time', align: 'right' }],
    r.intents.map((i) => [i.intent, formatCount(i.count), formatCount(i.errors), formatPercent(i.errorRate), formatMs(i.meanResponseTimeMs)]),
  ));
  sections.push('', 'Tools', r.tools.length === 0 ? '  (none)' : table(
    [{ header: 'tool' }, { header: 'calls', align: 'right' }, { header: 'errors', align: 'right' }, { header: 'error rate', align: 'right' }, { header: 'mean duration', align: 'right' }],
    r.tools.map((t) => [t.tool, formatCount(t.calls), formatCount(t.errors), formatPercent(t.errorRate), formatMs(t.meanDurationMs)]),
  ));
  sections.push('', 'Error types', r.errorTypes.length === 0 ? '  (none)' : table(
    [{ header: 'error type' }, { header: 'count', align: 'right' }, { header: 'share', align: 'right' }],
    r.errorTypes.map((e) => [e.errorType, formatCount(e.count), formatPercent(100 * e.share)]),
  ));
  return `${sections.join('\n')}\n`;
}
