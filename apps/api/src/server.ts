/**
 * Builds the whole server on one port: GraphQL over HTTP and graphql-ws at /graphql, the seed
 * WebSocket protocol on any other upgrade path, /health, /metrics, /api/interactions, /api/export and the
 * dashboard. `createApp` returns start/stop so the CLI and the tests drive the same thing.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { createYoga, type GraphiQLOptions, type YogaServerInstance } from 'graphql-yoga';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { getOperationAST } from 'graphql';
import { GRAPHQL_PATH, HTTP_INGEST_PATH } from '@ai-monitor/schema';
import type { Config } from './config/load.js';
import type { Logger } from './log/logger.js';
import { createStore } from './store/create.js';
import { BatchWriter } from './store/writer.js';
import { RetentionJob } from './store/retention.js';
import { IngestService } from './ingest/service.js';
import { PriceTable } from './pricing/table.js';
import { loadUserPrices } from './pricing/user-file.js';
import { ClockSkewTracker } from './ingest/clock-skew.js';
import { MetricsService } from './metrics/service.js';
import { LiveMetrics } from './metrics/live.js';
import { createClusterPubSub, createLocalPubSub, type ClusterPubSub } from './pubsub/topics.js';
import type { RedisConnections } from './pubsub/redis.js';
import { Backpressure } from './pubsub/backpressure.js';
import { schema } from './schema/index.js';
import type { Context, Services } from './schema/context.js';
import { attachGraphqlWs } from './transports/graphql-ws.js';
import { handleSeedConnection } from './transports/seed-ws.js';
import { handleHttpIngest } from './transports/ingest-http.js';
import { OTLP_TRACES_PATH, handleOtlpHttp } from './transports/otlp-http.js';
import { OtlpService } from './ingest/otlp/service.js';
import type { OtlpGrpcServer } from './transports/otlp-grpc.js';
import { createPromMetrics, type PromMetrics } from './transports/prometheus.js';
import { EXPORT_PATH, handleExport } from './transports/export-http.js';
import { createStaticHandler, defaultWebDir } from './transports/static.js';
import { createGraphiqlRenderer } from './transports/graphiql.js';
import { declaredTooLarge, sendJson } from './transports/http-util.js';
import { guardServerErrors, guardUpgradeSocket, logServerErrorsAfterListen } from './transports/connection-errors.js';
import { AlertConfigFileStore } from './alerts/config-file.js';
import { LocalAlertCoordinator } from './alerts/coordinator.js';
import { RedisAlertCoordinator } from './alerts/coordinator-redis.js';
import { AlertService } from './alerts/service.js';
import { ReleaseService } from './releases/service.js';
import { ImprovementService } from './improvements/service.js';
import { SecurityGate } from './security/gate.js';
import { graphqlHardeningPlugins, wsValidationRules, type SchemaDenial } from './security/graphql-hardening.js';
import { scopeDenial, type Principal } from './security/tokens.js';
import { clientAddress, normaliseAddress } from './security/ip-allow.js';

export interface App {
  services: Services;
  server: Server;
  /** The OTLP/gRPC receiver's port once started; null when it is off. */
  readonly otlpGrpcPort: number | null;
  start(): Promise<{ url: string; port: number; host: string }>;
  stop(): Promise<void>;
}

/** ws closes the socket above this; between maxPayloadBytes and it, the seed handler replies with an error. */
const HARD_MESSAGE_FACTOR = 4;

type Yoga = YogaServerInstance<{ req: IncomingMessage; res: ServerResponse; auth?: Principal }, Context>;

/** The services behind every transport, and what must be stopped with them. */
interface Core {
  services: Services;
  /** The unbounded cluster pubsub, for publishing (subscribers use the bounded one in services). */
  cluster: ClusterPubSub;
  writer: BatchWriter;
  live: LiveMetrics;
  redis: RedisConnections | null;
}

