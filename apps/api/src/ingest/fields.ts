/**
 * Names in error messages: a validation path of the canonical (camelCase) record rendered in
 * the caller's naming — the seed's snake_case on the seed socket and HTTP batch, camelCase on GraphQL.
 */
import { RECORD_FIELDS, TOOL_FIELDS } from '@ai-monitor/schema';

export type Naming = 'snake' | 'camel';

const CAMEL_TO_SNAKE: Record<string, string> = Object.fromEntries(
  [...Object.entries(RECORD_FIELDS), ...Object.entries(TOOL_FIELDS)].map(([snake, camel]) => [camel, snake]),
);

/** Renders a canonical validation path (`toolsUsed.0.durationMs`) in the caller's naming (`tools_used[0].duration_ms`). */
export function fieldPath(path: readonly PropertyKey[], naming: Naming): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : naming === 'snake' ? (CAMEL_TO_SNAKE[String(p)] ?? String(p)) : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}
