/**
 * OpenTelemetry spans → the canonical record. One trace is one interaction: its anchor (the root
 * span, or an `invoke_agent` span when the root is elsewhere) gives time, duration, outcome and
 * intent; tool spans give `toolsUsed`; LLM spans give the model and summed tokens. The README's
 * "OpenTelemetry mapping" table lists every attribute read here. GenAI semantic conventions
 * (current and deprecated names), OpenInference, Traceloop and the Vercel AI SDK are covered.
 */
import { MAX_LABEL, MAX_TOOL_CALLS, MAX_TOOL_ERROR, OTEL_ATTRIBUTES, type InteractionInput, type ToolUseInput } from '@ai-monitor/schema';
import type { Attributes, Span } from '../../model/span.js';
import type { IngestAdapter } from './types.js';

/** The records this adapter receives are already canonical (built by `traceToRecord`). */
export const otlpAdapter: IngestAdapter = { transport: 'otlp', naming: 'camel', toCanonical: (input) => input };

/** The interaction a trace becomes: one id per trace, so re-sent spans never make a second one. */
export function interactionIdOf(traceId: string): string {
  return `otel-${traceId}`;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
};
/** The first attribute present among `keys`. */
function pick(a: Attributes, keys: readonly string[]): unknown {
  for (const k of keys) if (a[k] !== undefined && a[k] !== null && a[k] !== '') return a[k];
  return undefined;
}
const pickStr = (a: Attributes, keys: readonly string[]): string | null => str(pick(a, keys));
const clip = (s: string, max: number): string => (s.length > max ? s.slice(0, max) : s);

/** Attribute names, current first, each list read in order (shared with the dashboard). */
export const ATTR = OTEL_ATTRIBUTES;

const AGENT_KINDS = new Set(['invoke_agent', 'create_agent']);
const TOOL_OPERATIONS = new Set(['execute_tool']);

/** Whether the span stands for the whole interaction when its trace's root is not here. */
export function isAgentSpan(s: Span): boolean {
  const a = s.attributes;
  return (
    AGENT_KINDS.has(String(a['gen_ai.operation.name'] ?? '')) ||
    a['openinference.span.kind'] === 'AGENT' ||
    a['traceloop.span.kind'] === 'agent' ||
    a['traceloop.span.kind'] === 'workflow'
  );
}

/** The span an interaction is recorded on arrival of. */
export function isAnchor(s: Span): boolean {
  return s.parentSpanId === null || isAgentSpan(s);
}

export function isToolSpan(s: Span): boolean {
  const a = s.attributes;
  return (
    TOOL_OPERATIONS.has(String(a['gen_ai.operation.name'] ?? '')) ||
    a['openinference.span.kind'] === 'TOOL' ||
    a['traceloop.span.kind'] === 'tool' ||
    a['ai.toolCall.name'] !== undefined
  );
}

function failed(s: Span): boolean {
  return s.statusCode === 'ERROR' || str(s.attributes['error.type']) !== null;
}

/** The exception type of a span's `exception` event, if any. */
function exceptionType(s: Span): string | null {
  for (const e of s.events) if (e.name === 'exception') return str(e.attributes['exception.type']);
  return null;
}

