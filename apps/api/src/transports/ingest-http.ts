/**
 * `POST /api/interactions`: HTTP batch ingest with the seed's snake_case records.
 * Body: one record, an array of records, or `{"data": [...]}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpIngestReply } from '@ai-monitor/schema';
import type { IngestService } from '../ingest/service.js';
import { BatchTooLargeError } from '../ingest/service.js';
import { httpAdapter } from '../ingest/adapters/index.js';
import { PayloadTooLargeError, readBody, sendJson } from './http-util.js';
import type { Logger } from '../log/logger.js';

export function recordsOf(body: unknown): unknown[] | null {
  if (Array.isArray(body)) return body;
  if (typeof body === 'object' && body !== null) {
    const data = (body as { data?: unknown }).data;
    if (Array.isArray(data)) return data;
    if (data !== undefined) return typeof data === 'object' && data !== null ? [data] : null;
    return [body];
  }
  return null;
}

export async function handleHttpIngest(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { ingest: IngestService; maxPayloadBytes: number; logger: Logger; address: string | null },
): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return sendJson(res, 405, { error: 'use POST with a JSON body' });
  }
  let body: unknown;
  try {
    const raw = await readBody(req, deps.maxPayloadBytes);
    body = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    if (err instanceof PayloadTooLargeError) return sendJson(res, 413, { error: err.message });
    return sendJson(res, 400, { error: `malformed JSON: ${(err as Error).message}` });
  }
  const records = recordsOf(body);
  if (!records) return sendJson(res, 400, { error: 'body must be a record, an array of records or {"data": [...]}' });
  try {
    const outcome = await deps.ingest.ingest(records, httpAdapter, deps.address);
    const reply: HttpIngestReply = { accepted: outcome.accepted.length, ids: outcome.accepted.map((a) => a.id), rejected: outcome.rejected };
    const allRejected = records.length > 0 && outcome.accepted.length === 0;
    sendJson(res, allRejected ? 400 : 200, allRejected ? { ...reply, error: outcome.rejected[0]?.error } : reply);
  } catch (err) {
    if (err instanceof BatchTooLargeError) return sendJson(res, 413, { error: err.message });
    deps.logger.error({ err }, 'HTTP ingest failed');
    sendJson(res, 503, { error: `could not store the records: ${(err as Error).message}` });
  }
}