/** What tests inject into the server (never set by the CLI). */
export interface AppOptions {
  /** The alert rules' clock (fake clocks in tests). */
  clock?: () => number;
}

async function openCore(config: Config, logger: Logger, backpressure: Backpressure, appOptions: AppOptions = {}): Promise<Core> {
  // A bad alert_config.json stops the start before anything is opened.
  const alertSettings = AlertConfigFileStore.load(config.alertConfigFile);
  // So does a bad model price file.
  const prices = new PriceTable(loadUserPrices(config.modelPricesFile, config.modelPricesFileSet), basename(config.modelPricesFile));
  const store = await createStore(config, logger);
  await store.migrate();
  // Replicas share events and alert decisions through Redis when configured (driver loaded on demand).
  const redis = config.redisUrl
    ? await (await import('./pubsub/redis.js')).connectRedis({ url: config.redisUrl, prefix: config.redisPrefix, logger })
    : null;
  const writer = new BatchWriter(store);
  const clockSkew = new ClockSkewTracker({ naiveTimezone: config.naiveTimezone, toleranceMs: config.clockSkewToleranceMs, logger });
  const ingest = new IngestService(
    writer,
    {
      userInputMaxLength: config.userInputMaxLength,
      maxBatchSize: config.maxBatchSize,
      naiveTimezone: config.naiveTimezone,
      clockSkewToleranceMs: config.clockSkewToleranceMs,
    },
    clockSkew,
    prices,
  );
  const cluster = createClusterPubSub(redis?.eventTarget);
  const local = createLocalPubSub();
  const alerts = new AlertService({
    settingsFile: alertSettings,
    store,
    cluster,
    coordinator: redis ? new RedisAlertCoordinator(redis.command, redis.prefix) : new LocalAlertCoordinator(),
    fallbacks: { smtpUrl: config.smtpUrl, from: config.alertEmailFrom, to: config.alertEmailTo },
    logger,
    ...(appOptions.clock ? { clock: appOptions.clock } : {}),
  });
  await alerts.start();
  const releases = new ReleaseService(store);
  const improvements = new ImprovementService({ store, releases, local, webhookUrl: () => alerts.settings.webhook_url ?? null, logger });
  improvements.start();
  // Subscribers (GraphQL clients) get bounded queues: a client that stops reading loses its oldest events.
  const services: Services = {
    config,
    logger,
    store,
    ingest,
    clockSkew,
    metrics: new MetricsService(store, prices),
    releases,
    improvements,
    cluster: backpressure.boundPubSub(cluster),
    local: backpressure.boundPubSub(local),
    alerts,
    otlp: new OtlpService(store, ingest, { orphanWaitMs: config.otlpOrphanWaitMs, maxBatchSize: config.maxBatchSize, logger }),
  };
  return { services, cluster, writer, live: new LiveMetrics(local, config.metricsIntervalMs), redis };
}

/** Committed records go to every replica's subscribers; any replica's commits make metrics stale. */
function wireCommits(core: Core, prom: PromMetrics): AsyncIterableIterator<unknown> {
  core.writer.onCommit((records) => {
    prom.commitBatch.observe(records.length);
    core.cluster.publish('interactions', records);
  });
  const ticks = core.cluster.subscribe('interactions');
  void (async () => {
    for await (const _ of ticks) core.live.markDirty();
  })().catch((err: unknown) => core.services.logger.error({ err }, 'live metrics stopped following commits'));
  return ticks;
}

/**
 * With tokens configured, even the schema needs a read token: the header editor starts with the
 * Authorization header to fill in (sent on HTTP and as graphql-ws connection parameters) and
 * keeps it in the browser.
 */
function graphiqlOptions(tokensEnabled: boolean): GraphiQLOptions {
  const base: GraphiQLOptions = { title: 'ai-monitor GraphiQL', subscriptionsProtocol: 'WS' };
  if (!tokensEnabled) return base;
  return { ...base, headers: JSON.stringify({ Authorization: 'Bearer <read token>' }, null, 2), shouldPersistHeaders: true };
}

