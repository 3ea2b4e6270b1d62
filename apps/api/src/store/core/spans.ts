/**
 * Spans (OpenTelemetry traces), shared by both stores: columns, row mapping, reads, and the
 * amendment of an interaction by late spans. The dialect files only insert, link and update.
 */
import type { Interaction, ToolUse } from '../../model/interaction.js';
import type { Span, SpanKind, SpanStatusCode } from '../../model/span.js';
import { BatchRollup } from '../rollup.js';
import type { Dialect, Row, SqlReader } from './sql.js';

/** Column order of the spans table's INSERT. */
export const SPAN_COLUMNS = [
  'trace_id', 'span_id', 'parent_span_id', 'interaction_id', 'name', 'kind', 'start_ms', 'end_ms',
  'status_code', 'status_message', 'attributes', 'events', 'links', 'resource', 'received_at',
] as const;

/** The spans of one resource share its attributes object: serialised once. */
const resourceJson = new WeakMap<object, string>();
function resourceText(resource: Span['resource']): string {
  let text = resourceJson.get(resource);
  if (text === undefined) resourceJson.set(resource, (text = JSON.stringify(resource)));
  return text;
}

export function spanValues(s: Span, d: Dialect): unknown[] {
  return [
    s.traceId, s.spanId, s.parentSpanId, s.interactionId, d.text(s.name), s.kind, s.startTime, s.endTime,
    s.statusCode, s.statusMessage === null ? null : d.text(s.statusMessage),
    JSON.stringify(s.attributes), s.events.length === 0 ? '[]' : JSON.stringify(s.events), s.links.length === 0 ? '[]' : JSON.stringify(s.links),
    resourceText(s.resource), s.receivedAt,
  ];
}

const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

export function rowToSpan(r: Row): Span {
  return {
    traceId: r.trace_id as string,
    spanId: r.span_id as string,
    parentSpanId: (r.parent_span_id as string | null) ?? null,
    interactionId: (r.interaction_id as string | null) ?? null,
    name: r.name as string,
    kind: r.kind as SpanKind,
    startTime: Number(r.start_ms),
    endTime: Number(r.end_ms),
    statusCode: r.status_code as SpanStatusCode,
    statusMessage: (r.status_message as string | null) ?? null,
    attributes: json(r.attributes) as Span['attributes'],
    events: json(r.events) as Span['events'],
    links: json(r.links) as Span['links'],
    resource: json(r.resource) as Span['resource'],
    receivedAt: Number(r.received_at),
  };
}

/** Most spans read for one trace (a waterfall beyond this is cut, earliest first). */
export const MAX_TRACE_SPANS = 10_000;

export async function traceSpans(db: SqlReader, traceId: string): Promise<Span[]> {
  const d = db.dialect;
  const rows = await db.all(`SELECT * FROM ${d.table('spans')} WHERE trace_id = ${d.placeholder(1)} ORDER BY start_ms, span_id LIMIT ${MAX_TRACE_SPANS}`, [traceId]);
  return rows.map(rowToSpan);
}

/** The spans of several traces (the traces an export touched), in one read. */
export async function spansOfTraces(db: SqlReader, traceIds: readonly string[]): Promise<Span[]> {
  if (traceIds.length === 0) return [];
  const d = db.dialect;
  const out: Span[] = [];
  // Bounded parameter lists: SQLite allows 32,766 and PostgreSQL 65,535 per statement.
  for (let i = 0; i < traceIds.length; i += 500) {
    const ids = traceIds.slice(i, i + 500);
    const rows = await db.all(`SELECT * FROM ${d.table('spans')} WHERE trace_id IN (${ids.map((_, k) => d.placeholder(k + 1)).join(', ')})`, ids);
    for (const r of rows) out.push(rowToSpan(r));
  }
  return out;
}

/** A trace's unlinked spans to link to the interaction it became ('' when it could not become one). */
export interface TraceLink {
  traceId: string;
  interactionId: string;
}

export async function interactionSpans(db: SqlReader, interactionId: string): Promise<Span[]> {
  const d = db.dialect;
  const rows = await db.all(
    `SELECT * FROM ${d.table('spans')} WHERE interaction_id = ${d.placeholder(1)} ORDER BY start_ms, span_id LIMIT ${MAX_TRACE_SPANS}`,
    [interactionId],
  );
  return rows.map(rowToSpan);
}

/** Traces with spans not yet part of an interaction, whose newest span arrived before `quietSince`. */
export async function waitingTraces(db: SqlReader, quietSince: number, limit: number): Promise<string[]> {
  const d = db.dialect;
  const rows = await db.all(
    `SELECT trace_id FROM ${d.table('spans')} WHERE interaction_id IS NULL GROUP BY trace_id
     HAVING max(received_at) < ${d.placeholder(1)} ORDER BY min(received_at) LIMIT ${d.placeholder(2)}`,
    [quietSince, limit],
  );
  return rows.map((r) => r.trace_id as string);
}

/** What late spans add to a stored interaction (validated tool calls). */
export interface InteractionAmendment {
  toolsUsed: ToolUse[];
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  model: string | null;
}

/** The amended record and the roll-up additions that go with it. */
export function amend(current: Interaction, a: InteractionAmendment, maxTools: number): { record: Interaction; rollup: BatchRollup } {
  const room = Math.max(0, maxTools - current.toolsUsed.length);
  const tools = a.toolsUsed.slice(0, room);
  const addTokens = (x: number | null, y: number): number | null => (y === 0 ? x : (x ?? 0) + y);
  const record: Interaction = {
    ...current,
    toolsUsed: [...current.toolsUsed, ...tools],
    inputTokens: addTokens(current.inputTokens, a.inputTokens),
    outputTokens: addTokens(current.outputTokens, a.outputTokens),
    costUsd: addTokens(current.costUsd, a.costUsd),
    model: current.model ?? a.model,
  };
  const rollup = new BatchRollup();
  rollup.addLate(current.timestamp, tools, a.inputTokens, a.outputTokens, a.costUsd);
  return { record, rollup };
}