/** JSON text of an object → the object; anything else under `value`. */
function paramsOf(v: unknown): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  let value = v;
  if (typeof v === 'string') {
    try {
      value = JSON.parse(v);
    } catch {
      value = v;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}

export function toolCallOf(s: Span): ToolUseInput {
  const a = s.attributes;
  const ok = !failed(s);
  const error = ok ? null : (s.statusMessage ?? pickStr(a, ATTR.errorType) ?? exceptionType(s) ?? 'error');
  return {
    tool: clip(pickStr(a, ATTR.toolName) ?? (s.name || 'tool'), MAX_LABEL),
    params: paramsOf(pick(a, ATTR.toolArgs)),
    durationMs: s.endTime - s.startTime,
    success: ok,
    error: error === null ? null : clip(error, MAX_TOOL_ERROR),
  };
}

export interface Usage {
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  model: string | null;
}

function usageOf(s: Span): Usage {
  const a = s.attributes;
  const parts = ATTR.costParts.map((k) => num(a[k]));
  const cost = num(pick(a, ATTR.cost)) ?? (parts.some((p) => p !== null) ? parts.reduce<number>((t, p) => t + (p ?? 0), 0) : null);
  return { inputTokens: num(pick(a, ATTR.inputTokens)), outputTokens: num(pick(a, ATTR.outputTokens)), costUsd: cost, model: pickStr(a, ATTR.model) };
}

const hasUsage = (u: Usage): boolean => u.inputTokens !== null || u.outputTokens !== null || u.costUsd !== null;

/**
 * Tokens and cost summed over the spans that report them, leaving out a span whose descendant
 * also reports them (the Vercel AI SDK and wrappers repeat a child call's usage on its parent).
 * `counted` are spans already summed into the record: a late span adds nothing when it is an
 * ancestor or descendant of one of them.
 */
export function sumUsage(spans: readonly Span[], all: readonly Span[] = spans): Usage {
  const byId = new Map(all.map((s) => [s.spanId, s]));
  const reporting = new Set(all.filter((s) => hasUsage(usageOf(s))).map((s) => s.spanId));
  const ancestorsOf = (s: Span): string[] => {
    const out: string[] = [];
    let p = s.parentSpanId;
    while (p !== null && out.length < 1000) {
      out.push(p);
      p = byId.get(p)?.parentSpanId ?? null;
    }
    return out;
  };
  // A span that is an ancestor of another reporting span does not count.
  const shadowed = new Set<string>();
  for (const id of reporting) for (const anc of ancestorsOf(byId.get(id)!)) shadowed.add(anc);
  const total: Usage = { inputTokens: null, outputTokens: null, costUsd: null, model: null };
  const add = (x: number | null, y: number | null): number | null => (y === null ? x : (x ?? 0) + y);
  // A response model (what answered) wins over a requested one, whichever span comes first.
  total.model = spans.map((s) => str(s.attributes['gen_ai.response.model'])).find((m) => m !== null) ?? null;
  for (const s of [...spans].sort((a, b) => a.startTime - b.startTime)) {
    const u = usageOf(s);
    total.model ??= u.model;
    if (!hasUsage(u) || shadowed.has(s.spanId)) continue;
    total.inputTokens = add(total.inputTokens, u.inputTokens);
    total.outputTokens = add(total.outputTokens, u.outputTokens);
    total.costUsd = add(total.costUsd, u.costUsd);
  }
  if (total.inputTokens !== null) total.inputTokens = Math.round(total.inputTokens);
  if (total.outputTokens !== null) total.outputTokens = Math.round(total.outputTokens);
  return total;
}

/** The text of the last user message of a GenAI / OpenInference / Vercel input, or the text itself. */
export function userTextOf(v: unknown): string | null {
  let value = v;
  if (typeof v === 'string') {
    try {
      value = JSON.parse(v);
    } catch {
      return v;
    }
    if (typeof value !== 'object' || value === null) return v;
  }
  return textOfMessages(value);
}

function partsText(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return null;
  const texts = content
    .map((p) => (typeof p === 'string' ? p : typeof p === 'object' && p !== null ? (str((p as Attributes).content) ?? str((p as Attributes).text)) : null))
    .filter((t): t is string => t !== null);
  return texts.length > 0 ? texts.join('\n') : null;
}

function textOfMessages(value: unknown): string | null {
  if (Array.isArray(value)) {
    const messages = value.filter((m): m is Attributes => typeof m === 'object' && m !== null);
    const users = messages.filter((m) => m.role === 'user');
    const last = users[users.length - 1] ?? messages[messages.length - 1];
    if (!last) return null;
    return partsText(last.parts) ?? partsText(last.content);
  }
  if (typeof value === 'object' && value !== null) {
    const o = value as Attributes;
    // Vercel AI SDK `ai.prompt`: {"prompt": "..."} or {"messages": [...]}; OpenInference chat input: {"messages": [...]}.
    return str(o.prompt) ?? (Array.isArray(o.messages) ? textOfMessages(o.messages) : null) ?? str(o.input) ?? str(o.query);
  }
  return null;
}

/** Traceloop's indexed prompt attributes: `gen_ai.prompt.<i>.role` / `.content`. */
function indexedPrompt(a: Attributes): string | null {
  let found: string | null = null;
  for (let i = 0; i < 100; i++) {
    const content = str(a[`gen_ai.prompt.${i}.content`]);
    if (content === null) break;
    if (a[`gen_ai.prompt.${i}.role`] === 'user' || found === null) found = content;
  }
  return found;
}

function userInputOf(anchor: Span, spans: readonly Span[]): string {
  for (const s of [anchor, ...[...spans].sort((a, b) => a.startTime - b.startTime)]) {
    const text = userTextOf(pick(s.attributes, ATTR.inputMessages)) ?? indexedPrompt(s.attributes);
    if (text !== null) return text;
  }
  return '';
}

function intentOf(anchor: Span, spans: readonly Span[]): string {
  const a = anchor.attributes;
  const explicit = pickStr(a, ATTR.intent) ?? spans.map((s) => pickStr(s.attributes, ATTR.intent)).find((x) => x !== null) ?? null;
  const agent = pickStr(a, ATTR.agentName) ?? spans.map((s) => pickStr(s.attributes, ATTR.agentName)).find((x) => x !== null) ?? null;
  const name = explicit ?? agent ?? pickStr(a, ATTR.entityName) ?? pickStr(a, ATTR.vercelOperation) ?? pickStr(a, ATTR.operation) ?? (anchor.name || 'span');
  return clip(name, MAX_LABEL);
}

/** Attribute names read by the mapping; the rest of the anchor's attributes go to metadata. */
const MAPPED = new Set<string>(Object.values(ATTR).flat());

function unmapped(a: Attributes): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(a)) if (!MAPPED.has(k)) out[k] = v;
  return out;
}