function createGraphql(services: Services, gate: SecurityGate): Yoga {
  const { config, logger } = services;
  return createYoga({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: config.graphiql ? graphiqlOptions(gate.tokens.enabled) : false,
    // Every asset from this server: Yoga's default page loads GraphiQL from a CDN.
    renderGraphiQL: createGraphiqlRenderer(),
    landingPage: false,
    // The Content-Length check in the request handler replaces Yoga's stream-wrapping one,
    // which costs over half the throughput of small operations.
    maxRequestBodySize: false,
    plugins: [
      // Compiled execution of queries and mutations: variable coercion of the recording
      // mutations dominates otherwise. Subscriptions keep graphql-js (the compiled subscribe
      // loses their arguments).
      useGraphQlJit({}, { enableIf: (args) => getOperationAST(args.document, args.operationName)?.operation !== 'subscription' }),
      ...graphqlHardeningPlugins({
        introspection: config.introspection,
        schemaDenial: (ctx) => schemaDenial(gate, ctx),
        limits: {
          maxDepth: config.graphqlMaxDepth,
          maxCost: config.graphqlMaxCost,
          maxAliases: config.graphqlMaxAliases,
          maxTokens: config.graphqlMaxTokens,
          maxDirectives: config.graphqlMaxDirectives,
        },
      }),
    ],
    // graphql-ws passes the connection's principal as `auth`; HTTP requests were admitted by the gate.
    context: ({ req, auth }) => ({ services, auth: auth ?? gate.principalOf(req), address: senderAddress(req, config) }),
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error(args.map(String).join(' ')),
    },
  });
}

/** The sender's address as reports name it (an IPv4 client of a dual-stack socket without `::ffff:`). */
function senderAddress(req: IncomingMessage, config: Config): string | null {
  const address = clientAddress(req, config.trustProxy);
  return address ? normaliseAddress(address) : null;
}

/** graphql-ws puts the connection's principal in the context; an HTTP request's is found from req. */
function schemaDenial(gate: SecurityGate, ctx: Record<string, unknown>): SchemaDenial | null {
  const auth = ctx.auth as Principal | undefined;
  const req = ctx.req as IncomingMessage | undefined;
  return scopeDenial(auth ?? (req ? gate.principalOf(req) : gate.tokens.resolve(null)), 'read');
}

/** Operations of callers with the same rights may share one execution (see graphql-ws). */
function credentialKey(auth: Principal | undefined): string {
  return auth ? `${auth.kind}:${auth.id ?? ''}` : 'none';
}

function attachSubscriptions(wss: WebSocketServer, yoga: Yoga, services: Services, gate: SecurityGate, backpressure: Backpressure): void {
  const { config, logger } = services;
  attachGraphqlWs(wss, yoga as never, {
    logger,
    extraRules: wsValidationRules({ introspection: config.introspection }),
    onConnect: (params, req) => {
      const auth = gate.graphqlWsAuth(params, req);
      return auth === false ? false : { auth };
    },
    credentialKey: (c) => credentialKey(c.auth as Principal | undefined),
    beforeOperation: (c, req) => gate.throttle((c.auth as Principal | undefined) ?? gate.principalOf(req), req),
    maxOperations: config.maxSubscriptionsPerConnection,
    backpressure,
  });
}

interface Sockets {
  seed: WebSocketServer;
  graphql: WebSocketServer;
}

function openConnections(s: Sockets): number {
  return s.seed.clients.size + s.graphql.clients.size;
}

