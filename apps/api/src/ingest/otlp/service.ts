/**
 * Assembly of OpenTelemetry traces into interactions. Spans arrive in pieces (children before
 * parents, over several exports, repeated by retries); the rule, also in the README:
 *
 * 1. Every span is stored once, keyed by (trace id, span id); a repeated span changes nothing.
 * 2. A trace becomes one interaction, id `otel-<trace id>`, when its anchor arrives: the root
 *    span, or an agent span (`invoke_agent`, OpenInference AGENT, Traceloop agent/workflow)
 *    when the root is elsewhere. It is built from every span of the trace stored by then and
 *    goes through the one validator and the group commit like any record, so roll-ups, alerts
 *    and subscriptions see it once.
 * 3. Spans of a recorded trace arriving later are linked to it and add their tool calls and
 *    tokens to the record and the roll-ups; the interaction is not counted again.
 * 4. A trace whose anchor never comes is recorded from its earliest top span once no span of
 *    it has arrived for `otlpOrphanWaitMs`.
 *
 * Exports are handled one at a time per process, so steps 2 and 3 never interleave for a trace.
 */
import client from 'prom-client';
import { MAX_TOOL_CALLS, toolUseSchema, type InteractionInput } from '@ai-monitor/schema';
import type { Span } from '../../model/span.js';
import type { ToolUse } from '../../model/interaction.js';
import type { Store } from '../../store/types.js';
import type { TraceLink } from '../../store/core/spans.js';
import type { Logger } from '../../log/logger.js';
import type { IngestOutcome, IngestService } from '../service.js';
import { amendmentOf, anchorOf, interactionIdOf, orphanAnchor, otlpAdapter, traceToRecord } from '../adapters/otlp.js';

export interface OtlpResult {
  /** Spans refused (not stored), and why. */
  rejected: number;
  reasons: string[];
  /** Interactions recorded by this export (or sweep), and how many of them were new. */
  recorded: number;
  fresh: number;
}

/** Interactions per ingest call at most (and never more than the configured batch limit). */
const RECORD_CHUNK = 500;

/** Traces recorded per orphan sweep at most (the next sweep takes the rest). */
const SWEEP_LIMIT = 500;

export class OtlpService {
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  /** Spans and interactions by outcome, exposed on /metrics. */
  readonly stats = { spans: 0, duplicates: 0, interactions: 0, orphans: 0 };

  constructor(
    private readonly store: Store,
    private readonly ingest: IngestService,
    private readonly opts: { orphanWaitMs: number; maxBatchSize: number; logger: Logger },
  ) {}

  /** Stores decoded spans and records or amends their traces' interactions. */
  export(spans: readonly Span[], address: string | null): Promise<OtlpResult> {
    return this.serial(() => this.exportNow(spans, address));
  }

  /** `ai_monitor_otlp_spans_total{outcome}` and `ai_monitor_otlp_interactions_total{anchor}` on /metrics. */
  registerMetrics(registry: client.Registry): void {
    const stats = this.stats;
    registry.registerMetric(
      new client.Counter({
        name: 'ai_monitor_otlp_spans_total',
        help: 'OTLP spans received, by outcome (stored, or duplicate: already stored)',
        labelNames: ['outcome'] as const,
        registers: [],
        collect() {
          this.reset();
          this.inc({ outcome: 'stored' }, stats.spans);
          this.inc({ outcome: 'duplicate' }, stats.duplicates);
        },
      }),
    );
    registry.registerMetric(
      new client.Counter({
        name: 'ai_monitor_otlp_interactions_total',
        help: 'Interactions recorded from OTLP traces, by anchor (root or agent span; orphan: recorded after the wait without it)',
        labelNames: ['anchor'] as const,
        registers: [],
        collect() {
          this.reset();
          this.inc({ anchor: 'span' }, stats.interactions - stats.orphans);
          this.inc({ anchor: 'orphan' }, stats.orphans);
        },
      }),
    );
  }