/** Picks the anchor of a trace whose root has not arrived: the earliest span whose parent is not here. */
export function orphanAnchor(spans: readonly Span[]): Span | null {
  const ids = new Set(spans.map((s) => s.spanId));
  const tops = spans.filter((s) => s.parentSpanId === null || !ids.has(s.parentSpanId));
  return [...tops].sort((a, b) => a.startTime - b.startTime || b.endTime - a.endTime)[0] ?? null;
}

/** The anchor to record a trace on, when one has arrived: the root span, else the outermost agent span. */
export function anchorOf(spans: readonly Span[]): Span | null {
  const root = spans.find((s) => s.parentSpanId === null);
  if (root) return root;
  return [...spans].filter(isAgentSpan).sort((a, b) => a.startTime - b.startTime || b.endTime - a.endTime)[0] ?? null;
}

/**
 * The canonical record of a trace from its spans so far and its anchor (unvalidated: the one
 * validator checks it). Tool and LLM spans that are not the anchor contribute tools and usage.
 */
export function traceToRecord(anchor: Span, spans: readonly Span[], orphan: boolean): InteractionInput {
  const a = anchor.attributes;
  const r = anchor.resource;
  const others = spans.filter((s) => s.spanId !== anchor.spanId);
  const tools = others.filter(isToolSpan).sort((x, y) => x.startTime - y.startTime).slice(0, MAX_TOOL_CALLS).map(toolCallOf);
  const usage = sumUsage(spans);
  const ok = !failed(anchor);
  const sessionOf = (s: Span): string | null => pickStr(s.attributes, ATTR.session);
  const session = sessionOf(anchor) ?? spans.map(sessionOf).find((x) => x !== null) ?? `trace-${anchor.traceId}`;
  const userId = pickStr(a, ATTR.user) ?? spans.map((s) => pickStr(s.attributes, ATTR.user)).find((x) => x !== null) ?? null;
  const metadata: Attributes = {
    traceId: anchor.traceId,
    anchorSpanId: anchor.spanId,
    spanName: anchor.name,
    ...(orphan ? { orphan: true } : {}),
  };
  const extraAttrs = unmapped(a);
  if (Object.keys(extraAttrs).length > 0) metadata.attributes = extraAttrs;
  const extraResource = unmapped(r);
  if (Object.keys(extraResource).length > 0) metadata.resource = extraResource;
  const errorType = ok ? null : (pickStr(a, ATTR.errorType) ?? exceptionType(anchor) ?? anchor.statusMessage ?? 'error');
  const version = pickStr(r, ATTR.serviceVersion) ?? pickStr(a, ATTR.agentVersion);
  return {
    id: interactionIdOf(anchor.traceId),
    sessionId: clip(session, 128),
    timestamp: Math.round(anchor.startTime),
    userInput: userInputOf(anchor, others),
    intent: intentOf(anchor, others),
    toolsUsed: tools,
    responseTimeMs: Math.min(1e9, anchor.endTime - anchor.startTime),
    success: ok,
    errorType: errorType === null ? null : clip(errorType, MAX_LABEL),
    assistant: nullableClip(pickStr(r, ATTR.service), MAX_LABEL),
    version: nullableClip(version, MAX_LABEL),
    environment: nullableClip(pickStr(r, ATTR.environment) ?? pickStr(a, ATTR.environment), MAX_LABEL),
    model: nullableClip(usage.model, MAX_LABEL),
    userId: nullableClip(userId, 128),
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    costUsd: usage.costUsd,
    metadata,
  };
}

function nullableClip(s: string | null, max: number): string | null {
  return s === null ? null : clip(s, max);
}

/** What late spans (after the interaction was recorded) add to it. */
export interface Amendment {
  toolsUsed: ToolUseInput[];
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Set when the record had no model yet. */
  model: string | null;
}

/**
 * Late spans of a recorded trace: their tool calls are appended and their usage added, except
 * usage already counted through an ancestor or descendant span that was there before.
 */
export function amendmentOf(late: readonly Span[], before: readonly Span[]): Amendment | null {
  // What the record holds is the usage of the spans before; the difference is what the late ones add.
  const total = sumUsage([...before, ...late]);
  const prior = sumUsage(before);
  const tools = late.filter(isToolSpan).sort((x, y) => x.startTime - y.startTime).map(toolCallOf);
  const amendment: Amendment = {
    toolsUsed: tools,
    inputTokens: Math.max(0, (total.inputTokens ?? 0) - (prior.inputTokens ?? 0)),
    outputTokens: Math.max(0, (total.outputTokens ?? 0) - (prior.outputTokens ?? 0)),
    costUsd: Math.max(0, (total.costUsd ?? 0) - (prior.costUsd ?? 0)),
    model: total.model,
  };
  const empty = tools.length === 0 && amendment.inputTokens === 0 && amendment.outputTokens === 0 && amendment.costUsd === 0;
  return empty && total.model === prior.model ? null : amendment;
}
