/**
 * The single validation and normalisation step shared by every ingest path
 * (seed WebSocket, HTTP batch, GraphQL). Input uses the seed's snake_case names.
 */
import { z } from 'zod';
import type { Interaction, ToolUse } from '../model/interaction.js';
import { fieldPath, type Naming } from './fields.js';
import { newId } from './ids.js';

export interface ValidateOptions {
  /** user_input is stored truncated to this many characters. */
  userInputMaxLength: number;
  /** Names used in error messages. */
  naming: Naming;
  /** Receive time (epoch ms); also the default timestamp. */
  now: number;
}

export type ValidationResult = { ok: true; record: Interaction } | { ok: false; error: string };

const MAX_ID = 128;
const MAX_LABEL = 200;
/**
 * Deepest nesting accepted inside `metadata` and `params`. The stores serialise these with
 * JSON.stringify, which overflows the stack on deep nesting (a 1 MiB message can nest 200,000
 * levels); that throw would fail the whole group commit, every other client's records with it.
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

const jsonObject = z
  .record(z.string(), z.unknown())
  .refine((v) => !nestedDeeperThan(v, MAX_JSON_DEPTH), `must not nest objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
const optText = (max: number) => z.string().max(max, `must be at most ${max} characters`).nullish();
const optCount = z.number().int('must be a whole number').min(0, 'must be 0 or more').nullish();

const toolSchema = z.object({
  tool: z.string().min(1, 'must not be empty').max(MAX_LABEL),
  params: jsonObject.nullish(),
  duration_ms: z.number().min(0, 'must be 0 or more').nullish(),
  success: z.boolean().nullish(),
  error: z.string().max(2000).nullish(),
});

const recordSchema = z.object({
  id: z.string().min(1, 'must not be empty').max(MAX_ID, `must be at most ${MAX_ID} characters`).nullish(),
  session_id: z.string().min(1, 'must not be empty').max(MAX_ID, `must be at most ${MAX_ID} characters`),
  timestamp: z.union([z.string(), z.number()]).nullish(),
  user_input: z.string(),
  intent: z.string().max(MAX_LABEL, `must be at most ${MAX_LABEL} characters`),
  tools_used: z.array(toolSchema).max(1000, 'must list at most 1000 tool calls').nullish(),
  response_time_ms: z.number().min(0, 'must be 0 or more').max(1e9, 'must be at most 1e9'),
  success: z.boolean(),
  error_type: optText(MAX_LABEL),
  assistant: optText(MAX_LABEL),
  version: optText(MAX_LABEL),
  model: optText(MAX_LABEL),
  user_id: optText(MAX_ID),
  input_tokens: optCount,
  output_tokens: optCount,
  cost_usd: z.number().min(0, 'must be 0 or more').nullish(),
  feedback_score: z.number().nullish(),
  metadata: jsonObject.nullish(),
});

/** Zone suffix: `Z` or `±hh:mm` / `±hhmm` / `±hh`. */
const HAS_ZONE = /(Z|[+-]\d{2}(:?\d{2})?)$/i;
const MIN_TS = Date.UTC(1970, 0, 1);
const MAX_TS = Date.UTC(9999, 11, 31);

/**
 * ISO-8601 text or a number. Naive text (no zone, as Python's `datetime.now().isoformat()`)
 * is taken as UTC. Numbers are epoch milliseconds, or epoch seconds when below 1e11
 * (Python's `time.time()`).
 */
export function parseTimestamp(value: string | number): number | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    const ms = Math.abs(value) < 1e11 ? value * 1000 : value;
    return ms >= MIN_TS && ms <= MAX_TS ? Math.round(ms) : null;
  }
  const text = value.trim().replace(' ', 'T');
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?/.test(text)) return null;
  const zoned = text.length === 10 ? `${text}T00:00:00Z` : HAS_ZONE.test(text) ? text : `${text}Z`;
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) && ms >= MIN_TS && ms <= MAX_TS ? ms : null;
}

function formatError(error: z.ZodError, naming: Naming): string {
  const issue = error.issues[0]!;
  const path = fieldPath(issue.path, naming) || 'record';
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${path}: is required`;
  if (issue.code === 'invalid_type') return `${path}: expected ${issue.expected}, got ${describe(issue.input)}`;
  if (issue.code === 'invalid_union') return `${path}: expected an ISO-8601 string or a number, got ${describe(issue.input)}`;
  return `${path}: ${issue.message}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Cuts to `max` UTF-16 units without splitting a surrogate pair (an emoji cut in half). */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

function toTool(t: z.output<typeof toolSchema>): ToolUse {
  return {
    tool: t.tool,
    params: t.params ?? {},
    durationMs: t.duration_ms ?? null,
    success: t.success ?? null,
    error: t.error ?? null,
  };
}

/** Validates and normalises one record; never throws. */
export function validateRecord(input: unknown, opts: ValidateOptions): ValidationResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: `record: expected an object, got ${describe(input)}` };
  }
  const parsed = recordSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) return { ok: false, error: formatError(parsed.error, opts.naming) };
  const r = parsed.data;
  let timestamp = opts.now;
  if (r.timestamp !== undefined && r.timestamp !== null) {
    const ts = parseTimestamp(r.timestamp);
    if (ts === null) {
      return { ok: false, error: `${fieldPath(['timestamp'], opts.naming)}: not a valid ISO-8601 date-time: ${JSON.stringify(r.timestamp).slice(0, 60)}` };
    }
    timestamp = ts;
  }
  return {
    ok: true,
    record: {
      id: r.id ?? newId(opts.now),
      sessionId: r.session_id,
      timestamp,
      receivedAt: opts.now,
      userInput: truncate(r.user_input, opts.userInputMaxLength),
      intent: r.intent,
      toolsUsed: (r.tools_used ?? []).map(toTool),
      responseTimeMs: r.response_time_ms,
      success: r.success,
      errorType: r.error_type ?? null,
      assistant: r.assistant ?? null,
      version: r.version ?? null,
      model: r.model ?? null,
      userId: r.user_id ?? null,
      inputTokens: r.input_tokens ?? null,
      outputTokens: r.output_tokens ?? null,
      costUsd: r.cost_usd ?? null,
      feedbackScore: r.feedback_score ?? null,
      metadata: r.metadata ?? null,
    },
  };
}
