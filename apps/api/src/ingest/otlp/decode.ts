/**
 * OTLP trace export requests, protobuf (with the official opentelemetry-proto messages, vendored
 * in apps/api/proto with their licence) and OTLP/JSON, turned into stored spans; and the
 * `ExportTraceServiceResponse` / `google.rpc.Status` replies in the request's encoding.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { SPAN_KINDS, SPAN_STATUS_CODES, type Attributes, type Span, type SpanEvent, type SpanKind, type SpanLink, type SpanStatusCode } from '../../model/span.js';

/** apps/api/proto, from src/ingest/otlp or dist/ingest/otlp alike. */
const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
  // google.rpc.Status, the error body of OTLP/HTTP (code, message; details left empty).
  root.add(
    new protobuf.Namespace('google').add(
      new protobuf.Namespace('rpc').add(new protobuf.Type('Status').add(new protobuf.Field('code', 1, 'int32')).add(new protobuf.Field('message', 2, 'string'))),
    ),
  );
  return root;
}

const root = loadRoot();
export const ExportRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
export const ExportResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
const RpcStatus = root.lookupType('google.rpc.Status');

export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}

/** The spans of one request that were kept, and those refused with why. */
export interface DecodedExport {
  spans: Span[];
  rejected: number;
  /** First reasons of rejection, for `partial_success.error_message`. */
  reasons: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** Decodes a protobuf body; a truncated or malformed message throws OtlpDecodeError. */
export function decodeProtobuf(body: Uint8Array, receivedAt: number): DecodedExport {
  let msg: protobuf.Message;
  try {
    msg = ExportRequest.decode(body);
  } catch (err) {
    throw new OtlpDecodeError(`malformed protobuf ExportTraceServiceRequest: ${(err as Error).message}`);
  }
  return collect(msg as unknown as Obj, receivedAt);
}

/** Decodes an OTLP/JSON body (lowerCamelCase keys, hex ids, enums as integers). */
export function decodeJson(body: Buffer, receivedAt: number): DecodedExport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new OtlpDecodeError(`malformed JSON: ${(err as Error).message}`);
  }
  if (!isObj(parsed)) throw new OtlpDecodeError('body must be a JSON object (ExportTraceServiceRequest)');
  const rs = parsed.resourceSpans;
  if (rs !== undefined && !Array.isArray(rs)) throw new OtlpDecodeError('resourceSpans must be an array');
  return collect(parsed, receivedAt);
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Walks resourceSpans → scopeSpans → spans; protobufjs messages and parsed JSON have the same shape. */
function collect(req: Obj, receivedAt: number): DecodedExport {
  const out: DecodedExport = { spans: [], rejected: 0, reasons: [] };
  for (const rs of list(req.resourceSpans)) {
    if (!isObj(rs)) continue;
    const resource = attributesOf(isObj(rs.resource) ? rs.resource.attributes : undefined);
    for (const ss of list(rs.scopeSpans)) {
      if (!isObj(ss)) continue;
      const scope = isObj(ss.scope) ? ss.scope : {};
      const withScope: Attributes = { ...resource };
      if (typeof scope.name === 'string' && scope.name !== '') withScope['otel.scope.name'] = scope.name;
      if (typeof scope.version === 'string' && scope.version !== '') withScope['otel.scope.version'] = scope.version;
      for (const raw of list(ss.spans)) {
        const span = isObj(raw) ? toSpan(raw, withScope, receivedAt) : 'span must be an object';
        if (typeof span === 'string') {
          out.rejected++;
          if (out.reasons.length < 3) out.reasons.push(span);
        } else out.spans.push(span);
      }
    }
  }
  return out;
}

/** One span, or why it is refused. */
function toSpan(s: Obj, resource: Attributes, receivedAt: number): Span | string {
  const traceId = idOf(s.traceId, 16);
  const spanId = idOf(s.spanId, 8);
  if (!traceId) return 'span with a missing or invalid trace_id (16 bytes, not all zero)';
  if (!spanId) return `span of trace ${traceId} with a missing or invalid span_id (8 bytes, not all zero)`;
  const noParent = s.parentSpanId === undefined || isEmptyId(s.parentSpanId);
  const parent = noParent ? null : idOf(s.parentSpanId, 8);
  if (!noParent && parent === null) return `span ${spanId}: invalid parent_span_id (8 bytes)`;
  const start = nanosToMs(s.startTimeUnixNano);
  const end = nanosToMs(s.endTimeUnixNano);
  if (start === null || end === null) return `span ${spanId}: start_time_unix_nano and end_time_unix_nano must be unsigned 64-bit integers`;
  if (start === 0) return `span ${spanId}: start_time_unix_nano is missing`;
  const status = isObj(s.status) ? s.status : {};
  const message = typeof status.message === 'string' && status.message !== '' ? status.message : null;
  return {
    traceId,
    spanId,
    parentSpanId: parent,
    interactionId: null,
    name: typeof s.name === 'string' ? s.name : '',
    kind: enumOf(s.kind, SPAN_KINDS, 'SPAN_KIND_') as SpanKind,
    startTime: start,
    endTime: Math.max(start, end),
    statusCode: enumOf(status.code, SPAN_STATUS_CODES, 'STATUS_CODE_') as SpanStatusCode,
    statusMessage: message,
    attributes: attributesOf(s.attributes),
    events: list(s.events).filter(isObj).map(eventOf),
    links: list(s.links).filter(isObj).map(linkOf).filter((l): l is SpanLink => l !== null),
    resource,
    receivedAt,
  };
}

