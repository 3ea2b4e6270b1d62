/**
 * OTLP/HTTP protobuf ingest in spans/s, as an instrumented agent fleet sends it: traces of an
 * `invoke_agent` root with LLM and tool children made by the OpenTelemetry SDK, serialised by
 * its protobuf serializer in exports of 512 spans in end order (what BatchSpanProcessor sends:
 * children before their root, a trace sometimes split over two exports). Bodies are built
 * before the clock starts; the figure counts spans stored and traces recorded.
 */
import http from 'node:http';
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

const SPANS_PER_EXPORT = 512;
/** Spans per trace: root, 3 LLM calls, 4 tool calls. */
const TRACE_SPANS = 8;

/** Export bodies with `total` spans in all. */
export function otlpBodies(total) {
  const ended = [];
  const provider = new BasicTracerProvider({
    resource: new Resource({ 'service.name': 'bench-agent', 'service.version': '1.0.0', 'deployment.environment.name': 'bench' }),
    spanProcessors: [{ onStart() {}, onEnd: (s) => ended.push(s), forceFlush: async () => {}, shutdown: async () => {} }],
  });
  const tracer = provider.getTracer('bench');
  for (let t = 0; t < Math.ceil(total / TRACE_SPANS); t++) {
    const root = tracer.startSpan('invoke_agent', {
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': `agent-${t % 5}`, 'gen_ai.conversation.id': `conv-${t % 997}`, 'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `question ${t}` }] }]) },
    });
    const ctx = trace.setSpan(context.active(), root);
    for (let k = 0; k < TRACE_SPANS - 1; k++) {
      const llm = k % 2 === 0;
      const attributes = llm
        ? { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 100 + k, 'gen_ai.usage.output_tokens': 20 + k }
        : { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': `tool_${k}`, 'gen_ai.tool.call.arguments': JSON.stringify({ q: t, k }) };
      tracer.startSpan(llm ? 'chat gpt-4o' : `execute_tool tool_${k}`, { attributes }, ctx).end();
    }
    root.end();
  }
  const bodies = [];
  for (let i = 0; i < ended.length && i < total; i += SPANS_PER_EXPORT) {
    bodies.push(Buffer.from(ProtobufTraceSerializer.serializeRequest(ended.slice(i, Math.min(i + SPANS_PER_EXPORT, total)))));
  }
  return { bodies, spans: Math.min(total, ended.length), traces: Math.ceil(total / TRACE_SPANS) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`OTLP export answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends the bodies with `concurrency` exports in flight; returns spans/s. */
export async function otlpIngest(server, built, concurrency = 4) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < built.bodies.length) await post(`${server.url}/v1/traces`, built.bodies[next++]);
  }));
  return built.spans / ((performance.now() - t0) / 1000);
}