  /** Starts the orphan sweep (every quarter of the wait, at most every 5 s). */
  start(): void {
    const every = Math.max(5, Math.min(5000, Math.floor(this.opts.orphanWaitMs / 4)));
    this.timer = setInterval(() => {
      void this.sweep(Date.now()).catch((err: unknown) => this.opts.logger.error({ err }, 'OTLP orphan sweep failed'));
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain.catch(() => undefined);
  }

  /** Records the traces that waited `orphanWaitMs` without their anchor; returns how many. */
  sweep(now: number): Promise<number> {
    return this.serial(async () => {
      const traces = await this.store.waitingTraces(now - this.opts.orphanWaitMs, SWEEP_LIMIT);
      const byTrace = groupByTrace(await this.store.spansOfTraces(traces));
      const pending: Pending[] = [];
      for (const [traceId, spans] of byTrace) {
        // Linked meanwhile (its anchor came): nothing to do here.
        if (spans.some((s) => s.interactionId !== null)) continue;
        const anchor = orphanAnchor(spans);
        if (anchor) pending.push({ traceId, record: traceToRecord(anchor, spans, true), added: spans.length });
      }
      const { result, links } = await this.record(pending, null);
      await this.store.linkSpans(links);
      this.stats.orphans += result.fresh;
      return result.recorded;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * One export. One read of the touched traces' stored spans tells which spans are new and
   * which traces became interactions before; traces whose anchor is now here are recorded (one
   * group commit); then the new spans are stored already linked, the waiting spans of the
   * traces recorded now are linked, and late spans amend their interaction.
   */
  private async exportNow(spans: readonly Span[], address: string | null): Promise<OtlpResult> {
    const incoming = groupByTrace(spans);
    const stored = groupByTrace(await this.store.spansOfTraces([...incoming.keys()]));
    const pending: Pending[] = [];
    const linkOf = new Map<string, string>();
    const late: { id: string; before: Span[]; traceId: string }[] = [];
    const fresh: Span[] = [];
    for (const [traceId, list] of incoming) {
      const before = stored.get(traceId) ?? [];
      const known = new Set(before.map((s) => s.spanId));
      const news = list.filter((s) => !known.has(s.spanId) && (known.add(s.spanId), true));
      this.stats.duplicates += list.length - news.length;
      if (news.length === 0) continue;
      fresh.push(...news);
      const linked = before.map((s) => s.interactionId).find((id): id is string => id !== null);
      if (linked !== undefined) {
        // Recorded before (or refused before, ''): the new spans join it.
        linkOf.set(traceId, linked);
        if (linked !== '') late.push({ id: linked, before, traceId });
        continue;
      }
      const all = [...before, ...news].sort((a, b) => a.startTime - b.startTime || (a.spanId < b.spanId ? -1 : 1));
      const anchor = anchorOf(all);
      // Without an anchor the trace waits for it, or for the orphan sweep.
      if (anchor) pending.push({ traceId, record: traceToRecord(anchor, all, false), added: news.length, waiting: before.length > 0 });
    }
    const { result, links } = await this.record(pending, address);
    for (const l of links) linkOf.set(l.traceId, l.interactionId);
    const inserted = await this.store.insertSpans(fresh.map((s) => ({ ...s, interactionId: linkOf.get(s.traceId) ?? null })));
    // Another replica may have stored some of them meanwhile: only what this insert stored counts.
    const added = groupByTrace(fresh.filter((_, i) => inserted[i]));
    this.stats.spans += inserted.filter(Boolean).length;
    this.stats.duplicates += inserted.filter((x) => !x).length;
    await this.store.linkSpans(links.filter((_, i) => pending[i]!.waiting));
    for (const l of late) {
      const news = added.get(l.traceId);
      if (news) await this.amend(l.id, [...l.before, ...news], news);
    }
    return result;
  }

  /**
   * Records traces' interactions in one ingest (one group commit); returns the link of each
   * trace, in order: its interaction, or '' when the validator refused the record (its spans
   * count as rejected, and neither the sweep nor later spans try it again).
   */
  private async record(pending: readonly Pending[], address: string | null): Promise<{ result: OtlpResult; links: TraceLink[] }> {
    const result: OtlpResult = { rejected: 0, reasons: [], recorded: 0, fresh: 0 };
    if (pending.length === 0) return { result, links: [] };
    // In chunks below the batch limit: one export may hold thousands of one-span traces.
    const outcome: IngestOutcome = { accepted: [], rejected: [] };
    const chunk = Math.min(RECORD_CHUNK, this.opts.maxBatchSize);
    for (let i = 0; i < pending.length; i += chunk) {
      const part = await this.ingest.ingest(pending.slice(i, i + chunk).map((p) => p.record), otlpAdapter, address);
      outcome.accepted.push(...part.accepted);
      outcome.rejected.push(...part.rejected.map((r) => ({ ...r, index: r.index + i })));
    }
    const links: TraceLink[] = pending.map((p) => ({ traceId: p.traceId, interactionId: interactionIdOf(p.traceId) }));
    for (const r of outcome.rejected) {
      const p = pending[r.index]!;
      links[r.index] = { traceId: p.traceId, interactionId: '' };
      result.rejected += p.added;
      if (result.reasons.length < 3) result.reasons.push(`trace ${p.traceId}: ${r.error}`);
      this.opts.logger.warn({ traceId: p.traceId, error: r.error }, 'OTLP trace could not become an interaction');
    }
    result.recorded = outcome.accepted.length;
    result.fresh = outcome.accepted.filter((a) => !a.duplicate).length;
    this.stats.interactions += result.fresh;
    return { result, links };
  }

  /** Late spans' tool calls and usage added to the interaction their trace became. */
  private async amend(id: string, all: readonly Span[], added: readonly Span[]): Promise<void> {
    const addedIds = new Set(added.map((s) => s.spanId));
    const amendment = amendmentOf(added, all.filter((s) => !addedIds.has(s.spanId)));
    if (!amendment) return;
    const tools = amendment.toolsUsed.slice(0, MAX_TOOL_CALLS).flatMap((t): ToolUse[] => {
      const parsed = toolUseSchema.safeParse(t);
      if (!parsed.success) return [];
      const v = parsed.data;
      return [{ tool: v.tool, params: v.params ?? {}, durationMs: v.durationMs ?? null, success: v.success ?? null, error: v.error ?? null }];
    });
    await this.store.amendInteraction(id, { ...amendment, toolsUsed: tools });
  }
}

/** A trace ready to become an interaction. */
interface Pending {
  traceId: string;
  record: InteractionInput;
  /** Spans of this export (or sweep) in the trace: rejected with it if the record is refused. */
  added: number;
  /** Spans of the trace were stored before, waiting unlinked. */
  waiting?: boolean;
}

function groupByTrace(spans: readonly Span[]): Map<string, Span[]> {
  const out = new Map<string, Span[]>();
  for (const s of spans) {
    let list = out.get(s.traceId);
    if (!list) out.set(s.traceId, (list = []));
    list.push(s);
  }
  return out;
}
