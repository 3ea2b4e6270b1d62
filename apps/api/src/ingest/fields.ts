/**
 * The one mapping between the seed's snake_case wire names and GraphQL's camelCase names.
 */
export const RECORD_FIELDS = {
  id: 'id',
  session_id: 'sessionId',
  timestamp: 'timestamp',
  user_input: 'userInput',
  intent: 'intent',
  tools_used: 'toolsUsed',
  response_time_ms: 'responseTimeMs',
  success: 'success',
  error_type: 'errorType',
  assistant: 'assistant',
  version: 'version',
  model: 'model',
  user_id: 'userId',
  input_tokens: 'inputTokens',
  output_tokens: 'outputTokens',
  cost_usd: 'costUsd',
  feedback_score: 'feedbackScore',
  metadata: 'metadata',
} as const;

export const TOOL_FIELDS = {
  tool: 'tool',
  params: 'params',
  duration_ms: 'durationMs',
  success: 'success',
  error: 'error',
} as const;

export type Naming = 'snake' | 'camel';

const CAMEL_TO_SNAKE: Record<string, string> = Object.fromEntries(
  [...Object.entries(RECORD_FIELDS), ...Object.entries(TOOL_FIELDS)].map(([s, c]) => [c, s]),
);
const SNAKE_TO_CAMEL: Record<string, string> = { ...RECORD_FIELDS, ...TOOL_FIELDS };

/** Renames a camelCase record (GraphQL input) to wire names; unknown keys pass through. */
export function camelRecordToWire(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    const key = CAMEL_TO_SNAKE[k] ?? k;
    out[key] = k === 'toolsUsed' && Array.isArray(v) ? v.map((t) => renameTool(t)) : v;
  }
  return out;
}

function renameTool(t: unknown): unknown {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return t;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) out[CAMEL_TO_SNAKE[k] ?? k] = v;
  return out;
}

/** Renders a validation path (`tools_used.0.params`) in the caller's naming. */
export function fieldPath(path: readonly PropertyKey[], naming: Naming): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : naming === 'camel' ? (SNAKE_TO_CAMEL[String(p)] ?? String(p)) : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}
