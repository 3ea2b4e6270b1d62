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
import { MAX_TOOL_CALLS, toolUseSchema } from '@ai-monitor/schema';
import type { Span } from '../../model/span.js';
import type { ToolUse } from '../../model/interaction.js';
import type { Store } from '../../store/types.js';
import type { Logger } from '../../log/logger.js';
import type { IngestService } from '../service.js';
import { amendmentOf, anchorOf, interactionIdOf, orphanAnchor, otlpAdapter, traceToRecord } from '../adapters/otlp.js';

export interface OtlpResult {
  /** Spans refused (not stored), and why. */
  rejected: number;
  reasons: string[];
  /** Interactions recorded by this export. */
  recorded: number;
}

/** Traces recorded per orphan sweep at most (the next sweep takes the rest). */
const SWEEP_LIMIT = 500;

export class OtlpService {
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  /** Spans stored, by outcome, for /metrics and the tests. */
  readonly stats = { spans: 0, duplicates: 0, interactions: 0, orphans: 0 };

  constructor(
    private readonly store: Store,
    private readonly ingest: IngestService,
    private readonly opts: { orphanWaitMs: number; logger: Logger },
  ) {}

  /** Stores decoded spans and records or amends their traces' interactions. */
  export(spans: readonly Span[], address: string | null): Promise<OtlpResult> {
    return this.serial(() => this.exportNow(spans, address));
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
      let n = 0;
      for (const traceId of traces) {
        const spans = await this.store.traceSpans(traceId);
        const anchor = orphanAnchor(spans);
        if (!anchor) continue;
        const out = await this.record(traceId, anchor, spans, true, null);
        if (out === null) n++;
      }
      this.stats.orphans += n;
      return n;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async exportNow(spans: readonly Span[], address: string | null): Promise<OtlpResult> {
    const result: OtlpResult = { rejected: 0, reasons: [], recorded: 0 };
    const fresh = await this.store.insertSpans(spans);
    const byTrace = new Map<string, Span[]>();
    spans.forEach((s, i) => {
      if (!fresh[i]) return void this.stats.duplicates++;
      this.stats.spans++;
      let list = byTrace.get(s.traceId);
      if (!list) byTrace.set(s.traceId, (list = []));
      list.push(s);
    });
    for (const [traceId, added] of byTrace) {
      const id = interactionIdOf(traceId);
      if (await this.store.getInteraction(id)) {
        await this.amend(id, traceId, added);
        continue;
      }
      const all = await this.store.traceSpans(traceId);
      const anchor = anchorOf(all);
      if (!anchor) continue; // waits for its anchor, or the orphan sweep
      const error = await this.record(traceId, anchor, all, false, address);
      if (error === null) result.recorded++;
      else {
        result.rejected += added.length;
        if (result.reasons.length < 3) result.reasons.push(`trace ${traceId}: ${error}`);
      }
    }
    return result;
  }

  /** Records a trace's interaction and links its spans; the validator's error, or null. */
  private async record(traceId: string, anchor: Span, spans: readonly Span[], orphan: boolean, address: string | null): Promise<string | null> {
    const id = interactionIdOf(traceId);
    const outcome = await this.ingest.ingest([traceToRecord(anchor, spans, orphan)], otlpAdapter, address);
    const rejected = outcome.rejected[0];
    if (rejected) {
      this.opts.logger.warn({ traceId, error: rejected.error }, 'OTLP trace could not become an interaction');
      // Linked to nothing would make the sweep retry it forever: the spans stay, marked as seen.
      await this.store.linkSpans(traceId, '');
      return rejected.error;
    }
    await this.store.linkSpans(traceId, id);
    if (!outcome.accepted[0]?.duplicate) this.stats.interactions++;
    return null;
  }

  private async amend(id: string, traceId: string, added: readonly Span[]): Promise<void> {
    const addedIds = new Set(added.map((s) => s.spanId));
    const before = (await this.store.traceSpans(traceId)).filter((s) => !addedIds.has(s.spanId));
    const amendment = amendmentOf(added, before);
    if (amendment) {
      const tools = amendment.toolsUsed.slice(0, MAX_TOOL_CALLS).flatMap((t): ToolUse[] => {
        const parsed = toolUseSchema.safeParse(t);
        if (!parsed.success) return [];
        const v = parsed.data;
        return [{ tool: v.tool, params: v.params ?? {}, durationMs: v.durationMs ?? null, success: v.success ?? null, error: v.error ?? null }];
      });
      await this.store.amendInteraction(id, { ...amendment, toolsUsed: tools });
    }
    await this.store.linkSpans(traceId, id);
  }
}
