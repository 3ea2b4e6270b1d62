/**
 * Hostile input on `POST /v1/traces`: malformed and mutated protobuf, arbitrary JSON, wrong
 * content types and encodings, oversized and gzip-bomb bodies, bad tokens. Each gets a clear
 * error naming the problem (a google.rpc.Status in the request's encoding); after every batch
 * of cases the server is healthy, accepts a real SDK export, and still holds every interaction
 * accepted before. fast-check, seeded and bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { startServer, gql, type RunningServer } from '../helpers/app.js';
import { decodeExportResponse } from '../../apps/api/src/ingest/otlp/decode.js';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { exporter, recorder, send } from './support.js';

const INGEST = 'otlp-ingest-token';
const READ = 'otlp-read-token';
const LIMIT = 256 * 1024;
const FC = { seed: 1414, numRuns: 40 } as const;

let server: RunningServer;
const accepted = new Set<string>();

beforeAll(async () => {
  server = await startServer({
    env: { AI_MONITOR_INGEST_TOKENS: INGEST, AI_MONITOR_READ_TOKENS: READ, AI_MONITOR_MAX_PAYLOAD_BYTES: String(LIMIT) },
  });
});

afterAll(async () => {
  await server.stop();
  server.cleanup();
});

async function post(body: Uint8Array | string, headers: Record<string, string>, token: string | null = INGEST): Promise<{ status: number; type: string; body: Buffer }> {
  const res = await fetch(`${server.url}/v1/traces`, {
    method: 'POST',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : Buffer.from(body),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
}

const PB = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

/** A real SDK export's request bodies (protobuf and JSON) of one small trace. */
function sampleBodies(): { proto: Uint8Array; json: Uint8Array; traceId: string } {
  const { tracer, ended } = recorder();
  const root = tracer.startSpan('invoke_agent', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'fuzz-agent' } });
  root.end();
  return { proto: ProtobufTraceSerializer.serializeRequest(ended)!, json: JsonTraceSerializer.serializeRequest(ended)!, traceId: root.spanContext().traceId };
}

/** The invariant after each batch: healthy, a real export becomes an interaction, nothing accepted lost. */
async function invariant(): Promise<void> {
  const health = await fetch(`${server.url}/health`);
  expect(health.status).toBe(200);
  const { tracer, ended } = recorder();
  const root = tracer.startSpan('control', { attributes: { 'ai_monitor.intent': 'control' } });
  root.end();
  await send(exporter(server.url, 'protobuf', { authorization: `Bearer ${INGEST}` }), [...ended]);
  accepted.add(`otel-${root.spanContext().traceId}`);
  for (const id of accepted) {
    const r = await gql<{ interaction: { id: string } | null }>(server, `{ interaction(id: "${id}") { id } }`, undefined, { authorization: `Bearer ${READ}` });
    expect(r.data?.interaction?.id, `accepted interaction ${id} is stored`).toBe(id);
  }
}

