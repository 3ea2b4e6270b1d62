/** Plain HTTP routes: batch ingest, health, Prometheus metrics, the printed schema. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { REPO_ROOT, gql, startServer, type RunningServer } from '../helpers/app.js';
import { seedRecord } from '../helpers/seed-client.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
  server.cleanup();
});

async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/api/interactions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('POST /api/interactions', () => {
  it('accepts one record, an array, or {"data": [...]}', async () => {
    expect((await post(JSON.stringify(seedRecord({ session_id: 'h1' })))).body).toMatchObject({ accepted: 1, rejected: [] });
    expect((await post(JSON.stringify([seedRecord({ session_id: 'h1' }), seedRecord({ session_id: 'h1' })]))).body).toMatchObject({ accepted: 2 });
    expect((await post(JSON.stringify({ data: [seedRecord({ session_id: 'h1' })] }))).body).toMatchObject({ accepted: 1 });
    expect((await post(JSON.stringify({ data: [] }))).body).toMatchObject({ accepted: 0, rejected: [] });
    const r = await gql<{ session: { interactionCount: number } }>(server, '{ session(id: "h1") { interactionCount } }');
    expect(r.data!.session.interactionCount).toBe(4);
  });

  it('reports rejected records per index and keeps the valid ones', async () => {
    const r = await post(JSON.stringify({ data: [seedRecord({ session_id: 'h2' }), { ...seedRecord(), intent: 42 }] }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 1, rejected: [{ index: 1, error: 'intent: expected string, got number' }] });
  });

  it('answers bad bodies with 4xx and a clear error', async () => {
    expect(await post('{"data": [')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^malformed JSON/) } });
    expect(await post('"just a string"')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/must be a record, an array/) } });
    expect(await post(JSON.stringify([{ nope: 1 }]))).toMatchObject({ status: 400, body: { accepted: 0, error: 'session_id: is required' } });
    const big = JSON.stringify({ data: [seedRecord({ user_input: 'z'.repeat(2_000_000) })] });
    expect((await post(big)).status).toBe(413);
    const tooMany = JSON.stringify({ data: Array.from({ length: 5001 }, () => ({})) });
    expect(await post(tooMany)).toMatchObject({ status: 413, body: { error: expect.stringMatching(/exceeds the limit of 5000/) } });
    const get = await fetch(`${server.url}/api/interactions`);
    expect(get.status).toBe(405);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});

describe('observability', () => {
  it('GET /health answers as the seed describes', async () => {
    const body = (await (await fetch(`${server.url}/health`)).json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['connections', 'database', 'status', 'timestamp']);
    expect(body).toMatchObject({ status: 'healthy', database: true });
    expect(new Date(body.timestamp as string).toISOString()).toBe(body.timestamp);
  });

  it('GET /metrics exposes Prometheus text with ingest counters and assistant metrics', async () => {
    await post(JSON.stringify(seedRecord({ timestamp: new Date().toISOString() })));
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/ai_monitor_ingest_accepted_total\{transport="http"\} [1-9]/);
    expect(text).toMatch(/ai_monitor_assistant_5m\{measure="interactions"\} [1-9]/);
    expect(text).toMatch(/ai_monitor_process_resident_memory_bytes \d+/);
    expect(text).toMatch(/ai_monitor_connections\{protocol="seed"\} 0/);
  });
});

describe('schema', () => {
  it('packages/schema/schema.graphql matches the code-first schema', () => {
    const printed = execFileSync(process.execPath, [join(REPO_ROOT, 'apps/api/dist/schema/print.js')], { encoding: 'utf8' });
    const committed = readFileSync(join(REPO_ROOT, 'packages/schema/schema.graphql'), 'utf8');
    expect(committed, 'schema.graphql is out of date: run npm run schema:print').toBe(printed);
  });
});