function createHttpHandler(services: Services, yoga: Yoga, gate: SecurityGate, prom: PromMetrics, sockets: Sockets) {
  const { config, store, ingest, logger } = services;
  const serveStatic = createStaticHandler(config.webDir ?? defaultWebDir(), logger);

  async function health(res: ServerResponse): Promise<void> {
    const database = await store.ping();
    sendJson(res, database ? 200 : 503, {
      status: database ? 'healthy' : 'unhealthy',
      connections: openConnections(sockets),
      database,
      timestamp: new Date().toISOString(),
    });
  }

  async function promMetrics(res: ServerResponse): Promise<void> {
    try {
      const text = await prom.registry.metrics();
      res.writeHead(200, { 'content-type': prom.registry.contentType });
      res.end(text);
    } catch (err) {
      logger.error({ err }, 'metrics exposition failed');
      sendJson(res, 500, { error: (err as Error).message });
    }
  }

  function runExport(req: IncomingMessage, res: ServerResponse): void {
    handleExport(req, res, { store, logger }).catch((err: unknown) => {
      logger.error({ err }, 'export failed');
      if (!res.headersSent) sendJson(res, 500, { error: (err as Error).message });
      else res.destroy(err as Error);
    });
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    const principal = gate.admitHttp(req, res);
    if (!principal) return;
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === GRAPHQL_PATH) {
      if (declaredTooLarge(req, config.maxPayloadBytes)) {
        return sendJson(res, 413, { errors: [{ message: `request body must have a Content-Length of at most ${config.maxPayloadBytes} bytes` }] });
      }
      return void yoga(req, res);
    }
    if (path === '/health') return void health(res);
    if (path === '/metrics') return void (gate.requireScope(principal, 'read', res) && promMetrics(res));
    if (path === EXPORT_PATH) return void (gate.requireScope(principal, 'read', res) && runExport(req, res));
    if (path === HTTP_INGEST_PATH) {
      return void (gate.requireScope(principal, 'ingest', res) && handleHttpIngest(req, res, { ingest, maxPayloadBytes: config.maxPayloadBytes, logger, address: senderAddress(req, config) }));
    }
    if (path === OTLP_TRACES_PATH) {
      return void (gate.requireScope(principal, 'ingest', res) && handleOtlpHttp(req, res, { otlp: services.otlp, maxPayloadBytes: config.maxPayloadBytes, logger, address: senderAddress(req, config) }));
    }
    serveStatic(req, res);
  };
}

/** graphql-ws on /graphql with its sub-protocol; the seed protocol on every other upgrade. */
function createUpgradeHandler(services: Services, gate: SecurityGate, sockets: Sockets) {
  const { config, ingest, logger } = services;
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    guardUpgradeSocket(socket, logger);
    const principal = gate.admitUpgrade(req, socket, openConnections(sockets));
    if (!principal) return;
    const path = (req.url ?? '/').split('?')[0];
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '');
    if (path === GRAPHQL_PATH && protocols.includes('graphql-transport-ws')) {
      sockets.graphql.handleUpgrade(req, socket, head, (ws) => sockets.graphql.emit('connection', ws, req));
      return;
    }
    sockets.seed.handleUpgrade(req, socket, head, (ws) => {
      sockets.seed.emit('connection', ws, req);
      handleSeedConnection(ws, {
        ingest,
        logger,
        maxMessageBytes: config.maxPayloadBytes,
        ...gate.seedAuth(principal),
        throttle: () => gate.throttle(principal, req),
        address: senderAddress(req, config),
      });
    });
  };
}

/**
 * Slow-client defence: Node answers 408 and closes a connection whose request head (or, for a
 * connection that sends nothing, any byte) has not arrived within headersTimeout, or whose whole
 * request has not within requestTimeout. Upgraded WebSockets leave Node's HTTP parser and are
 * not subject to them. Node checks every connectionsCheckingInterval (30 s by default), so the
 * check runs often enough for the deadlines to hold within a fifth of the shortest one, at most 1 s.
 */
function httpTimeouts(config: Config): { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number } {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(20, Math.floor(config.headersTimeoutMs / 5))),
  };
}

