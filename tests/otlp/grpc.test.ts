/**
 * OTLP/gRPC with the OpenTelemetry SDK's gRPC exporter: off unless AI_MONITOR_OTLP_GRPC_PORT is
 * set; the same mapping and assembly as OTLP/HTTP; the ingest token in the `authorization`
 * metadata; the body limit; malformed messages refused with INVALID_ARGUMENT, the server alive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { startServer, gql, type RunningServer } from '../helpers/app.js';
import { genAiTrace, grpcExporter, recorder, send } from './support.js';

const INGEST = 'grpc-ingest';
const READ = 'grpc-read';
const LIMIT = 64 * 1024;

let server: RunningServer;
let port: number;

beforeAll(async () => {
  server = await startServer({
    env: { AI_MONITOR_OTLP_GRPC_PORT: '0', AI_MONITOR_INGEST_TOKENS: INGEST, AI_MONITOR_READ_TOKENS: READ, AI_MONITOR_MAX_PAYLOAD_BYTES: String(LIMIT) },
  });
  port = server.app.otlpGrpcPort!;
});

afterAll(async () => {
  await server.stop();
  server.cleanup();
});

/** A raw unary call with any bytes, for what the SDK would never send. */
function rawExport(body: Buffer, metadata: Record<string, string>, options: grpc.ClientOptions = {}): Promise<{ code: grpc.status; details: string }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      md,
      (err) => {
        client.close();
        resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' });
      },
    );
  });
}

describe('OTLP/gRPC', () => {
  it('is off unless its port is set', async () => {
    const other = await startServer();
    try {
      expect(other.app.otlpGrpcPort).toBeNull();
    } finally {
      await other.stop();
      other.cleanup();
    }
  });

  it('records a GenAI trace sent with the SDK gRPC exporter, out of order and twice, once', async () => {
    const { tracer } = recorder();
    const t = genAiTrace(tracer, 'grpc-conv');
    const exp = await grpcExporter(port, { authorization: `Bearer ${INGEST}` });
    await send(exp, [t.tool1, t.chat1]);
    await send(exp, [t.root, t.tool2, t.chat2]);
    await send(exp, [t.root, t.tool2, t.chat2, t.tool1, t.chat1]);
    await exp.shutdown();
    const res = await gql<{ interaction: { sessionId: string; inputTokens: number; toolsUsed: { tool: string }[] } | null; metrics: { count: number } }>(
      server,
      `{ interaction(id: "otel-${t.traceId}") { sessionId inputTokens toolsUsed { tool } } metrics(window: "1h") { count } }`,
      undefined,
      { authorization: `Bearer ${READ}` },
    );
    expect(res.data?.interaction).toMatchObject({ sessionId: 'grpc-conv', inputTokens: 150 });
    expect(res.data?.interaction?.toolsUsed).toHaveLength(2);
    expect(res.data?.metrics.count).toBe(1);
  });

  it('refuses a missing, invalid or read-only token', async () => {
    const { tracer, ended } = recorder();
    tracer.startSpan('x').end();
    for (const [metadata, code] of [
      [{}, grpc.status.UNAUTHENTICATED],
      [{ authorization: 'Bearer wrong' }, grpc.status.UNAUTHENTICATED],
      [{ authorization: `Bearer ${READ}` }, grpc.status.PERMISSION_DENIED],
    ] as const) {
      const exp = await grpcExporter(port, metadata);
      await expect(send(exp, [...ended])).rejects.toThrow();
      await exp.shutdown();
      const raw = await rawExport(Buffer.alloc(0), metadata);
      expect(raw.code).toBe(code);
    }
  });

  it('refuses peers outside the allow-list with PERMISSION_DENIED', async () => {
    const fenced = await startServer({ env: { AI_MONITOR_OTLP_GRPC_PORT: '0', AI_MONITOR_ALLOWED_IPS: '203.0.113.7' } });
    try {
      const exp = await grpcExporter(fenced.app.otlpGrpcPort!);
      const { tracer, ended } = recorder();
      tracer.startSpan('x').end();
      await expect(send(exp, [...ended])).rejects.toThrow(/allow-list/);
      await exp.shutdown();
    } finally {
      await fenced.stop();
      fenced.cleanup();
    }
  });

  it('refuses malformed messages and messages over the limit, compressed or not, and stays up', async () => {
    const auth = { authorization: `Bearer ${INGEST}` };
    const bad = await rawExport(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), auth);
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.details).toContain('malformed protobuf');
    const big = await rawExport(Buffer.alloc(LIMIT + 10, 0), auth);
    expect(big.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    // A message that inflates past the limit, sent gzip-compressed by the client.
    const bomb = await rawExport(Buffer.alloc(8 * 1024 * 1024, 0), auth, { 'grpc.default_compression_algorithm': 2 });
    expect(bomb.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const empty = await rawExport(Buffer.alloc(0), auth);
    expect(empty.code).toBe(grpc.status.OK);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });
});
