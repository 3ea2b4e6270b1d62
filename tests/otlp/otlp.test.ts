/**
 * OTLP/HTTP traces from the real OpenTelemetry JS SDK (protobuf and JSON exporters) on both
 * stores: the mapping to one interaction, and the assembly rule: spans out of order, exports
 * repeated, children after their root, roots that never come. Each interaction counts once in
 * the roll-ups, the tool breakdown and the live feed however its spans arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, gql, type RunningServer } from '../helpers/app.js';
import { PG_URL, dropSchema, noteSkip, probePostgres, randomName } from '../helpers/services.js';
import { Sub, untilLive, waitUntil } from '../scale/support.js';
import { child, exporter, genAiTrace, recorder, send, SpanKind } from './support.js';

const pgError = await probePostgres();
noteSkip('OTLP on PostgreSQL', 'PostgreSQL', pgError);

const INTERACTION = `id sessionId userInput intent success errorType assistant version environment model inputTokens outputTokens costUsd metadata
  toolsUsed { tool params durationMs success error }`;

interface Rec {
  id: string;
  sessionId: string;
  userInput: string;
  intent: string;
  success: boolean;
  errorType: string | null;
  assistant: string | null;
  version: string | null;
  environment: string | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  metadata: Record<string, unknown> | null;
  toolsUsed: { tool: string; params: Record<string, unknown>; durationMs: number | null; success: boolean | null; error: string | null }[];
}

async function interaction(server: RunningServer, traceId: string): Promise<Rec | null> {
  const res = await gql<{ interaction: Rec | null }>(server, `query ($id: ID!) { interaction(id: $id) { ${INTERACTION} } }`, { id: `otel-${traceId}` });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.interaction;
}

async function counts(server: RunningServer, intent: string): Promise<{ count: number; tools: Record<string, number>; inputTokens: number }> {
  const res = await gql<{ metrics: { count: number }; intentBreakdown: { intent: string; count: number }[]; toolBreakdown: { tool: string; calls: number }[]; timeseries: { inputTokens: number | null }[] }>(
    server,
    '{ metrics(window: "1h") { count } intentBreakdown(window: "1h") { intent count } toolBreakdown(window: "1h") { tool calls } }',
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  const d = res.data!;
  return {
    count: d.intentBreakdown.find((r) => r.intent === intent)?.count ?? 0,
    tools: Object.fromEntries(d.toolBreakdown.map((t) => [t.tool, t.calls])),
    inputTokens: 0,
  };
}

const STORES = [
  { name: 'SQLite', env: (): Record<string, string> => ({}) , skip: false },
  { name: 'PostgreSQL', env: (schema: string): Record<string, string> => ({ AI_MONITOR_STORAGE: 'postgres', AI_MONITOR_DATABASE_URL: PG_URL, AI_MONITOR_DATABASE_SCHEMA: schema }), skip: pgError !== null },
];

describe.each(STORES)('OTLP traces on $name', ({ env, skip }) => {
  let server: RunningServer;
  const schema = randomName('aim_otlp');
  let sub: Sub<{ interactionRecorded: { id: string } }>;

  beforeAll(async () => {
    if (skip) return;
    // The default orphan wait (60 s): a slow machine never records a trace before its root here.
    server = await startServer({ env: env(schema) });
    sub = new Sub(server, 'subscription { interactionRecorded { id } }');
    // The live feed is live once it delivers an interaction recorded through OTLP.
    const { tracer, ended } = recorder();
    const warm = tracer.startSpan('warm-up', { attributes: { 'ai_monitor.intent': 'warm-up' } });
    warm.end();
    const exp = exporter(server.url, 'json');
    await untilLive(sub as Sub<unknown>, async () => {
      ended.length = 0;
      const s = tracer.startSpan('warm-up', { attributes: { 'ai_monitor.intent': 'warm-up' } });
      s.end();
      await send(exp, [...ended]);
    }, 'interactionRecorded');
  });

  afterAll(async () => {
    if (skip) return;
    await sub.close();
    await server.stop();
    server.cleanup();
    if (env(schema).AI_MONITOR_STORAGE) await dropSchema(schema);
  });

  const eventsFor = (traceId: string): number => sub.events.filter((e) => e.interactionRecorded.id === `otel-${traceId}`).length;

  it.skipIf(skip)('maps a GenAI agent trace sent span by span with the protobuf exporter (children first) to one interaction', async () => {
    const { tracer, ended } = recorder();
    const t = genAiTrace(tracer, 'conv-1');
    const exp = exporter(server.url, 'protobuf');
    // As SimpleSpanProcessor sends: one export per span, in end order (the root last).
    for (const span of ended) await send(exp, [span]);
    const rec = await interaction(server, t.traceId);
    expect(rec).toMatchObject({
      sessionId: 'conv-1',
      userInput: 'Find me a flight to Paris',
      intent: 'travel-agent',
      success: true,
      errorType: null,
      assistant: 'travel-bot',
      version: '2.1.0',
      environment: 'staging',
      model: 'gpt-4o-2024-08-06',
      inputTokens: 150,
      outputTokens: 25,
    });
    // Spans starting in the same instant may come in either order.
    expect([...rec!.toolsUsed].sort((a, b) => b.tool.localeCompare(a.tool))).toEqual([
      { tool: 'search_flights', params: { to: 'Paris' }, durationMs: expect.any(Number), success: true, error: null },
      { tool: 'book_hotel', params: {}, durationMs: expect.any(Number), success: false, error: 'hotel service timed out' },
    ]);
    expect(rec!.metadata).toMatchObject({ traceId: t.traceId, attributes: { 'app.tenant': 'acme' } });
    await waitUntil(() => eventsFor(t.traceId) === 1, 'the live feed event');
    const c = await counts(server, 'travel-agent');
    expect(c.count).toBe(1);
    expect(c.tools).toMatchObject({ search_flights: 1, book_hotel: 1 });
  });

  it.skipIf(skip)('counts an interaction once when exports come out of order, repeated, and with children after the root (JSON exporter)', async () => {
    const { tracer } = recorder();
    const t = genAiTrace(tracer, 'conv-2');
    const exp = exporter(server.url, 'json');
    await send(exp, [t.chat1]);
    await send(exp, [t.chat1]); // a retry
    await send(exp, [t.root]); // the interaction is recorded here
    await send(exp, [t.root, t.chat1]); // the whole batch again
    await send(exp, [t.tool1]); // late children
    await send(exp, [t.tool2, t.chat2]);
    await send(exp, [t.tool2, t.chat2, t.tool1, t.root]); // and again
    const rec = await interaction(server, t.traceId);
    expect(rec).toMatchObject({ sessionId: 'conv-2', inputTokens: 150, outputTokens: 25, model: 'gpt-4o-2024-08-06' });
    expect(rec!.toolsUsed.map((x) => x.tool).sort()).toEqual(['book_hotel', 'search_flights']);
    await waitUntil(() => eventsFor(t.traceId) >= 1, 'the live feed event');
    const trace = await gql<{ trace: { spans: { spanId: string }[]; failed: { name: string }[] } }>(
      server,
      `{ trace(id: "${t.traceId}") { spans { spanId } failed: spans(filter: { status: ERROR }) { name } } }`,
    );
    expect(trace.data?.trace.spans).toHaveLength(5);
    expect(trace.data?.trace.failed).toEqual([{ name: 'execute_tool book_hotel' }]);
    const linked = await gql<{ interaction: { trace: { id: string; spans: { parentSpanId: string | null; durationMs: number; status: { code: string } }[] } } }>(
      server,
      `{ interaction(id: "otel-${t.traceId}") { trace { id spans(filter: { kind: CLIENT }) { parentSpanId durationMs status { code } } } } }`,
    );
    expect(linked.data?.interaction.trace.id).toBe(t.traceId);
    expect(linked.data?.interaction.trace.spans).toHaveLength(2);
    const c = await counts(server, 'travel-agent');
    // The first test's interaction and this one: two, each once; tools once per call.
    expect(c.count).toBe(2);
    expect(c.tools).toMatchObject({ search_flights: 2, book_hotel: 2 });
    expect(eventsFor(t.traceId)).toBe(1);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/ai_monitor_otlp_spans_total\{outcome="duplicate"\} [1-9]/);
    expect(metrics).toMatch(/ai_monitor_ingest_accepted_total\{transport="otlp"\} [1-9]/);
  });

  it.skipIf(skip)('maps OpenInference spans (agent, LLM with cost, tool)', async () => {
    const { tracer, ended } = recorder({ 'service.name': 'rag-bot', 'deployment.environment': 'production' });
    const root = tracer.startSpan('agent', {
      attributes: { 'openinference.span.kind': 'AGENT', 'input.value': 'What is our refund policy?', 'session.id': 'oi-session', 'user.id': 'u-42', 'ai_monitor.intent': 'refund_question' },
    });
    const llm = child(tracer, root, 'llm', { 'openinference.span.kind': 'LLM', 'llm.model_name': 'claude-sonnet', 'llm.token_count.prompt': 300, 'llm.token_count.completion': 40, 'llm.cost.total': 0.0123 });
    llm.end();
    const tool = child(tracer, root, 'retrieve', { 'openinference.span.kind': 'TOOL', 'tool.name': 'kb_search', 'input.value': '{"query":"refund"}' });
    tool.end();
    root.end();
    await send(exporter(server.url, 'protobuf'), [...ended]);
    const rec = await interaction(server, root.spanContext().traceId);
    expect(rec).toMatchObject({
      sessionId: 'oi-session',
      intent: 'refund_question',
      userInput: 'What is our refund policy?',
      assistant: 'rag-bot',
      environment: 'production',
      model: 'claude-sonnet',
      inputTokens: 300,
      outputTokens: 40,
      costUsd: 0.0123,
    });
    expect(rec!.toolsUsed).toMatchObject([{ tool: 'kb_search', params: { query: 'refund' }, success: true }]);
  });

  it.skipIf(skip)('maps a failed root span: status ERROR and error.type give success false and the error type', async () => {
    const { tracer, ended } = recorder();
    const root = tracer.startSpan('handle_request', { kind: SpanKind.SERVER, attributes: { 'error.type': 'RateLimitError', 'gen_ai.agent.name': 'support' } });
    root.setStatus({ code: 2, message: 'upstream refused' });
    root.end();
    await send(exporter(server.url, 'json'), [...ended]);
    const rec = await interaction(server, root.spanContext().traceId);
    expect(rec).toMatchObject({ success: false, errorType: 'RateLimitError', intent: 'support' });
  });

  it.skipIf(skip)('records a partial trace whose root never arrives after the orphan wait, once', async () => {
    // A server of its own with a short wait, on the same store.
    const short = await startServer({ env: { ...env(schema), AI_MONITOR_OTLP_ORPHAN_WAIT_MS: '1500' } });
    try {
      const { tracer } = recorder();
      const t = genAiTrace(tracer, 'conv-orphan');
      const exp = exporter(short.url, 'protobuf');
      await send(exp, [t.chat1, t.tool1]);
      await send(exp, [t.chat1]);
      expect(await interaction(short, t.traceId)).toBeNull();
      const rec = await waitUntil(() => interaction(short, t.traceId), 'the orphan trace to be recorded');
      // The conversation id was on the root: without it the trace is its own session.
      expect(rec).toMatchObject({ sessionId: `trace-${t.traceId}`, inputTokens: 100, metadata: { orphan: true } });
      // The root arriving after all: linked, nothing counted again; a late tool call is added.
      await send(exp, [t.root, t.tool2]);
      const after = await interaction(short, t.traceId);
      expect(after!.toolsUsed.map((x) => x.tool).sort()).toEqual(['book_hotel', 'search_flights']);
      expect(await (await fetch(`${short.url}/metrics`)).text()).toContain('ai_monitor_otlp_interactions_total{anchor="orphan"} 1');
      const res = await gql<{ interactions: { edges: unknown[] } }>(short, `{ interactions(first: 10, filter: { sessionId: "trace-${t.traceId}" }) { edges { cursor } } }`);
      expect(res.data?.interactions.edges).toHaveLength(1);
    } finally {
      await short.stop();
      short.cleanup();
    }
  });
});
