/**
 * Aggregates a batch of new interactions per minute before they are merged into the stored
 * roll-ups, so a batch costs one upsert per (minute, key) rather than one per record.
 */
import type { Interaction, ToolUse } from '../model/interaction.js';
import { Histogram } from '../model/histogram.js';
import { MINUTE_MS } from './types.js';

export interface MinuteAgg {
  minute: number;
  count: number;
  errors: number;
  rtSum: number;
  rtMax: number;
  hist: Histogram;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Interactions with a cost (sent or computed from the price table). */
  costed: number;
  /** Interactions with a model but no cost (the model has no price, or no tokens were sent). */
  unpriced: number;
}

/** One model's interactions in one minute: the model breakdown (calls, errors, latency, tokens, cost). */
export interface ModelAgg {
  minute: number;
  model: string;
  count: number;
  errors: number;
  rtSum: number;
  hist: Histogram;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  costed: number;
  unpriced: number;
}

export interface KeyedAgg {
  minute: number;
  key: string;
  count: number;
  errors: number;
  sum: number;
  /** Tools only: how many calls reported a duration. */
  n: number;
}

export interface SessionAgg {
  id: string;
  first: number;
  last: number;
  count: number;
  errors: number;
  rtSum: number;
}

/**
 * A roll-up table keyed by (minute, key) whose columns only add up. Both stores build their
 * upserts, retention and breakdown reads from these, so a new dimension (a release, say) is one
 * more entry here, one more map in BatchRollup and one table per store schema.
 */
export interface KeyedRollup {
  readonly table: string;
  /** The key column after `minute`. */
  readonly key: string;
  /** Stored columns in table order, each from one field of the aggregate; the first orders breakdowns. */
  readonly columns: readonly { readonly column: string; readonly from: 'count' | 'errors' | 'sum' | 'n'; readonly kind: 'int' | 'real' }[];
  /** This table's aggregates in a batch. */
  rows(batch: BatchRollup): Iterable<KeyedAgg>;
}

export const INTENT_ROLLUP: KeyedRollup = {
  table: 'rollup_intent',
  key: 'intent',
  columns: [
    { column: 'count', from: 'count', kind: 'int' },
    { column: 'errors', from: 'errors', kind: 'int' },
    { column: 'rt_sum', from: 'sum', kind: 'real' },
  ],
  rows: (b) => b.intents.values(),
};

export const TOOL_ROLLUP: KeyedRollup = {
  table: 'rollup_tool',
  key: 'tool',
  columns: [
    { column: 'calls', from: 'count', kind: 'int' },
    { column: 'errors', from: 'errors', kind: 'int' },
    { column: 'duration_sum', from: 'sum', kind: 'real' },
    { column: 'duration_n', from: 'n', kind: 'int' },
  ],
  rows: (b) => b.tools.values(),
};

export const ERROR_ROLLUP: KeyedRollup = {
  table: 'rollup_error',
  key: 'error_type',
  columns: [{ column: 'count', from: 'count', kind: 'int' }],
  rows: (b) => b.errorTypes.values(),
};

export const KEYED_ROLLUPS: readonly KeyedRollup[] = [INTENT_ROLLUP, TOOL_ROLLUP, ERROR_ROLLUP];

export class BatchRollup {
  readonly minutes = new Map<number, MinuteAgg>();
  readonly intents = new Map<string, KeyedAgg>();
  readonly tools = new Map<string, KeyedAgg>();
  readonly errorTypes = new Map<string, KeyedAgg>();
  /** Keyed by minute and model; interactions without a model are in the minute totals only. */
  readonly models = new Map<string, ModelAgg>();
  readonly sessions = new Map<string, SessionAgg>();

  private minute(minute: number): MinuteAgg {
    let m = this.minutes.get(minute);
    if (!m) {
      m = { minute, count: 0, errors: 0, rtSum: 0, rtMax: 0, hist: new Histogram(), inputTokens: 0, outputTokens: 0, costUsd: 0, costed: 0, unpriced: 0 };
      this.minutes.set(minute, m);
    }
    return m;
  }

