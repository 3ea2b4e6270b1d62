/**
 * `GET /api/export`: every matching row as CSV (RFC 4180) or JSON Lines, streamed from the real
 * server; read scope; clear 400s for bad parameters; a client that stops reading stops the reads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { startServer, type RunningApp } from '../helpers/app.js';
import { storedInteraction } from '../helpers/records.js';
import type { Interaction } from '../../apps/api/src/model/interaction.js';
import type { Store } from '../../apps/api/src/store/types.js';

// Recent, so retention (30 days) leaves the rows alone while the test runs.
const T0 = Math.floor(Date.now() / 1000) * 1000 - 2 * 86_400_000;

/** A minimal RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field), rows.push(row), (row = []), (field = ''), i++;
    } else field += ch;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

function records(n: number, from = 0): Interaction[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return storedInteraction({
      id: `e-${String(i).padStart(7, '0')}`,
      sessionId: `s${i % 13}`,
      timestamp: T0 + i * 1000,
      userInput: i % 3 === 0 ? `查询订单 ${i}` : `order ${i}, please`,
      intent: i % 2 ? 'order' : 'chat',
      success: i % 5 !== 0,
      errorType: i % 5 === 0 ? 'timeout' : null,
      costUsd: i % 4 ? 0.001 * i : null,
      toolsUsed: i % 2 ? [{ tool: 'db', params: { q: i }, durationMs: 2, success: true, error: null }] : [],
    });
  });
}

async function insert(store: Store, rows: Interaction[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) await store.insertInteractions(rows.slice(i, i + 5000));
}

describe('GET /api/export', () => {
  let server: RunningApp | null = null;
  afterEach(async () => {
    await server?.stop();
    server?.cleanup();
    server = null;
  });

  it('CSV: quoted per RFC 4180, UTF-8, optional BOM, every matching row in order', async () => {
    server = await startServer();
    const store = server.app.services.store;
    const tricky = storedInteraction({
      id: 'tricky',
      timestamp: T0 - 1000,
      userInput: 'he said "hi", then\r\nleft; 北京, naïve',
      intent: 'chat',
      metadata: { note: 'a,b', quote: '"' },
    });
    await insert(store, [tricky, ...records(50)]);
    const res = await fetch(`${server.url}/api/export?format=csv&intent=chat`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="interactions-.*\.csv"$/);
    const text = await res.text();
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    const [header, ...rows] = parseCsv(text);
    expect(header!.slice(0, 5)).toEqual(['id', 'session_id', 'timestamp', 'received_at', 'user_input']);
    expect(header).toContain('tools_used');
    expect(header).toContain('environment');
    expect(rows.every((r) => r.length === header!.length)).toBe(true);
    const col = (name: string): number => header!.indexOf(name);
    // Newest first: the chat rows 48, 46, …, 0, then the tricky one (oldest).
    expect(rows.map((r) => r[col('id')])).toEqual([...records(50).filter((r) => r.intent === 'chat').map((r) => r.id).reverse(), 'tricky']);
    const last = rows[rows.length - 1]!;
    expect(last[col('user_input')]).toBe(tricky.userInput);
    expect(JSON.parse(last[col('metadata')]!)).toEqual(tricky.metadata);
    expect(last[col('timestamp')]).toBe(new Date(T0 - 1000).toISOString());
    expect(last[col('error_type')]).toBe('');
    expect(rows[0]![col('success')]).toBe('true');

    const bom = await (await fetch(`${server.url}/api/export?format=csv&bom=1&intent=none`)).arrayBuffer();
    expect([...new Uint8Array(bom).slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(parseCsv(new TextDecoder().decode(bom).slice(1))).toHaveLength(1); // the header only
  });

  it('JSON Lines: one object per matching row, with search, sort and time range', async () => {
    server = await startServer();
    await insert(server.app.services.store, records(300));
    const url = `${server.url}/api/export?format=jsonl&search=${encodeURIComponent('订单')}&from=${new Date(T0 + 30_000).toISOString()}&to=${T0 + 200_000}&sort=cost&direction=asc&success=true`;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/jsonl/);
    const lines = (await res.text()).split('\n');
    expect(lines.pop()).toBe('');
    const got = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const want = records(300)
      .map((r, seq) => ({ r, seq }))
      .filter(({ r }) => r.userInput.includes('订单') && r.timestamp >= T0 + 30_000 && r.timestamp < T0 + 200_000 && r.success)
      .sort((a, b) => (a.r.costUsd ?? 0) - (b.r.costUsd ?? 0) || a.seq - b.seq);
    expect(got.map((o) => o.id)).toEqual(want.map(({ r }) => r.id));
    expect(got[0]).toMatchObject({ session_id: want[0]!.r.sessionId, success: true, tools_used: [] });
    const withTool = got.find((o) => (o.tools_used as unknown[]).length > 0)!;
    expect(withTool.tools_used).toEqual([{ tool: 'db', params: { q: expect.any(Number) }, duration_ms: 2, success: true, error: null }]);
  });

  it('names bad parameters with 400 and needs the read scope', async () => {
    server = await startServer({ env: { AI_MONITOR_READ_TOKENS: 'reader', AI_MONITOR_INGEST_TOKENS: 'writer' } });
    const get = (q: string, token = 'reader') => fetch(`${server!.url}/api/export${q}`, { headers: { authorization: `Bearer ${token}` } });
    for (const [q, message] of [
      ['?format=xml', /format: must be csv or jsonl/],
      ['?color=red', /unknown parameter "color"/],
      ['?intent=a&intent=b', /"intent" given more than once/],
      ['?from=yesterday', /from: not an ISO-8601 date-time/],
      ['?success=maybe', /success: must be true or false/],
      ['?sort=name', /sort: must be one of/],
      [`?search=${'x'.repeat(1001)}`, /search: at most 1000 characters/],
    ] as const) {
      const res = await get(q);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    expect((await fetch(`${server.url}/api/export`)).status).toBe(401);
    expect((await get('', 'writer')).status).toBe(403);
    expect((await get('?format=jsonl')).status).toBe(200);
    expect((await fetch(`${server.url}/api/export`, { method: 'POST', headers: { authorization: 'Bearer reader' } })).status).toBe(405);
  });

  it('streams a large export completely, and a client that stops reading stops the reads (bounded memory)', async () => {
    server = await startServer();
    const store = server.app.services.store;
    const N = 120_000;
    for (let i = 0; i < N; i += 20_000) await insert(store, records(20_000, i));

    // Count the batches the export reads (a spy on the real store, which still does the work).
    let batches = 0;
    const scan = store.scanInteractions.bind(store);
    store.scanInteractions = async function* (...args: Parameters<Store['scanInteractions']>) {
      for await (const b of scan(...args)) {
        batches++;
        yield b;
      }
    };

    // A complete export: every row once.
    const res = await fetch(`${server.url}/api/export?format=jsonl`);
    let lines = 0;
    let tail = '';
    const seen = new Set<string>();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = tail + Buffer.from(chunk).toString('utf8');
      const parts = text.split('\n');
      tail = parts.pop()!;
      for (const p of parts) seen.add((JSON.parse(p) as { id: string }).id), lines++;
    }
    expect(tail).toBe('');
    expect(lines, server.output().split('\n').filter((l) => /error|fail/i.test(l)).join('\n')).toBe(N);
    expect(seen.size).toBe(N);
    const all = batches;
    expect(all).toBe(Math.ceil(N / 1000));

    // A client that reads the first bytes and then stops: the server stops reading batches.
    batches = 0;
    const paused = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`${server!.url}/api/export?format=csv`, (r) => resolve(r)).on('error', reject);
    });
    // Line feeds end the header and each row (no field here holds one).
    let lineFeeds = 0;
    const countLines = (chunk: Buffer): void => {
      for (const byte of chunk) if (byte === 0x0a) lineFeeds++;
    };
    await new Promise<void>((resolve) =>
      paused.once('data', (chunk: Buffer) => {
        countLines(chunk);
        resolve();
      }),
    );
    paused.pause();
    // Wait until the reads stop (the socket buffers are full), then check how far they got.
    let last = -1;
    for (let i = 0; i < 200 && batches !== last; i++) {
      last = batches;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(batches).toBeLessThan(all / 2);
    // Resumed, it gets every row.
    paused.on('data', countLines);
    paused.resume();
    await new Promise((r) => paused.once('end', r));
    expect(lineFeeds - 1).toBe(N);
  });
});
