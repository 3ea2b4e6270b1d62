/**
 * The security gate every transport passes through before any work is done: IP allow-list,
 * token resolution and per-client rate limits, with one set of rules and messages for HTTP,
 * GraphQL over HTTP, graphql-ws and the seed WebSocket protocol.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import client from 'prom-client';
import type { Logger } from '../log/logger.js';
import { IpAllowList, clientAddress, isLoopbackHost } from './ip-allow.js';
import { RateLimiter } from './rate-limit.js';
import { TokenStore, bearerToken, scopeDenial, type Principal, type Scope, type TokenLists } from './tokens.js';

export interface GateConfig extends TokenLists {
  allowedIps: readonly string[];
  trustProxy: boolean;
  rateLimitPerSecond: number;
  rateLimitBurst?: number | undefined;
  /** Most open WebSocket connections (both protocols together). */
  maxConnections: number;
}

export type RefusalReason = 'ip' | 'token' | 'scope' | 'rate_limit' | 'connections';

/** A request refused before it reached the application. */
export interface Refusal {
  status: 401 | 403 | 429 | 503;
  message: string;
  code: string;
  retryAfterSeconds?: number;
}

export class SecurityGate {
  readonly tokens: TokenStore;
  readonly allowList: IpAllowList;
  readonly limiter: RateLimiter;
  private readonly principals = new WeakMap<IncomingMessage, Principal>();
  private readonly refused: client.Counter<'reason'>;

  constructor(
    private readonly config: GateConfig,
    private readonly logger: Logger,
  ) {
    this.tokens = new TokenStore(config);
    this.allowList = IpAllowList.parse(config.allowedIps);
    const perSecond = config.rateLimitPerSecond;
    this.limiter = new RateLimiter({ perSecond, burst: config.rateLimitBurst ?? Math.max(1, Math.ceil(perSecond * 2)) });
    this.refused = new client.Counter({
      name: 'ai_monitor_security_refused_total',
      help: 'Requests, connections and messages refused by the security gate, by reason',
      labelNames: ['reason'] as const,
      registers: [],
    });
  }

  /** Exposes the gate's counters on /metrics. */
  registerMetrics(registry: client.Registry): void {
    registry.registerMetric(this.refused);
  }

  /**
   * Refuses connections from addresses outside the allow-list on accept, before TLS or HTTP
   * parsing. Behind a trusted proxy the peer is the proxy, so the check moves to each request.
   */
  guardServer(server: Server): void {
    if (!this.allowList.enabled || this.config.trustProxy) return;
    server.on('connection', (socket: Socket) => {
      if (this.allowList.allows(socket.remoteAddress)) return;
      this.count('ip');
      this.logger.debug({ address: socket.remoteAddress }, 'connection refused: address not in the allow-list');
      socket.destroy();
    });
  }

  /**
   * Admits one HTTP request: allow-list (behind a proxy), token, rate limit. Returns the
   * principal, or null after answering the request with the refusal.
   */
  admitHttp(req: IncomingMessage, res: ServerResponse): Principal | null {
    const result = this.admit(req, bearerToken(req.headers.authorization));
    if ('status' in result) {
      sendRefusal(res, result);
      return null;
    }
    this.principals.set(req, result);
    return result;
  }

  /** Answers 401/403 and returns false unless the principal holds the scope. */
  requireScope(principal: Principal, scope: Scope, res: ServerResponse): boolean {
    const denial = scopeDenial(principal, scope);
    if (!denial) return true;
    this.count('scope');
    sendRefusal(res, denial);
    return false;
  }

  /** The principal admitHttp or admitUpgrade resolved for this request. */
  principalOf(req: IncomingMessage): Principal {
    return this.principals.get(req) ?? this.tokens.resolve(bearerToken(req.headers.authorization) ?? queryToken(req.url));
  }

  /**
   * Admits a WebSocket upgrade: allow-list (behind a proxy), connection limit, the token of an
   * `Authorization: Bearer` header or `?token=` query (optional: both protocols also take one
   * in their first message), rate limit. On refusal answers with an HTTP error and returns null.
   */
  admitUpgrade(req: IncomingMessage, socket: Duplex, openConnections: number): Principal | null {
    if (openConnections >= this.config.maxConnections) {
      this.count('connections');
      writeUpgradeRefusal(socket, { status: 503, code: 'TOO_MANY_CONNECTIONS', message: `too many WebSocket connections (limit ${this.config.maxConnections}); retry later` });
      return null;
    }
    const result = this.admit(req, bearerToken(req.headers.authorization) ?? queryToken(req.url));
    if ('status' in result) {
      writeUpgradeRefusal(socket, result);
      return null;
    }
    this.principals.set(req, result);
    return result;
  }

  /**
   * A call on a protocol outside the HTTP server (OTLP/gRPC): allow-list of the peer address,
   * token, rate limit and the ingest scope, with the same rules and counters as HTTP requests.
   */
  admitIngestPeer(token: string | null, address: string | null): Principal | Refusal {
    const admitted = this.check(token, address, true);
    if ('status' in admitted) return admitted;
    const denial = scopeDenial(admitted, 'ingest');
    if (denial) this.count('scope');
    return denial ?? admitted;
  }

  /** One message or operation on an open connection; a refusal message, or null when allowed. */
  throttle(principal: Principal, req: IncomingMessage): string | null {
    if (!this.limiter.enabled) return null;
    const decision = this.limiter.take(this.rateKey(principal, req));
    if (decision.ok) return null;
    this.count('rate_limit');
    return decision.message;
  }

