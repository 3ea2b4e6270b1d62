/**
 * OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export` on its own port
 * (`AI_MONITOR_OTLP_GRPC_PORT`, off by default). The same gate as HTTP (allow-list, ingest token
 * in the `authorization: Bearer` metadata, rate limit), the same body limit (gRPC's receive
 * limit, applied to the inflated message) and the same decoding and assembly as `/v1/traces`.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log/logger.js';
import type { SecurityGate } from '../security/gate.js';
import { bearerToken } from '../security/tokens.js';
import { normaliseAddress } from '../security/ip-allow.js';
import { OtlpDecodeError, decodeProtobuf, encodeExportResponse } from '../ingest/otlp/decode.js';
import type { OtlpService } from '../ingest/otlp/service.js';

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** Messages pass as bytes: decoding is ours (the same as OTLP/HTTP), not the gRPC library's. */
const identity = (b: Buffer): Buffer => b;
const SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const STATUS_OF_REFUSAL: Record<number, grpc.status> = {
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  429: grpc.status.RESOURCE_EXHAUSTED,
  503: grpc.status.UNAVAILABLE,
};

/** `ipv4:1.2.3.4:5`, `1.2.3.4:5` or `[::1]:5` → the address alone. */
export function peerAddress(peer: string): string | null {
  const p = peer.replace(/^ipv[46]:/, '');
  const v6 = /^\[([^\]]+)\]:\d+$/.exec(p);
  if (v6) return normaliseAddress(v6[1]!);
  const v4 = /^([^:]+):\d+$/.exec(p);
  return v4 ? normaliseAddress(v4[1]!) : null;
}

export interface OtlpGrpcDeps {
  otlp: OtlpService;
  gate: SecurityGate;
  logger: Logger;
  maxPayloadBytes: number;
  host: string;
  port: number;
  tls: { cert: Buffer; key: Buffer } | null;
}

export interface OtlpGrpcServer {
  port: number;
  stop(): Promise<void>;
}

export async function startOtlpGrpc(deps: OtlpGrpcDeps): Promise<OtlpGrpcServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': deps.maxPayloadBytes,
    'grpc.max_send_message_length': 64 * 1024,
  });
  const exportCall: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    const address = peerAddress(call.getPeer());
    const auth = call.metadata.get('authorization')[0];
    const admitted = deps.gate.admitIngestPeer(bearerToken(typeof auth === 'string' ? auth : null), address);
    if ('status' in admitted) {
      return callback({ code: STATUS_OF_REFUSAL[admitted.status] ?? grpc.status.PERMISSION_DENIED, details: admitted.message });
    }
    let decoded;
    try {
      decoded = decodeProtobuf(call.request, Date.now());
    } catch (err) {
      const message = err instanceof OtlpDecodeError ? err.message : `could not read the request: ${(err as Error).message}`;
      return callback({ code: grpc.status.INVALID_ARGUMENT, details: message });
    }
    deps.otlp.export(decoded.spans, address).then(
      (result) => {
        const rejected = decoded.rejected + result.rejected;
        const reasons = [...decoded.reasons, ...result.reasons];
        callback(null, encodeExportResponse('protobuf', rejected, rejected > 0 ? `${rejected} span(s) rejected: ${reasons.join('; ')}` : ''));
      },
      (err: unknown) => {
        deps.logger.error({ err }, 'OTLP/gRPC export failed');
        callback({ code: grpc.status.UNAVAILABLE, details: `could not store the spans: ${(err as Error).message}` });
      },
    );
  };
  server.addService(SERVICE, { Export: exportCall });
  const credentials = deps.tls
    ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: deps.tls.cert, private_key: deps.tls.key }], false)
    : grpc.ServerCredentials.createInsecure();
  const host = deps.host.includes(':') ? `[${deps.host}]` : deps.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${deps.port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        // Calls under way get 2 s to finish, as the HTTP server's connections do.
        const force = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
