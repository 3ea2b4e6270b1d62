/** Limits of the canonical record, without its validation code (the dashboard imports these). */

/** The scale of `feedbackScore`: a user's rating of an answer, from 1 (poor) to 5 (excellent). */
export const FEEDBACK_SCALE = { min: 1, max: 5 } as const;

/** Longest id, session id and user id. */
export const MAX_ID = 128;
/** Longest label (intent, error type, assistant, version, model, tool name). */
export const MAX_LABEL = 200;
/** Longest tool error text. */
export const MAX_TOOL_ERROR = 2000;
/** Most tool calls in one record. */
export const MAX_TOOL_CALLS = 1000;
/**
 * Deepest nesting accepted inside `metadata` and `params`. The stores serialise these with
 * JSON.stringify, which overflows the stack on deep nesting (about 10,000 levels fit in a
 * 1 MiB message); that throw would fail the whole group commit, every other client's records
 * with it.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests objects or arrays deeper than `max` levels (iterative: no recursion to overflow). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}
