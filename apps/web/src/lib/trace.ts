/**
 * The trace waterfall's layout: spans in tree order (each parent before its children, siblings
 * by start), with depth and the bar's offset and width as fractions of the trace's span, and the
 * GenAI facts each row shows (model, tokens, tool arguments, messages) read with the same
 * attribute names the server maps.
 */
import { otelAttribute } from '@ai-monitor/schema';
import type { TraceSpan } from './graphql/types';

export interface WaterfallRow {
  span: TraceSpan;
  depth: number;
  /** Start offset from the trace's start, 0..1. */
  offset: number;
  /** Width, 0..1 (at least a sliver, so instant spans stay visible). */
  width: number;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  /** Tool name and arguments, for tool spans. */
  tool: { name: string; args: unknown } | null;
  input: unknown;
  output: unknown;
}

const MIN_WIDTH = 0.004;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function isTool(a: Record<string, unknown>): boolean {
  return a['gen_ai.operation.name'] === 'execute_tool' || a['openinference.span.kind'] === 'TOOL' || a['traceloop.span.kind'] === 'tool' || a['ai.toolCall.name'] !== undefined;
}

/** JSON text of an object or array → the value, for pretty printing; anything else as is. */
export function parsedJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try {
    return JSON.parse(t);
  } catch {
    return v;
  }
}

export function waterfall(spans: readonly TraceSpan[]): WaterfallRow[] {
  if (spans.length === 0) return [];
  const start = (s: TraceSpan): number => Date.parse(s.startTime);
  const t0 = Math.min(...spans.map(start));
  const t1 = Math.max(...spans.map((s) => start(s) + s.durationMs));
  const total = Math.max(t1 - t0, 1e-6);
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | null, TraceSpan[]>();
  for (const s of spans) {
    // A span whose parent is not here is shown at the top level.
    const parent = s.parentSpanId !== null && ids.has(s.parentSpanId) ? s.parentSpanId : null;
    const list = children.get(parent) ?? [];
    list.push(s);
    children.set(parent, list);
  }
  for (const list of children.values()) list.sort((a, b) => start(a) - start(b));
  const rows: WaterfallRow[] = [];
  const seen = new Set<string>();
  const visit = (s: TraceSpan, depth: number): void => {
    if (seen.has(s.spanId)) return; // a malformed trace could loop
    seen.add(s.spanId);
    const a = s.attributes;
    rows.push({
      span: s,
      depth,
      offset: (start(s) - t0) / total,
      width: Math.max(MIN_WIDTH, s.durationMs / total),
      model: text(otelAttribute(a, 'model')),
      inputTokens: num(otelAttribute(a, 'inputTokens')),
      outputTokens: num(otelAttribute(a, 'outputTokens')),
      tool: isTool(a) ? { name: text(otelAttribute(a, 'toolName')) ?? s.name, args: parsedJson(otelAttribute(a, 'toolArgs')) ?? null } : null,
      input: isTool(a) ? undefined : parsedJson(otelAttribute(a, 'inputMessages')),
      output: parsedJson(isTool(a) ? otelAttribute(a, 'toolResult') : otelAttribute(a, 'outputMessages')),
    });
    for (const c of children.get(s.spanId) ?? []) visit(c, depth + 1);
  };
  for (const root of children.get(null) ?? []) visit(root, 0);
  return rows;
}
