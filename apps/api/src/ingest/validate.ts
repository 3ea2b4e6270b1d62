/**
 * The single validation and normalisation step shared by every ingest path
 * (seed WebSocket, HTTP batch, GraphQL). Input uses the seed's snake_case names.
 */
import { z } from 'zod';
import { FEEDBACK_SCALE } from '@ai-monitor/schema';
import type { Interaction, ToolUse } from '../model/interaction.js';
import { fieldPath, type Naming } from './fields.js';
import { newId } from './ids.js';
import { naiveToInstant } from './timezone.js';

export interface ValidateOptions {
  /** user_input is stored truncated to this many characters. */
  userInputMaxLength: number;
  /** Names used in error messages. */
  naming: Naming;
  /** Receive time (epoch ms); also the default timestamp. */
  now: number;
  /** IANA zone of timestamps without a zone (validated by the config). */
  naiveTimezone: string;
  /** A timestamp more than this ahead of `now` is the sender's clock, not the event's time. */
  clockSkewToleranceMs: number;
}

/** A record whose timestamp was too far ahead: stored at its receive time instead. */
export interface ClockSkew {
  /** Sent timestamp minus receive time, ms (positive: the sender's clock is ahead). */
  skewMs: number;
  /** The sent timestamp had no zone (read in `naiveTimezone`). */
  naive: boolean;
}

export type ValidationResult =
  | { ok: true; record: Interaction; clockSkew: ClockSkew | null }
  | { ok: false; error: string };

const MAX_ID = 128;
const FEEDBACK_OUT_OF_SCALE = `must be between ${FEEDBACK_SCALE.min} and ${FEEDBACK_SCALE.max} (the feedback scale)`;
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
  feedback_score: z
    .number()
    .min(FEEDBACK_SCALE.min, FEEDBACK_OUT_OF_SCALE)
    .max(FEEDBACK_SCALE.max, FEEDBACK_OUT_OF_SCALE)
    .nullish(),
  metadata: jsonObject.nullish(),
});

/** Zone suffix: `Z` or `±hh:mm` / `±hhmm` / `±hh`. */
const HAS_ZONE = /(Z|[+-]\d{2}(:?\d{2})?)$/i;
const MIN_TS = Date.UTC(1970, 0, 1);
const MAX_TS = Date.UTC(9999, 11, 31);

export interface ParsedTimestamp {
  /** Epoch milliseconds. */
  ms: number;
  /** Text without a zone, read in the naive zone. */
  naive: boolean;
}

/**
 * ISO-8601 text or a number. Text with `Z` or an offset is exact; naive text (no zone, as
 * Python's `datetime.now().isoformat()`) is a wall-clock time in `naiveZone`, an IANA zone.
 * Numbers are epoch milliseconds, or epoch seconds when below 1e11 (Python's `time.time()`).
 */
export function parseTimestamp(value: string | number, naiveZone: string): ParsedTimestamp | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    const ms = Math.abs(value) < 1e11 ? value * 1000 : value;
    return ms >= MIN_TS && ms <= MAX_TS ? { ms: Math.round(ms), naive: false } : null;
  }
  const text = value.trim().replace(' ', 'T');
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?/.test(text)) return null;
  const naive = text.length === 10 || !HAS_ZONE.test(text);
  // A naive time is first read as if it were UTC (its wall-clock fields), then placed in its zone.
  // Date.parse wants `±hh:mm`; an hours-only offset (`+05`) gets its minutes.
  const parsed = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : naive ? `${text}Z` : text.replace(/([+-]\d{2})$/, '$1:00'));
  if (!Number.isFinite(parsed)) return null;
  const ms = naive ? naiveToInstant(parsed, naiveZone) : parsed;
  return ms >= MIN_TS && ms <= MAX_TS ? { ms, naive } : null;
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
  let clockSkew: ClockSkew | null = null;
  let metadata = r.metadata ?? null;
  if (r.timestamp !== undefined && r.timestamp !== null) {
    const ts = parseTimestamp(r.timestamp, opts.naiveTimezone);
    if (ts === null) {
      return { ok: false, error: `${fieldPath(['timestamp'], opts.naming)}: not a valid ISO-8601 date-time: ${JSON.stringify(r.timestamp).slice(0, 60)}` };
    }
    timestamp = ts.ms;
    // A time in the future is the sender's clock (or zone), not the event's: stored at the
    // receive time, so it counts in "now", with what was sent kept beside it.
    const skewMs = ts.ms - opts.now;
    if (skewMs > opts.clockSkewToleranceMs) {
      clockSkew = { skewMs, naive: ts.naive };
      timestamp = opts.now;
      metadata = { ...metadata, client_timestamp: r.timestamp, clock_skew_ms: skewMs };
    }
  }
  return {
    ok: true,
    clockSkew,
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
      metadata,
    },
  };
}
