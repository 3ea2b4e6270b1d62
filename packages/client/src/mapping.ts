import type { InteractionWire, ToolUseWire } from '@ai-monitor/schema';
// The canonical record's seed names, generated from the schema package (plain JSON: no zod at run time).
import recordFields from '@ai-monitor/schema/record-fields.json' with { type: 'json' };
import type { InteractionRecord, RecordDefaults, ToolUse } from './types.js';

/** The server keeps at most this many characters of a tool's error; longer text would refuse the record. */
const MAX_TOOL_ERROR = 2000;
/** The server's limit for labels such as `error_type`. */
const MAX_LABEL = 200;

/**
 * The one place where the SDK's camelCase record becomes the wire's snake_case record.
 * Values are passed through as given (the server validates and names the bad field); only
 * `timestamp` (Date / epoch milliseconds → ISO-8601) and tool `error` (Error → message) are
 * converted, and a tool's error text is cut to 2,000 characters (the server's limit). A
 * missing `timestamp` becomes `now`, so a record delivered late after an outage keeps the
 * time it happened. Fields left undefined are omitted. Every other field is the record's value,
 * or else the client's default for it; the field list is the canonical record's.
 */
export function toWireRecord(record: InteractionRecord, defaults: RecordDefaults = {}, now: Date = new Date()): InteractionWire {
  const own = record as Readonly<Record<string, unknown>>;
  const fallback = defaults as Readonly<Record<string, unknown>>;
  const wire: Record<string, unknown> = {};
  for (const name of recordFields.record) {
    const convert = CONVERTED[name];
    const field = camelCase(name);
    const value = convert ? convert(record, defaults, now) : (own[field] ?? fallback[field] ?? own[field]);
    if (value !== undefined) wire[name] = value;
  }
  return wire as unknown as InteractionWire;
}

/** The fields converted on the way out; the others are passed through. */
const CONVERTED: Readonly<Record<string, (record: InteractionRecord, defaults: RecordDefaults, now: Date) => unknown>> = {
  timestamp: (record, _defaults, now) => toTimestamp(record.timestamp ?? now),
  tools_used: (record) => (Array.isArray(record.toolsUsed) ? record.toolsUsed.map(toWireToolUse) : record.toolsUsed),
  metadata: (record, defaults) => mergeMetadata(defaults.metadata, record.metadata),
};

/** `session_id` → `sessionId`. */
function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

export function toWireToolUse(use: ToolUse): ToolUseWire {
  if (use === null || typeof use !== 'object') return use as unknown as ToolUseWire;
  const wire: Record<string, unknown> = { tool: use.tool };
  if (use.params !== undefined) wire.params = use.params;
  if (use.durationMs !== undefined) wire.duration_ms = use.durationMs;
  if (use.success !== undefined) wire.success = use.success;
  if (use.error !== undefined) {
    const text = use.error instanceof Error ? use.error.message || use.error.name : use.error;
    wire.error = typeof text === 'string' && text.length > MAX_TOOL_ERROR ? text.slice(0, MAX_TOOL_ERROR) : text;
  }
  return wire as unknown as ToolUseWire;
}

function toTimestamp(value: Date | string | number): string | number {
  if (value instanceof Date) {
    // An invalid Date is sent as is ("Invalid Date") so that the server rejects it by name.
    return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    // Epoch milliseconds, as Date.now() gives them.
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? value : d.toISOString();
  }
  return value;
}

function mergeMetadata(
  base: Record<string, unknown> | null | undefined,
  own: Record<string, unknown> | null | undefined,
): Record<string, unknown> | null | undefined {
  if (base && typeof base === 'object' && own && typeof own === 'object') return { ...base, ...own };
  return own !== undefined ? own : base;
}

/** The type of a thrown value, for `errorType`: its `name`, or its constructor's name when `name` is the generic "Error". */
export function errorTypeOf(err: unknown): string {
  return errorTypeName(err).slice(0, MAX_LABEL);
}

function errorTypeName(err: unknown): string {
  if (err === null || err === undefined) return 'UnknownError';
  if (typeof err === 'object' || typeof err === 'function') {
    const named = (err as { name?: unknown }).name;
    const ctor = (err as { constructor?: { name?: unknown } }).constructor?.name;
    const ctorName = typeof ctor === 'string' && ctor !== '' && ctor !== 'Object' ? ctor : undefined;
    if (typeof named === 'string' && named !== '' && named !== 'Error') return named;
    return ctorName ?? (typeof named === 'string' && named !== '' ? named : 'Error');
  }
  // A thrown primitive: "String", "Number", …
  const boxed = (Object(err) as { constructor?: { name?: string } }).constructor?.name;
  return boxed || typeof err;
}

/** JSON text of a value; falls back to replacing cycles and BigInts rather than throwing. */
export function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v !== null && typeof v === 'object') {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
      }
      return v;
    });
  }
}