  /** Resolves a token presented inside a protocol (seed auth message, graphql-ws connection_init). */
  resolveToken(token: string | null | undefined): Principal {
    const p = this.tokens.resolve(token);
    if (p.kind === 'invalid' || p.kind === 'anonymous') this.count('token');
    return p;
  }

  /**
   * Seed protocol authentication: a valid ingest token on the upgrade opens the connection
   * authenticated; otherwise the first message must carry one.
   */
  seedAuth(upgrade: Principal): { authenticate: ((token: string) => true | string) | null; authenticated: boolean } {
    if (!this.tokens.enabled) return { authenticate: null, authenticated: true };
    return {
      authenticated: upgrade.scopes.has('ingest'),
      authenticate: (token) => {
        const p = this.resolveToken(token);
        if (p.scopes.has('ingest')) return true;
        return p.kind === 'token' ? 'token lacks scope ingest' : 'invalid token';
      },
    };
  }

  /**
   * graphql-ws `connection_init`: `connectionParams.token` or `connectionParams.authorization`
   * ("Bearer <token>"), else the token of the upgrade request. With tokens configured, a
   * connection without a valid one is refused (false: graphql-ws closes it with 4403).
   */
  graphqlWsAuth(params: Record<string, unknown> | undefined, req: IncomingMessage): Principal | false {
    const presented = typeof params?.token === 'string' ? params.token : bearerToken(stringParam(params, 'authorization') ?? stringParam(params, 'Authorization'));
    const principal = presented ? this.resolveToken(presented) : this.principalOf(req);
    if (principal.kind === 'invalid' || principal.kind === 'anonymous') {
      this.count('token');
      return false;
    }
    return principal;
  }

  /** The start-up warning for a server reachable from other machines without tokens, or null. */
  exposureWarning(host: string): string | null {
    if (this.tokens.enabled || isLoopbackHost(host)) return null;
    const ips = this.allowList.enabled ? `only the allow-list (${this.config.allowedIps.join(', ')}) limits` : 'nothing limits';
    return `listening on ${host}, beyond loopback, without tokens: ${ips} who can record, read and change alert settings; set AI_MONITOR_INGEST_TOKENS / AI_MONITOR_READ_TOKENS / AI_MONITOR_ADMIN_TOKENS, or listen on 127.0.0.1`;
  }

  count(reason: RefusalReason): void {
    this.refused.inc({ reason });
  }

  private admit(req: IncomingMessage, token: string | null): Principal | Refusal {
    // Without a trusted proxy the allow-list was applied to the connection already.
    return this.check(token, clientAddress(req, this.config.trustProxy), this.config.trustProxy);
  }

  /**
   * The checks every request and peer passes, counted alike: the allow-list for `address` (when
   * `listed`), the token, then the rate limit (per token, else per `address`).
   */
  private check(token: string | null, address: string | null | undefined, listed: boolean): Principal | Refusal {
    if (listed && this.allowList.enabled && !this.allowList.allows(address)) {
      this.count('ip');
      return { status: 403, code: 'FORBIDDEN', message: 'your address is not in the allow-list' };
    }
    const principal = this.tokens.resolve(token);
    if (principal.kind === 'invalid') {
      this.count('token');
      return { status: 401, code: 'UNAUTHENTICATED', message: 'invalid token' };
    }
    if (this.limiter.enabled) {
      const decision = this.limiter.take(rateKey(principal, address));
      if (!decision.ok) {
        this.count('rate_limit');
        return { status: 429, code: 'RATE_LIMITED', message: decision.message, retryAfterSeconds: decision.retryAfterSeconds };
      }
    }
    return principal;
  }

  private rateKey(principal: Principal, req: IncomingMessage): string {
    return rateKey(principal, clientAddress(req, this.config.trustProxy));
  }
}

/** Rate limits count per token, else per client address. */
function rateKey(principal: Principal, address: string | null | undefined): string {
  return principal.id ? `token:${principal.id}` : `ip:${address ?? 'unknown'}`;
}

function stringParam(params: Record<string, unknown> | undefined, key: string): string | null {
  const v = params?.[key];
  return typeof v === 'string' ? v : null;
}

/**
 * `?token=` on an upgrade URL (browsers cannot set headers on WebSocket upgrades). Only the
 * query is parsed: `new URL` throws on request targets such as `//[`, and a throw in the
 * upgrade handler would stop the process.
 */
function queryToken(url: string | undefined): string | null {
  if (!url || !url.includes('token=')) return null;
  const q = url.indexOf('?');
  return q === -1 ? null : new URLSearchParams(url.slice(q + 1)).get('token');
}

function sendRefusal(res: ServerResponse, r: Refusal): void {
  const body = JSON.stringify({ error: r.message, errors: [{ message: r.message, extensions: { code: r.code } }] });
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' };
  if (r.status === 401) headers['www-authenticate'] = 'Bearer';
  if (r.retryAfterSeconds !== undefined) headers['retry-after'] = r.retryAfterSeconds;
  res.writeHead(r.status, headers);
  res.end(body);
}

const STATUS_TEXT: Record<Refusal['status'], string> = { 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' };

function writeUpgradeRefusal(socket: Duplex, r: Refusal): void {
  const body = JSON.stringify({ error: r.message });
  const lines = [
    `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status]}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(r.retryAfterSeconds !== undefined ? [`Retry-After: ${r.retryAfterSeconds}`] : []),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
