/**
 * The single validation and normalisation step shared by every ingest path (seed WebSocket,
 * HTTP batch, GraphQL): it checks the canonical (camelCase) record an adapter produced and
 * names a bad field in the caller's naming.
 */
import type { z } from 'zod';
import { interactionFields, interactionInputSchema, serverFields, toolUseFields, toolUseSchema } from '@ai-monitor/schema';
import { compileNullsInPlace } from '../model/field-access.js';
import type { Interaction, ToolUse } from '../model/interaction.js';
import { fieldPath, type Naming } from './fields.js';
import { newId } from './ids.js';
import { naiveToInstant } from './timezone.js';
import { graphqlAdapter, seedAdapter } from './adapters/index.js';

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

/**
 * The validated record completed in place into the stored form, optional fields absent as
 * `null` (the validator's output is already a fresh object; a copy per record showed in GC).
 */
const storedTool = compileNullsInPlace<ToolUse>(Object.keys(toolUseFields));
const storedInteraction = compileNullsInPlace<Interaction>([...Object.keys(interactionFields), ...Object.keys(serverFields)]);

function toTool(t: z.output<typeof toolUseSchema>): ToolUse {
  const tool = storedTool(t);
  tool.params = t.params ?? {};
  return tool;
}

/**
 * Validates and normalises a record in the caller's own naming (`opts.naming`: the seed's
 * snake_case or GraphQL's camelCase) through that protocol's adapter; never throws.
 */
export function validateRecord(input: unknown, opts: ValidateOptions): ValidationResult {
  const adapter = opts.naming === 'camel' ? graphqlAdapter : seedAdapter;
  return validateCanonical(adapter.toCanonical(input), opts);
}

/** Validates and normalises one canonical (camelCase) record; errors name fields in `opts.naming`; never throws. */
export function validateCanonical(input: unknown, opts: ValidateOptions): ValidationResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: `record: expected an object, got ${describe(input)}` };
  }
  const parsed = interactionInputSchema.safeParse(input, { reportInput: true });
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
  const record = storedInteraction(r);
  record.id = r.id ?? newId(opts.now);
  record.timestamp = timestamp;
  record.receivedAt = opts.now;
  record.userInput = truncate(r.userInput, opts.userInputMaxLength);
  record.toolsUsed = r.toolsUsed ? r.toolsUsed.map(toTool) : [];
  record.metadata = metadata;
  return { ok: true, clockSkew, record };
}
