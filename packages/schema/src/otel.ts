/**
 * OpenTelemetry attribute names ai-monitor reads, current names first: GenAI semantic
 * conventions (with their deprecated names), OpenInference, Traceloop (OpenLLMetry) and the
 * Vercel AI SDK. The OTLP adapter maps spans with these lists; the dashboard's trace view shows
 * the same values from them.
 */
export const OTEL_ATTRIBUTES = {
  operation: ['gen_ai.operation.name'],
  intent: ['ai_monitor.intent'],
  agentName: ['gen_ai.agent.name'],
  agentVersion: ['gen_ai.agent.version'],
  entityName: ['traceloop.entity.name'],
  vercelOperation: ['ai.operationId'],
  toolName: ['gen_ai.tool.name', 'tool.name', 'ai.toolCall.name', 'traceloop.entity.name'],
  toolArgs: ['gen_ai.tool.call.arguments', 'tool.parameters', 'ai.toolCall.args', 'traceloop.entity.input', 'input.value'],
  toolResult: ['gen_ai.tool.call.result', 'ai.toolCall.result', 'traceloop.entity.output', 'output.value'],
  model: ['gen_ai.response.model', 'gen_ai.request.model', 'llm.model_name', 'ai.response.model', 'ai.model.id'],
  inputTokens: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt', 'ai.usage.promptTokens', 'ai.usage.inputTokens'],
  outputTokens: ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion', 'ai.usage.completionTokens', 'ai.usage.outputTokens'],
  cost: ['llm.cost.total', 'gen_ai.usage.cost'],
  costParts: ['llm.cost.prompt', 'llm.cost.completion'],
  session: ['gen_ai.conversation.id', 'session.id', 'ai.telemetry.metadata.sessionId', 'traceloop.association.properties.session_id'],
  user: ['user.id', 'enduser.id', 'ai.telemetry.metadata.userId', 'traceloop.association.properties.user_id'],
  errorType: ['error.type'],
  inputMessages: ['gen_ai.input.messages', 'gen_ai.prompt', 'input.value', 'ai.prompt', 'traceloop.entity.input'],
  outputMessages: ['gen_ai.output.messages', 'gen_ai.completion', 'output.value', 'ai.response.text', 'traceloop.entity.output'],
  service: ['service.name'],
  serviceVersion: ['service.version'],
  environment: ['deployment.environment.name', 'deployment.environment'],
} as const satisfies Record<string, readonly string[]>;

export type OtelAttributeRole = keyof typeof OTEL_ATTRIBUTES;

/** The first attribute present (not null or empty) among the role's names. */
export function otelAttribute(attributes: Readonly<Record<string, unknown>>, role: OtelAttributeRole): unknown {
  for (const k of OTEL_ATTRIBUTES[role]) {
    const v = attributes[k];
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}
