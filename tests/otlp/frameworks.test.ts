/**
 * More of the documented mapping, sent with the SDK's OTLP/JSON exporter: the Vercel AI SDK's
 * `ai.*` attributes (its wrapper span repeats the usage of its `doGenerate` child: counted
 * once), Traceloop's workflow spans and indexed prompts; and the alert engine counting each
 * traced interaction once however its spans arrive (consecutive errors).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, gql, makeDataDir, type RunningServer } from '../helpers/app.js';
import { QUIET, listAlerts, writeAlertConfig } from '../alerts/support.js';
import { waitUntil, sleep } from '../scale/support.js';
import { SpanStatusCode, child, exporter, recorder, send } from './support.js';

let server: RunningServer;

beforeAll(async () => {
  const dataDir = makeDataDir();
  writeAlertConfig(dataDir, { ...QUIET, consecutive_errors_threshold: 3 });
  server = await startServer({ dataDir });
});

afterAll(async () => {
  await server.stop();
  server.cleanup();
});

interface Rec {
  intent: string;
  userInput: string;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  sessionId: string;
  userId: string | null;
  environment: string | null;
  toolsUsed: { tool: string; params: Record<string, unknown> }[];
}

async function interaction(traceId: string): Promise<Rec | null> {
  const r = await gql<{ interaction: Rec | null }>(server, `{ interaction(id: "otel-${traceId}") { intent userInput model inputTokens outputTokens sessionId userId environment toolsUsed { tool params } } }`);
  return r.data!.interaction;
}

describe('OTLP mapping of other frameworks', () => {
  it('maps Vercel AI SDK spans, counting usage repeated on the wrapper span once', async () => {
    const { tracer, ended } = recorder({ 'service.name': 'next-app', 'deployment.environment': 'preview' });
    const root = tracer.startSpan('ai.generateText', {
      attributes: {
        'ai.operationId': 'ai.generateText',
        'ai.model.id': 'gpt-4o-mini',
        'ai.prompt': JSON.stringify({ prompt: 'Summarise my inbox' }),
        'ai.telemetry.metadata.sessionId': 'vercel-session',
        'ai.telemetry.metadata.userId': 'v-user',
        'ai.usage.promptTokens': 70,
        'ai.usage.completionTokens': 12,
      },
    });
    child(tracer, root, 'ai.generateText.doGenerate', { 'ai.operationId': 'ai.generateText.doGenerate', 'ai.model.id': 'gpt-4o-mini', 'ai.usage.promptTokens': 70, 'ai.usage.completionTokens': 12 }).end();
    child(tracer, root, 'ai.toolCall', { 'ai.toolCall.name': 'list_mail', 'ai.toolCall.args': '{"folder":"inbox"}' }).end();
    root.end();
    await send(exporter(server.url, 'json'), [...ended]);
    expect(await interaction(root.spanContext().traceId)).toEqual({
      intent: 'ai.generateText',
      userInput: 'Summarise my inbox',
      model: 'gpt-4o-mini',
      inputTokens: 70,
      outputTokens: 12,
      sessionId: 'vercel-session',
      userId: 'v-user',
      environment: 'preview',
      toolsUsed: [{ tool: 'list_mail', params: { folder: 'inbox' } }],
    });
  });

  it('maps Traceloop workflow, task and tool spans with indexed prompts', async () => {
    const { tracer, ended } = recorder();
    const root = tracer.startSpan('plan_trip.workflow', {
      attributes: { 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': 'plan_trip', 'traceloop.association.properties.session_id': 'tl-session' },
    });
    child(tracer, root, 'openai.chat', {
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.prompt.0.role': 'system',
      'gen_ai.prompt.0.content': 'You are a travel agent',
      'gen_ai.prompt.1.role': 'user',
      'gen_ai.prompt.1.content': 'Plan three days in Rome',
      'gen_ai.usage.prompt_tokens': 40,
      'gen_ai.usage.completion_tokens': 9,
    }).end();
    child(tracer, root, 'weather.tool', { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'weather', 'traceloop.entity.input': '{"city":"Rome"}' }).end();
    root.end();
    await send(exporter(server.url, 'json'), [...ended]);
    expect(await interaction(root.spanContext().traceId)).toMatchObject({
      intent: 'plan_trip',
      userInput: 'Plan three days in Rome',
      model: 'gpt-4o',
      inputTokens: 40,
      outputTokens: 9,
      sessionId: 'tl-session',
      toolsUsed: [{ tool: 'weather', params: { city: 'Rome' } }],
    });
  });
});

describe('alerts over traced interactions', () => {
  /** A failed agent trace, exported children first, then the root twice, then a late child twice. */
  async function failingTrace(n: number): Promise<void> {
    const { tracer } = recorder();
    const root = tracer.startSpan(`invoke_agent ${n}`, { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'flaky', 'error.type': 'upstream_error' } });
    root.setStatus({ code: SpanStatusCode.ERROR });
    const llm = child(tracer, root, 'chat', { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 5 });
    llm.end();
    const tool = child(tracer, root, 'execute_tool', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup' });
    root.end();
    tool.end(); // ends after its root: a late child
    const exp = exporter(server.url, 'protobuf');
    const spans = (s: unknown[]) => s as Parameters<typeof send>[1];
    await send(exp, spans([llm]));
    await send(exp, spans([root]));
    await send(exp, spans([root, llm]));
    await send(exp, spans([tool]));
    await send(exp, spans([tool, root]));
  }

  it('counts each failed trace once towards consecutive errors, however its spans arrive', async () => {
    await failingTrace(1);
    await failingTrace(2);
    // Counted twice, two traces would already be four consecutive errors. Give the engine time to act.
    await sleep(500);
    expect((await listAlerts(server)).filter((a) => a.kind === 'consecutive_errors')).toEqual([]);
    await failingTrace(3);
    const alert = await waitUntil(async () => (await listAlerts(server)).find((a) => a.kind === 'consecutive_errors'), 'the consecutive_errors alert');
    expect(alert).toMatchObject({ value: 3, threshold: 3 });
  });
});
