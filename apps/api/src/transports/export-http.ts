/**
 * `GET /api/export?format=csv|jsonl&<filter>`: every interaction matching the explorer's filter,
 * streamed. Rows are read in keyset batches (one short read each, on the reader pool) and
 * written as they come; the next batch is read only once the socket has taken the previous
 * one (`drain`), so memory stays bounded whatever the number of rows and however slow the client.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { snakeCase } from '@ai-monitor/schema';
import type { Interaction, InteractionFilter, InteractionSort, ToolUse } from '../model/interaction.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../log/logger.js';
import { FILTER_COLUMNS, INTERACTION_COLUMNS } from '../store/core/columns.js';
import { MAX_SEARCH_LENGTH } from '../store/core/filter.js';
import { sendJson } from './http-util.js';

export const EXPORT_PATH = '/api/export';
/** Rows per read. */
export const EXPORT_BATCH = 1000;

export class ExportRequestError extends Error {
  override name = 'ExportRequestError';
}

export interface ExportRequest {
  format: 'csv' | 'jsonl';
  filter: InteractionFilter;
  sort: InteractionSort;
  bom: boolean;
}

const SORTS: Record<string, InteractionSort['by']> = { time: 'time', responseTime: 'responseTime', tokens: 'tokens', cost: 'cost' };
const TEXT_PARAMS = ['tool', 'search', ...FILTER_COLUMNS.filter((c) => c.kind === 'text').map((c) => c.field)];
const BOOL_PARAMS = FILTER_COLUMNS.filter((c) => c.kind === 'bool').map((c) => c.field);
const KNOWN = new Set(['format', 'from', 'to', 'sort', 'direction', 'bom', ...TEXT_PARAMS, ...BOOL_PARAMS]);

/** An instant: ISO-8601 (UTC when no zone is given) or epoch milliseconds. */
function parseTime(name: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(value) || value.length === 10 ? value : `${value}Z`);
  if (!Number.isFinite(ms)) throw new ExportRequestError(`${name}: not an ISO-8601 date-time or epoch milliseconds: "${value.slice(0, 40)}"`);
  return ms;
}

/** The query string as an export request; anything unknown, repeated or malformed is named. */
export function parseExportQuery(query: URLSearchParams): ExportRequest {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (!KNOWN.has(key)) throw new ExportRequestError(`unknown parameter "${key.slice(0, 40)}"; known: ${[...KNOWN].join(', ')}`);
    if (seen.has(key)) throw new ExportRequestError(`parameter "${key}" given more than once`);
    seen.add(key);
  }
  const format = query.get('format') ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') throw new ExportRequestError(`format: must be csv or jsonl, got "${format.slice(0, 20)}"`);
  const filter: Record<string, unknown> = {};
  const from = query.get('from');
  const to = query.get('to');
  if (from !== null) filter.from = parseTime('from', from);
  if (to !== null) filter.to = parseTime('to', to);
  for (const name of TEXT_PARAMS) {
    const v = query.get(name);
    if (v !== null && v.length > 0) filter[name] = v;
  }
  if (typeof filter.search === 'string' && filter.search.length > MAX_SEARCH_LENGTH) {
    throw new ExportRequestError(`search: at most ${MAX_SEARCH_LENGTH} characters`);
  }
  for (const name of BOOL_PARAMS) {
    const v = query.get(name);
    if (v === null) continue;
    if (v !== 'true' && v !== 'false') throw new ExportRequestError(`${name}: must be true or false`);
    filter[name] = v === 'true';
  }
  const by = SORTS[query.get('sort') ?? 'time'];
  if (!by) throw new ExportRequestError(`sort: must be one of ${Object.keys(SORTS).join(', ')}`);
  const direction = query.get('direction') ?? 'desc';
  if (direction !== 'asc' && direction !== 'desc') throw new ExportRequestError('direction: must be asc or desc');
  const bom = query.get('bom');
  if (bom !== null && bom !== '1' && bom !== '0' && bom !== 'true' && bom !== 'false') throw new ExportRequestError('bom: must be 1 or 0');
  return { format, filter: filter as InteractionFilter, sort: { by, direction }, bom: bom === '1' || bom === 'true' };
}

/** Columns in the record's order, named as the seed names them (snake_case). */
const COLUMNS = INTERACTION_COLUMNS.map((c) => ({ field: c.field, name: snakeCase(c.field) }));
const TIME_FIELDS = new Set<keyof Interaction>(['timestamp', 'receivedAt']);

function toolWire(t: ToolUse): Record<string, unknown> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [snakeCase(k), v]));
}

/** One record in the seed's naming, timestamps as ISO-8601. */
export function exportObject(r: Interaction): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of COLUMNS) {
    const v = r[c.field];
    out[c.name] = TIME_FIELDS.has(c.field) ? new Date(v as number).toISOString() : c.field === 'toolsUsed' ? r.toolsUsed.map(toolWire) : v;
  }
  return out;
}

/** RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_HEADER = `${COLUMNS.map((c) => c.name).join(',')}\r\n`;

function csvRow(r: Interaction): string {
  const o = exportObject(r);
  return `${COLUMNS.map((c) => csvField(o[c.name])).join(',')}\r\n`;
}

function jsonLine(r: Interaction): string {
  return `${JSON.stringify(exportObject(r))}\n`;
}

export interface ExportDeps {
  store: Store;
  logger: Logger;
}

export async function handleExport(req: IncomingMessage, res: ServerResponse, deps: ExportDeps): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendJson(res, 405, { error: `${req.method} is not allowed on ${EXPORT_PATH}; use GET` });
  }
  let request: ExportRequest;
  try {
    request = parseExportQuery(new URL(req.url ?? '/', 'http://x').searchParams);
  } catch (err) {
    if (err instanceof ExportRequestError) return sendJson(res, 400, { error: err.message });
    throw err;
  }
  const { format, filter, sort, bom } = request;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  res.writeHead(200, {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/jsonl; charset=utf-8',
    'content-disposition': `attachment; filename="interactions-${stamp}.${format}"`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') return void res.end();
  let closed = false;
  res.on('close', () => (closed = true));
  const row = format === 'csv' ? csvRow : jsonLine;
  try {
    if (format === 'csv' && !(await write(res, `${bom ? '\uFEFF' : ''}${CSV_HEADER}`))) return;
    for await (const batch of deps.store.scanInteractions(filter, sort, EXPORT_BATCH)) {
      if (closed) return; // the client went away: stop reading (the generator is closed by the loop's return)
      let chunk = '';
      for (const r of batch) chunk += row(r);
      if (!(await write(res, chunk))) return;
    }
    res.end();
  } catch (err) {
    // The status line is sent already: end the transfer abruptly so the client sees it incomplete.
    deps.logger.error({ err }, `export failed after the response started: ${(err as Error).message}`);
    res.destroy(err as Error);
  }
}

/** Writes and waits for the socket to take it when its buffer is full; false when the client has gone. */
async function write(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  // Listeners of the event that did not come are removed (no build-up over thousands of drains).
  const ac = new AbortController();
  try {
    await Promise.race([once(res, 'drain', { signal: ac.signal }), once(res, 'close', { signal: ac.signal })]);
  } finally {
    ac.abort();
  }
  return !res.destroyed && res.writable;
}
