/** OpenTelemetry traces: `trace(id)`, `Interaction.trace` and their spans, filterable. */
import { builder } from './builder.js';
import { InteractionRef } from './interaction.js';
import { SPAN_KINDS, SPAN_STATUS_CODES, matchSpan, type Span, type SpanEvent, type SpanLink } from '../model/span.js';

interface TraceShape {
  id: string;
  spans: Span[];
}

const SpanKindEnum = builder.enumType('SpanKind', { values: SPAN_KINDS });
const SpanStatusCodeEnum = builder.enumType('SpanStatusCode', { values: SPAN_STATUS_CODES });

const SpanStatusRef = builder.objectRef<Span>('SpanStatus').implement({
  fields: (t) => ({
    code: t.field({ type: SpanStatusCodeEnum, resolve: (s) => s.statusCode }),
    message: t.string({ nullable: true, resolve: (s) => s.statusMessage }),
  }),
});

const SpanEventRef = builder.objectRef<SpanEvent>('SpanEvent').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    time: t.field({ type: 'DateTime', resolve: (e) => e.time }),
    attributes: t.field({ type: 'JSONObject', resolve: (e) => e.attributes }),
  }),
});

const SpanLinkRef = builder.objectRef<SpanLink>('SpanLink').implement({
  fields: (t) => ({
    traceId: t.exposeID('traceId'),
    spanId: t.exposeID('spanId'),
    attributes: t.field({ type: 'JSONObject', resolve: (l) => l.attributes }),
  }),
});

const SpanRef = builder.objectRef<Span>('Span').implement({
  description: 'One OpenTelemetry span as received over OTLP.',
  fields: (t) => ({
    traceId: t.exposeID('traceId'),
    spanId: t.exposeID('spanId'),
    parentSpanId: t.field({ type: 'ID', nullable: true, resolve: (s) => s.parentSpanId }),
    interactionId: t.field({ type: 'ID', nullable: true, description: 'The interaction the trace became.', resolve: (s) => s.interactionId || null }),
    name: t.exposeString('name'),
    kind: t.field({ type: SpanKindEnum, resolve: (s) => s.kind }),
    startTime: t.field({ type: 'DateTime', resolve: (s) => s.startTime }),
    endTime: t.field({ type: 'DateTime', resolve: (s) => s.endTime }),
    durationMs: t.float({ resolve: (s) => s.endTime - s.startTime }),
    status: t.field({ type: SpanStatusRef, resolve: (s) => s }),
    attributes: t.field({ type: 'JSONObject', resolve: (s) => s.attributes }),
    events: t.field({ type: [SpanEventRef], resolve: (s) => s.events }),
    links: t.field({ type: [SpanLinkRef], resolve: (s) => s.links }),
    resource: t.field({ type: 'JSONObject', description: 'Resource attributes (service.name, ...) and the instrumentation scope.', resolve: (s) => s.resource }),
  }),
});

const SpanFilterInput = builder.inputType('SpanFilter', {
  description: 'Narrows the spans of a trace; every field given must match.',
  fields: (t) => ({
    name: t.string({ required: false, description: 'Case-insensitive substring of the span name.' }),
    kind: t.field({ type: SpanKindEnum, required: false }),
    status: t.field({ type: SpanStatusCodeEnum, required: false }),
  }),
});

const TraceRef = builder.objectRef<TraceShape>('Trace').implement({
  description: 'The spans of one trace received so far, earliest first.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The trace id (32 hex digits).' }),
    spanCount: t.int({ resolve: (tr) => tr.spans.length }),
    startTime: t.field({ type: 'DateTime', resolve: (tr) => Math.min(...tr.spans.map((s) => s.startTime)) }),
    durationMs: t.float({ resolve: (tr) => Math.max(...tr.spans.map((s) => s.endTime)) - Math.min(...tr.spans.map((s) => s.startTime)) }),
    spans: t.field({
      type: [SpanRef],
      args: { filter: t.arg({ type: SpanFilterInput, required: false }) },
      resolve: (tr, { filter }) =>
        filter ? tr.spans.filter(matchSpan({ name: filter.name ?? undefined, kind: filter.kind ?? undefined, status: filter.status ?? undefined })) : tr.spans,
    }),
  }),
});

builder.queryFields((t) => ({
  trace: t.field({
    type: TraceRef,
    nullable: true,
    description: 'A trace received over OTLP, by its id (32 hex digits); null when no span of it is stored.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const traceId = String(id).toLowerCase();
      const spans = await ctx.services.store.traceSpans(traceId);
      return spans.length > 0 ? { id: traceId, spans } : null;
    },
  }),
}));

builder.objectField(InteractionRef, 'trace', (t) =>
  t.field({
    type: TraceRef,
    nullable: true,
    description: 'The OpenTelemetry trace this interaction was recorded from; null for interactions sent otherwise.',
    resolve: async (interaction, _args, ctx) => {
      const spans = await ctx.services.store.interactionSpans(interaction.id);
      return spans.length > 0 ? { id: spans[0]!.traceId, spans } : null;
    },
  }),
);
