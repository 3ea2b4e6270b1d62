/**
 * `POST /v1/traces`: OTLP/HTTP trace export, protobuf (`application/x-protobuf`) or JSON
 * (`application/json`), optionally gzip-compressed. Replies `ExportTraceServiceResponse` in the
 * request's encoding, with `partial_success` naming what was rejected and why; errors are a
 * `google.rpc.Status` in the same encoding. The gate (allow-list, ingest token, rate limit) has
 * admitted the request before it gets here; the body limit applies before and after inflating.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Logger } from '../log/logger.js';
import { PayloadTooLargeError, readBody } from './http-util.js';
import { OtlpDecodeError, decodeJson, decodeProtobuf, encodeExportResponse, encodeStatus, type DecodedExport, type OtlpEncoding } from '../ingest/otlp/decode.js';
import type { OtlpService } from '../ingest/otlp/service.js';

export const OTLP_TRACES_PATH = '/v1/traces';

const inflate = promisify(gunzip);

const CONTENT_TYPES: Record<string, OtlpEncoding> = { 'application/x-protobuf': 'protobuf', 'application/protobuf': 'protobuf', 'application/json': 'json' };

export interface OtlpHttpDeps {
  otlp: OtlpService;
  maxPayloadBytes: number;
  logger: Logger;
  address: string | null;
}

function reply(res: ServerResponse, status: number, encoding: OtlpEncoding, body: Buffer): void {
  if (status === 413) res.shouldKeepAlive = false;
  res.writeHead(status, {
    'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
    'content-length': body.length,
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** gRPC-style codes in the Status body, as OTLP/HTTP error replies carry them. */
const RPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, UNAVAILABLE: 14 } as const;

function fail(res: ServerResponse, status: number, encoding: OtlpEncoding, code: number, message: string): void {
  reply(res, status, encoding, encodeStatus(encoding, code, message));
}

/** Inflates gzip without ever holding more than `limit` bytes of output: a gzip bomb is refused. */
async function decompress(body: Buffer, encoding: string, limit: number): Promise<Buffer> {
  if (encoding === '' || encoding === 'identity') return body;
  if (encoding !== 'gzip') throw new UnsupportedEncodingError(`unsupported Content-Encoding ${JSON.stringify(encoding)}: send gzip or none`);
  try {
    return await inflate(body, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PayloadTooLargeError(`gzip body inflates beyond the limit of ${limit} bytes`);
    }
    throw new OtlpDecodeError(`malformed gzip body: ${(err as Error).message}`);
  }
}

class UnsupportedEncodingError extends Error {
  override name = 'UnsupportedEncodingError';
}

export async function handleOtlpHttp(req: IncomingMessage, res: ServerResponse, deps: OtlpHttpDeps): Promise<void> {
  const mediaType = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const encoding = CONTENT_TYPES[mediaType];
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return fail(res, 405, encoding ?? 'json', RPC.UNIMPLEMENTED, 'use POST with an OTLP ExportTraceServiceRequest');
  }
  if (!encoding) {
    return fail(res, 415, 'json', RPC.INVALID_ARGUMENT, `unsupported Content-Type ${JSON.stringify(mediaType)}: send application/x-protobuf or application/json`);
  }
  let decoded: DecodedExport;
  try {
    const raw = await readBody(req, deps.maxPayloadBytes);
    const body = await decompress(raw, String(req.headers['content-encoding'] ?? '').trim().toLowerCase(), deps.maxPayloadBytes);
    const now = Date.now();
    decoded = encoding === 'json' ? decodeJson(body, now) : decodeProtobuf(body, now);
  } catch (err) {
    if (err instanceof PayloadTooLargeError) return fail(res, 413, encoding, RPC.RESOURCE_EXHAUSTED, err.message);
    if (err instanceof UnsupportedEncodingError) return fail(res, 415, encoding, RPC.INVALID_ARGUMENT, err.message);
    if (err instanceof OtlpDecodeError) return fail(res, 400, encoding, RPC.INVALID_ARGUMENT, err.message);
    // The request itself failed (aborted, reset): answered if the socket still listens.
    return fail(res, 400, encoding, RPC.INVALID_ARGUMENT, `could not read the request body: ${(err as Error).message}`);
  }
  try {
    const result = await deps.otlp.export(decoded.spans, deps.address);
    const rejected = decoded.rejected + result.rejected;
    const reasons = [...decoded.reasons, ...result.reasons];
    const message = rejected > 0 ? `${rejected} span(s) rejected: ${reasons.join('; ')}` : '';
    reply(res, 200, encoding, encodeExportResponse(encoding, rejected, message));
  } catch (err) {
    deps.logger.error({ err }, 'OTLP export failed');
    // 503 tells the exporter to retry; the spans stored so far are kept and deduplicated then.
    fail(res, 503, encoding, RPC.UNAVAILABLE, `could not store the spans: ${(err as Error).message}`);
  }
}