function listen(server: Server, config: Config): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting, closes sockets (forcing stragglers after 2 s) and waits for the server to close. */
async function closeServer(server: Server, sockets: Sockets): Promise<void> {
  for (const ws of [...sockets.seed.clients, ...sockets.graphql.clients]) ws.close(1001, 'server shutting down');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const force = setTimeout(() => server.closeAllConnections(), 2000);
  await closed;
  clearTimeout(force);
}

export async function createApp(config: Config, logger: Logger, appOptions: AppOptions = {}): Promise<App> {
  const gate = new SecurityGate(config, logger);
  const backpressure = new Backpressure(config.subscriberQueueLimit);
  const core = await openCore(config, logger, backpressure, appOptions);
  const { services } = core;
  const sockets: Sockets = {
    seed: new WebSocketServer({ noServer: true, maxPayload: config.maxPayloadBytes * HARD_MESSAGE_FACTOR, perMessageDeflate: config.wsCompression }),
    graphql: new WebSocketServer({ noServer: true, maxPayload: config.maxPayloadBytes, perMessageDeflate: config.wsCompression }),
  };
  const prom = createPromMetrics(
    services.metrics,
    services.ingest.stats,
    () => ({ seed: sockets.seed.clients.size, graphql: sockets.graphql.clients.size }),
    () => services.clockSkew.records,
  );
  gate.registerMetrics(prom.registry);
  services.otlp.registerMetrics(prom.registry);
  backpressure.registerMetrics(prom.registry);
  const ticks = wireCommits(core, prom);

  const yoga = createGraphql(services, gate);
  attachSubscriptions(sockets.graphql, yoga, services, gate, backpressure);
  const handler = createHttpHandler(services, yoga, gate, prom, sockets);
  const tls = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : null;
  const timeouts = httpTimeouts(config);
  const server: Server = tls ? createHttpsServer({ ...tls, ...timeouts }, handler) : createHttpServer(timeouts, handler);
  guardServerErrors(server, logger);
  gate.guardServer(server);
  server.on('upgrade', createUpgradeHandler(services, gate, sockets));

  const retention = new RetentionJob(services.store, config.retentionDays, config.retentionIntervalMinutes * 60_000, logger);
  let grpc: OtlpGrpcServer | null = null;

  return {
    services,
    server,
    get otlpGrpcPort() {
      return grpc?.port ?? null;
    },
    async start() {
      await listen(server, config);
      if (config.otlpGrpcPort !== undefined) {
        // Loaded only when configured: the gRPC library is not needed otherwise.
        const { startOtlpGrpc } = await import('./transports/otlp-grpc.js');
        try {
          grpc = await startOtlpGrpc({ otlp: services.otlp, gate, logger, maxPayloadBytes: config.maxPayloadBytes, host: config.host, port: config.otlpGrpcPort, tls });
        } catch (err) {
          throw new Error(`OTLP/gRPC could not listen on port ${config.otlpGrpcPort}: ${(err as Error).message}`, { cause: err });
        }
        logger.info({ port: grpc.port }, `OTLP/gRPC listening on ${config.host}:${grpc.port}`);
      }
      logServerErrorsAfterListen(server, logger);
      retention.start();
      services.otlp.start();
      const exposure = gate.exposureWarning(config.host);
      if (exposure) logger.warn(exposure);
      const addr = server.address() as AddressInfo;
      const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return { url: `${tls ? 'https' : 'http'}://${shownHost}:${addr.port}`, port: addr.port, host: addr.address };
    },
    async stop() {
      core.live.stop();
      await retention.stop();
      await closeServer(server, sockets);
      await grpc?.stop();
      await services.otlp.stop();
      await core.writer.drain();
      await services.alerts.stop();
      await services.improvements.stop();
      await ticks.return?.();
      await core.redis?.close();
      await services.store.close();
    },
  };
}