function eventOf(e: Obj): SpanEvent {
  return { name: typeof e.name === 'string' ? e.name : '', time: nanosToMs(e.timeUnixNano) ?? 0, attributes: attributesOf(e.attributes) };
}

function linkOf(l: Obj): SpanLink | null {
  const traceId = idOf(l.traceId, 16);
  const spanId = idOf(l.spanId, 8);
  return traceId && spanId ? { traceId, spanId, attributes: attributesOf(l.attributes) } : null;
}

function isEmptyId(v: unknown): boolean {
  // protobufjs leaves an unset bytes field at its prototype default, an empty array.
  return v === null || (typeof v === 'string' && v === '') || ((v instanceof Uint8Array || Array.isArray(v)) && v.length === 0);
}

/** Bytes (protobuf) or hex text (JSON) of `bytes` length, not all zero, as lowercase hex. */
function idOf(v: unknown, bytes: number): string | null {
  let hex: string;
  if (v instanceof Uint8Array) {
    if (v.length !== bytes) return null;
    hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  } else if (typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(v)) hex = v.toLowerCase();
  else return null;
  return /^0+$/.test(hex) ? null : hex;
}

/** fixed64 nanoseconds (Long, number or decimal text) → epoch ms; null when not an unsigned integer. */
export function nanosToMs(v: unknown): number | null {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v / 1e6 : null;
  if (typeof v === 'string') return /^\d{1,20}$/.test(v) ? Number(v) / 1e6 : null;
  if (isObj(v) && typeof v.low === 'number' && typeof v.high === 'number') return ((v.high >>> 0) * 4294967296 + (v.low >>> 0)) / 1e6;
  return null;
}

/** An enum as its integer (protobuf, OTLP/JSON) or its proto name (`SPAN_KIND_CLIENT`); unknown values are the first. */
function enumOf(v: unknown, names: readonly string[], prefix: string): string {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return names[v]!;
  if (typeof v === 'string') {
    const name = v.startsWith(prefix) ? v.slice(prefix.length) : v;
    if (names.includes(name)) return name;
  }
  return names[0]!;
}

/** KeyValue list → plain object; later duplicates win. */
export function attributesOf(kvs: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of list(kvs)) {
    if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value, 0);
  }
  return out;
}

/** Nesting kept for AnyValue (arrays and kvlists), below the record's JSON depth limit. */
const MAX_VALUE_DEPTH = 16;

function anyValue(v: unknown, depth: number): unknown {
  if (!isObj(v)) return null;
  // protobufjs messages name their set oneof member in `value`; JSON has only the set key.
  const key = typeof v.value === 'string' && v.value.endsWith('Value') ? v.value : Object.keys(v).find((k) => k.endsWith('Value'));
  const x = key ? v[key] : undefined;
  switch (key) {
    case 'stringValue':
      return typeof x === 'string' ? x : null;
    case 'boolValue':
      return x === true;
    case 'intValue':
      return intOf(x);
    case 'doubleValue':
      return typeof x === 'number' ? x : typeof x === 'string' ? Number(x) : null;
    case 'bytesValue':
      return x instanceof Uint8Array ? Buffer.from(x).toString('base64') : typeof x === 'string' ? x : null;
    case 'arrayValue':
      return depth >= MAX_VALUE_DEPTH || !isObj(x) ? null : list(x.values).map((e) => anyValue(e, depth + 1));
    case 'kvlistValue':
      return depth >= MAX_VALUE_DEPTH || !isObj(x) ? null : kvlist(x.values, depth + 1);
    default:
      return null;
  }
}

function kvlist(values: unknown, depth: number): Attributes {
  const out: Attributes = {};
  for (const kv of list(values)) if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value, depth);
  return out;
}

function intOf(x: unknown): number | null {
  if (typeof x === 'number') return x;
  if (typeof x === 'string') return /^-?\d+$/.test(x) ? Number(x) : null;
  if (isObj(x) && typeof x.low === 'number' && typeof x.high === 'number') return x.high * 4294967296 + (x.low >>> 0);
  return null;
}

export type OtlpEncoding = 'protobuf' | 'json';

/** `ExportTraceServiceResponse`; `partial_success` only when something was rejected. */
export function encodeExportResponse(encoding: OtlpEncoding, rejected: number, errorMessage: string): Buffer {
  const partial = rejected > 0 || errorMessage !== '' ? { rejectedSpans: rejected, errorMessage } : null;
  if (encoding === 'json') return Buffer.from(JSON.stringify(partial ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage } } : {}));
  return Buffer.from(ExportResponse.encode(ExportResponse.fromObject(partial ? { partialSuccess: partial } : {})).finish());
}

/** `google.rpc.Status`, the error body of OTLP/HTTP, in the request's encoding. */
export function encodeStatus(encoding: OtlpEncoding, code: number, message: string): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  return Buffer.from(RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish());
}

/** For tests and clients: decodes a protobuf reply. */
export function decodeExportResponse(body: Uint8Array): { rejectedSpans: number; errorMessage: string } {
  const o = ExportResponse.toObject(ExportResponse.decode(body), { longs: Number, defaults: true }) as { partialSuccess?: { rejectedSpans?: number; errorMessage?: string } };
  return { rejectedSpans: o.partialSuccess?.rejectedSpans ?? 0, errorMessage: o.partialSuccess?.errorMessage ?? '' };
}
