/** One OpenTelemetry span as stored (section 11 of the product contract), times in epoch ms. */

export const SPAN_KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

export const SPAN_STATUS_CODES = ['UNSET', 'OK', 'ERROR'] as const;
export type SpanStatusCode = (typeof SPAN_STATUS_CODES)[number];

export type Attributes = Record<string, unknown>;

export interface SpanEvent {
  name: string;
  /** Epoch ms. */
  time: number;
  attributes: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

export interface Span {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  parentSpanId: string | null;
  /** The interaction the span's trace became; null while the trace waits for its root. */
  interactionId: string | null;
  name: string;
  kind: SpanKind;
  /** Epoch ms (fractional: the wire has nanoseconds). */
  startTime: number;
  endTime: number;
  statusCode: SpanStatusCode;
  statusMessage: string | null;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  /** The resource's attributes (service.name, ...) and the instrumentation scope. */
  resource: Attributes;
  /** Epoch ms of when the server received it (the orphan wait counts from the last one). */
  receivedAt: number;
}

/** Filter of a trace's spans (GraphQL `spans(filter:)`); every field narrows. */
export interface SpanFilter {
  /** Case-insensitive substring of the name. */
  name?: string | undefined;
  kind?: SpanKind | undefined;
  status?: SpanStatusCode | undefined;
}

export function matchSpan(filter: SpanFilter): (s: Span) => boolean {
  const needle = filter.name?.toLowerCase();
  return (s) =>
    (needle === undefined || s.name.toLowerCase().includes(needle)) &&
    (filter.kind === undefined || s.kind === filter.kind) &&
    (filter.status === undefined || s.statusCode === filter.status);
}