  /**
   * What late spans add to an interaction stored before (OTLP traces arrive in pieces): its new
   * tool calls and tokens, in the interaction's minute. The interaction is not counted again.
   */
  addLate(timestamp: number, tools: readonly ToolUse[], inputTokens: number, outputTokens: number, costUsd: number): void {
    const minute = Math.floor(timestamp / MINUTE_MS) * MINUTE_MS;
    const m = this.minute(minute);
    m.inputTokens += inputTokens;
    m.outputTokens += outputTokens;
    m.costUsd += costUsd;
    for (const t of tools) bumpTool(this.tools, minute, t);
  }

  add(r: Interaction): void {
    const minute = Math.floor(r.timestamp / MINUTE_MS) * MINUTE_MS;
    const failed = r.success ? 0 : 1;
    const m = this.minute(minute);
    addInteractionSums(m, r, failed);
    if (r.responseTimeMs > m.rtMax) m.rtMax = r.responseTimeMs;
    const costed = r.costUsd === null ? 0 : 1;
    const unpriced = r.model !== null && r.costUsd === null ? 1 : 0;
    m.costed += costed;
    m.unpriced += unpriced;
    if (r.model !== null) this.addModel(minute, r, failed, costed, unpriced);

    bump(this.intents, minute, r.intent, failed, r.responseTimeMs, 1);
    for (const t of r.toolsUsed) bumpTool(this.tools, minute, t);
    if (!r.success) bump(this.errorTypes, minute, r.errorType ?? 'unknown', 1, 0, 0);

    const s = this.sessions.get(r.sessionId);
    if (!s) this.sessions.set(r.sessionId, { id: r.sessionId, first: r.timestamp, last: r.timestamp, count: 1, errors: failed, rtSum: r.responseTimeMs });
    else {
      s.first = Math.min(s.first, r.timestamp);
      s.last = Math.max(s.last, r.timestamp);
      s.count++;
      s.errors += failed;
      s.rtSum += r.responseTimeMs;
    }
  }

  private addModel(minute: number, r: Interaction, failed: number, costed: number, unpriced: number): void {
    const model = r.model!;
    const k = `${minute}\u0000${model}`;
    let a = this.models.get(k);
    if (!a) {
      a = { minute, model, count: 0, errors: 0, rtSum: 0, hist: new Histogram(), inputTokens: 0, outputTokens: 0, costUsd: 0, costed: 0, unpriced: 0 };
      this.models.set(k, a);
    }
    addInteractionSums(a, r, failed);
    a.costed += costed;
    a.unpriced += unpriced;
  }
}

/** What every aggregate of whole interactions sums (per minute, per model, per release). */
export interface InteractionSums {
  count: number;
  errors: number;
  rtSum: number;
  hist: Histogram;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export function addInteractionSums(a: InteractionSums, r: Interaction, failed: number): void {
  a.count++;
  a.errors += failed;
  a.rtSum += r.responseTimeMs;
  a.hist.record(r.responseTimeMs);
  a.inputTokens += r.inputTokens ?? 0;
  a.outputTokens += r.outputTokens ?? 0;
  a.costUsd += r.costUsd ?? 0;
}

/** A tool call failed when marked so, or when unmarked and it reports an error. */
export function toolFailed(t: ToolUse): boolean {
  return t.success === false || (t.success === null && t.error !== null);
}

function bumpTool(map: Map<string, KeyedAgg>, minute: number, t: ToolUse): void {
  bump(map, minute, t.tool, toolFailed(t) ? 1 : 0, t.durationMs ?? 0, t.durationMs === null ? 0 : 1);
}

function bump(map: Map<string, KeyedAgg>, minute: number, key: string, failed: number, sum: number, n: number): void {
  const k = `${minute}\u0000${key}`;
  const a = map.get(k);
  if (a) {
    a.count++;
    a.errors += failed;
    a.sum += sum;
    a.n += n;
  } else map.set(k, { minute, key, count: 1, errors: failed, sum, n });
}