describe('OTLP/HTTP under hostile input', () => {
  it('refuses a missing, invalid or read-only token', async () => {
    const { proto } = sampleBodies();
    expect((await post(proto, PB, null)).status).toBe(401);
    const bad = await post(proto, PB, 'nope');
    expect(bad.status).toBe(401);
    expect(bad.body.toString()).toContain('invalid token');
    const readOnly = await post(proto, PB, READ);
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.toString()).toContain('ingest');
  });

  it('answers in the request encoding, with partial_success naming rejected spans', async () => {
    const { proto, json } = sampleBodies();
    const okPb = await post(proto, PB);
    expect(okPb.status).toBe(200);
    expect(okPb.type).toBe('application/x-protobuf');
    expect(decodeExportResponse(okPb.body)).toEqual({ rejectedSpans: 0, errorMessage: '' });
    const doc = JSON.parse(Buffer.from(json).toString()) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    const spans = doc.resourceSpans[0]!.scopeSpans[0]!.spans;
    spans.push({ ...spans[0], traceId: 'zz', spanId: 'abcdefabcdefabcd' });
    spans.push({ ...spans[0], spanId: 'abcdefabcdefabce', startTimeUnixNano: undefined });
    const partial = await post(JSON.stringify(doc), JSON_CT);
    expect(partial.status).toBe(200);
    expect(partial.type).toBe('application/json');
    const reply = JSON.parse(partial.body.toString()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    expect(reply.partialSuccess.rejectedSpans).toBe('2');
    expect(reply.partialSuccess.errorMessage).toContain('invalid trace_id');
    expect(reply.partialSuccess.errorMessage).toContain('start_time_unix_nano is missing');
  });

  it('refuses other content types (415) and content encodings', async () => {
    const { proto } = sampleBodies();
    for (const type of ['text/plain', 'application/xml', '', 'application/grpc']) {
      const r = await post(proto, { 'content-type': type });
      expect(r.status).toBe(415);
      expect(r.body.toString()).toContain('unsupported Content-Type');
    }
    const br = await post(proto, { ...PB, 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect(br.body.toString()).toContain('unsupported Content-Encoding');
  });

  it('accepts gzip, refuses oversized bodies and gzip bombs with 413 without inflating them', async () => {
    const { proto, traceId } = sampleBodies();
    const gz = await post(gzipSync(proto), { ...PB, 'content-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    accepted.add(`otel-${traceId}`);
    const big = await post(new Uint8Array(LIMIT + 1), PB);
    expect(big.status).toBe(413);
    // 64 MiB of zeros compress to about 64 KiB: under the limit on the wire, far over it inflated.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(LIMIT);
    const r = await post(bomb, { ...JSON_CT, 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body.toString()).message).toContain('inflates beyond the limit');
    const broken = await post(Buffer.from('not gzip at all'), { ...PB, 'content-encoding': 'gzip' });
    expect(broken.status).toBe(400);
    await invariant();
  });

  it('answers malformed, truncated and mutated protobuf with 400 or a valid reply, never more', async () => {
    const { proto } = sampleBodies();
    const mutated = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.nat({ max: proto.length - 1 }).map((n) => proto.slice(0, n)),
      fc.tuple(fc.nat({ max: proto.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
        const copy = Uint8Array.from(proto);
        copy[i] = b;
        return copy;
      }),
    );
    await fc.assert(
      fc.asyncProperty(mutated, async (body) => {
        const r = await post(body, PB);
        expect([200, 400]).toContain(r.status);
        expect(r.type).toBe('application/x-protobuf');
        if (r.status === 200) decodeExportResponse(r.body);
      }),
      FC,
    );
    const truncated = await post(proto.slice(0, proto.length - 3), PB);
    expect(truncated.status).toBe(400);
    await invariant();
  });

  it('answers arbitrary JSON with 400 or a valid reply naming what it rejected', async () => {
    const { json } = sampleBodies();
    const doc = JSON.parse(Buffer.from(json).toString()) as Record<string, unknown>;
    const bodies = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc.record({ resourceSpans: fc.array(fc.record({ scopeSpans: fc.array(fc.record({ spans: fc.array(fc.object(), { maxLength: 3 }) }), { maxLength: 2 }) }), { maxLength: 2 }) }).map((v) => JSON.stringify(v)),
      fc.constant(JSON.stringify(doc)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const r = await post(body, JSON_CT);
        expect([200, 400]).toContain(r.status);
        const reply = JSON.parse(r.body.toString()) as Record<string, unknown>;
        if (r.status === 400) expect(reply.message).toEqual(expect.any(String));
      }),
      FC,
    );
    await invariant();
  });
});

describe('OTLP/HTTP behind the rate limit and the allow-list', () => {
  it('answers 429 with Retry-After beyond the rate limit, as other paths', async () => {
    const limited = await startServer({ env: { AI_MONITOR_RATE_LIMIT: '1', AI_MONITOR_RATE_LIMIT_BURST: '2' } });
    try {
      const { proto } = sampleBodies();
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${limited.url}/v1/traces`, { method: 'POST', headers: PB, body: Buffer.from(proto) });
        statuses.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get('retry-after');
        await res.arrayBuffer();
      }
      expect(statuses.slice(0, 2)).toEqual([200, 200]);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    } finally {
      await limited.stop();
      limited.cleanup();
    }
  });

  it('refuses connections from outside the allow-list', async () => {
    const fenced = await startServer({ env: { AI_MONITOR_ALLOWED_IPS: '203.0.113.7' } });
    try {
      const { proto } = sampleBodies();
      await expect(fetch(`${fenced.url}/v1/traces`, { method: 'POST', headers: PB, body: Buffer.from(proto) })).rejects.toThrow();
    } finally {
      await fenced.stop();
      fenced.cleanup();
    }
  });
});
