/**
 * Sending real OpenTelemetry spans: the JS SDK's tracer with a processor that keeps the ended
 * spans, and the SDK's OTLP exporters (protobuf, JSON) sending them to the server, in any
 * order and as many times as a test wants (the way retries and batching deliver them).
 */
import { context, trace, SpanKind, SpanStatusCode, type Attributes, type Span as ApiSpan, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExportResultCode } from '@opentelemetry/core';

export { SpanKind, SpanStatusCode };

/** Keeps every ended span, in end order (children before their parents). */
class Keep implements SpanProcessor {
  readonly ended: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.ended.push(span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface Recorder {
  tracer: Tracer;
  ended: ReadableSpan[];
}

export function recorder(resource: Attributes = { 'service.name': 'travel-bot', 'service.version': '2.1.0', 'deployment.environment.name': 'staging' }): Recorder {
  const keep = new Keep();
  const provider = new BasicTracerProvider({ resource: new Resource(resource), spanProcessors: [keep] });
  return { tracer: provider.getTracer('otlp-test'), ended: keep.ended };
}

/** Starts a child of `parent` (no context manager needed: the parent is passed explicitly). */
export function child(tracer: Tracer, parent: ApiSpan, name: string, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL): ApiSpan {
  return tracer.startSpan(name, { attributes, kind }, trace.setSpan(context.active(), parent));
}

export type Encoding = 'protobuf' | 'json';

export function exporter(base: string, encoding: Encoding, headers: Record<string, string> = {}): SpanExporter {
  const url = `${base}/v1/traces`;
  return encoding === 'protobuf' ? new ProtoExporter({ url, headers }) : new JsonExporter({ url, headers });
}

/** One export call; resolves with the SDK's result (rejects with its error on failure). */
export function send(exp: SpanExporter, spans: ReadableSpan[]): Promise<void> {
  return new Promise((resolve, reject) => {
    exp.export(spans, (r) => (r.code === ExportResultCode.SUCCESS ? resolve() : reject(r.error ?? new Error('export failed'))));
  });
}

/**
 * A GenAI-conventions agent trace: `invoke_agent` root, two chat calls (current and deprecated
 * token names), a tool call that works and one that fails. Returns the spans by role.
 */
export function genAiTrace(tracer: Tracer, conversation: string): Record<'root' | 'chat1' | 'tool1' | 'tool2' | 'chat2', ReadableSpan> & { traceId: string } {
  const root = tracer.startSpan('invoke_agent travel-agent', {
    kind: SpanKind.INTERNAL,
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'travel-agent',
      'gen_ai.conversation.id': conversation,
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Find me a flight to Paris' }] }]),
      'app.tenant': 'acme',
    },
  });
  const chat1 = child(tracer, root, 'chat gpt-4o', {
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.usage.input_tokens': 100,
    'gen_ai.usage.output_tokens': 20,
  }, SpanKind.CLIENT);
  chat1.end();
  const tool1 = child(tracer, root, 'execute_tool search_flights', {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'search_flights',
    'gen_ai.tool.call.arguments': JSON.stringify({ to: 'Paris' }),
  });
  tool1.end();
  const tool2 = child(tracer, root, 'execute_tool book_hotel', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'book_hotel', 'error.type': 'timeout' });
  tool2.setStatus({ code: SpanStatusCode.ERROR, message: 'hotel service timed out' });
  tool2.end();
  const chat2 = child(tracer, root, 'chat gpt-4o', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.prompt_tokens': 50, 'gen_ai.usage.completion_tokens': 5 }, SpanKind.CLIENT);
  chat2.end();
  root.end();
  const byName = (s: ApiSpan): ReadableSpan => s as unknown as ReadableSpan;
  return { root: byName(root), chat1: byName(chat1), tool1: byName(tool1), tool2: byName(tool2), chat2: byName(chat2), traceId: root.spanContext().traceId };
}

/** The SDK's OTLP/gRPC exporter to `host:port` (plaintext), with metadata such as a token. */
export async function grpcExporter(port: number, metadata: Record<string, string> = {}): Promise<SpanExporter> {
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
  const { Metadata, credentials } = await import('@grpc/grpc-js');
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new OTLPTraceExporter({ url: `http://127.0.0.1:${port}`, metadata: md, credentials: credentials.createInsecure() });
}
