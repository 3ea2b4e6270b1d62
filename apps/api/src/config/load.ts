/**
 * Configuration: defaults < config file < environment < CLI flags, validated in one place.
 * The result is one typed, frozen object passed to every service.
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { z } from 'zod';
import { AllowListEntryError, IpAllowList } from '../security/ip-allow.js';
import { isValidTimeZone, localTimeZone } from '../ingest/timezone.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const csv = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0));

const intFromString = (min: number, max: number) =>
  z.coerce.number().int(`must be a whole number`).min(min).max(max);

export const configSchema = z.object({
  host: z.string().min(1).default('0.0.0.0'),
  port: intFromString(0, 65535).default(8765),
  dataDir: z.string().min(1).default('monitoring_data'),
  /** SQLite file; defaults to `<dataDir>/realtime_monitoring.db`. */
  dbFile: z.string().min(1).optional(),
  /** Alert rules file; defaults to `<dataDir>/alert_config.json`. */
  alertConfigFile: z.string().min(1).optional(),
  /** Model prices extending and overriding the packaged table; defaults to `<dataDir>/model_prices.json` (optional there). */
  modelPricesFile: z.string().min(1).optional(),
  retentionDays: z.coerce.number().positive('must be more than 0').max(36500).default(30),
  /** How often retention runs, in minutes. */
  retentionIntervalMinutes: z.coerce.number().positive().default(60),
  userInputMaxLength: intFromString(1, 1_000_000).default(200),
  storage: z.enum(['sqlite', 'postgres']).default('sqlite'),
  databaseUrl: z.string().optional(),
  redisUrl: z.string().optional(),
  /** Prefix of Redis keys and channels; lets several deployments share one Redis. */
  redisPrefix: z.string().default('ai-monitor'),
  /** SQLite reader threads: reads run on them, off the event loop, each with its own read-only connection. */
  sqliteReaders: intFromString(1, 64).default(2),
  /** PostgreSQL connections reserved for reads (the writer has its own pool). */
  postgresReadConnections: intFromString(1, 1000).default(8),
  /** PostgreSQL schema; lets several deployments share one database. */
  databaseSchema: z.string().regex(/^[a-z_][a-z0-9_]*$/i, 'must be a plain SQL identifier').default('public'),
  ingestTokens: csv.default([]),
  readTokens: csv.default([]),
  adminTokens: csv.default([]),
  allowedIps: csv.default([]),
  trustProxy: z.coerce.boolean().default(false),
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  logFile: z.string().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Standard output's log format: human lines on a terminal and JSON lines otherwise (`auto`), or forced. */
  logFormat: z.enum(['auto', 'json', 'pretty'], { error: 'must be auto, json or pretty' }).default('auto'),
  smtpUrl: z.string().optional(),
  alertEmailFrom: z.string().optional(),
  alertEmailTo: csv.default([]),
  /** Largest HTTP body or WebSocket message accepted, in bytes. */
  maxPayloadBytes: intFromString(1024, 64 * 1024 * 1024).default(1024 * 1024),
  /** Most records in one batch message or mutation. */
  maxBatchSize: intFromString(1, 100_000).default(5000),
  /** Least time between two `metricsUpdated` events. */
  metricsIntervalMs: intFromString(50, 60_000).default(250),
  /** GraphiQL in the browser and schema introspection (on unless production). */
  graphiql: z.coerce.boolean().optional(),
  introspection: z.coerce.boolean().optional(),
  /** permessage-deflate on both WebSocket protocols (measured cost; off by default). */
  wsCompression: z.coerce.boolean().default(false),
  /** Sustained requests/messages per second per client (token, else IP); 0 is off. */
  rateLimitPerSecond: z.coerce.number().min(0).max(1_000_000).default(0),
  /** Requests a client may make at once; defaults to twice the rate. */
  rateLimitBurst: intFromString(1, 10_000_000).optional(),
  /**
   * HTTP timeouts (slow-client defence): the request head must arrive within headersTimeoutMs
   * (a connection that sends nothing is closed after it too), the whole request within
   * requestTimeoutMs, and an idle keep-alive connection is closed after keepAliveTimeoutMs.
   * Upgraded WebSocket connections are not subject to them.
   */
  headersTimeoutMs: intFromString(100, 3_600_000).default(10_000),
  requestTimeoutMs: intFromString(100, 3_600_000).default(30_000),
  keepAliveTimeoutMs: intFromString(100, 3_600_000).default(65_000),
  /** Most open WebSocket connections, both protocols together. */
  maxConnections: intFromString(1, 1_000_000).default(10_000),
  /** Most operations at once on one graphql-ws connection. */
  maxSubscriptionsPerConnection: intFromString(1, 100_000).default(100),
  /** Most undelivered events (interactions) queued for one subscriber; older ones are dropped. */
  subscriberQueueLimit: intFromString(1, 10_000_000).default(2_000),
  /**
   * graphql-armor limits, on HTTP and graphql-ws alike. Cost: objects 2, scalars 1, ×1.5 per
   * level, a literal `first`/`last` multiplies its subtree; 100,000 admits a full page
   * (first: 500) of every interaction field and refuses many such pages in one operation.
   */
  graphqlMaxDepth: intFromString(1, 1000).default(6),
  graphqlMaxCost: intFromString(1, 100_000_000).default(100_000),
  graphqlMaxAliases: intFromString(0, 100_000).default(15),
  graphqlMaxTokens: intFromString(1, 10_000_000).default(1000),
  graphqlMaxDirectives: intFromString(0, 100_000).default(50),
  /**
   * IANA zone of timestamps sent without a zone (Python's `datetime.now().isoformat()`);
   * defaults to the server's own zone, as the seed's server read them.
   */
  naiveTimezone: z
    .string()
    .refine(isValidTimeZone, {
      error: (issue) =>
        `unknown time zone ${JSON.stringify(issue.input)} (AI_MONITOR_NAIVE_TIMEZONE); use an IANA name such as UTC, Asia/Shanghai or America/New_York`,
    })
    .optional(),
  /** A timestamp further ahead of the receive time than this is the sender's clock; 5 minutes. */
  clockSkewToleranceMs: intFromString(1000, 7 * 86_400_000).default(300_000),
  /**
   * OTLP traces: spans of a trace whose root (or agent) span has not arrived become an
   * interaction once no span of the trace has arrived for this long.
   */
  otlpOrphanWaitMs: intFromString(10, 86_400_000).default(60_000),
  /** OTLP/gRPC trace receiver's port (on `host`); unset: off. 0 picks a free port. */
  otlpGrpcPort: intFromString(0, 65535).optional(),
  /** Directory of the built dashboard; found next to the api package when unset. */
  webDir: z.string().optional(),
});

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

export interface Config extends Omit<Parsed, 'dbFile' | 'alertConfigFile' | 'modelPricesFile' | 'graphiql' | 'introspection' | 'naiveTimezone'> {
  naiveTimezone: string;
  dbFile: string;
  alertConfigFile: string;
  modelPricesFile: string;
  /** The price file's path was set (then it must exist); the default path may be absent. */
  modelPricesFileSet: boolean;
  graphiql: boolean;
  introspection: boolean;
  production: boolean;
}

/** Environment variable → config key. */
const ENV_MAP: Record<string, keyof ConfigInput> = {
  AI_MONITOR_HOST: 'host',
  AI_MONITOR_PORT: 'port',
  AI_MONITOR_DATA_DIR: 'dataDir',
  AI_MONITOR_DB_FILE: 'dbFile',
  AI_MONITOR_ALERT_CONFIG: 'alertConfigFile',
  AI_MONITOR_MODEL_PRICES: 'modelPricesFile',
  AI_MONITOR_RETENTION_DAYS: 'retentionDays',
  AI_MONITOR_USER_INPUT_MAX_LENGTH: 'userInputMaxLength',
  AI_MONITOR_STORAGE: 'storage',
  AI_MONITOR_DATABASE_URL: 'databaseUrl',
  AI_MONITOR_DATABASE_SCHEMA: 'databaseSchema',
  AI_MONITOR_REDIS_URL: 'redisUrl',
  AI_MONITOR_REDIS_PREFIX: 'redisPrefix',
  AI_MONITOR_INGEST_TOKENS: 'ingestTokens',
  AI_MONITOR_READ_TOKENS: 'readTokens',
  AI_MONITOR_ADMIN_TOKENS: 'adminTokens',
  AI_MONITOR_ALLOWED_IPS: 'allowedIps',
  AI_MONITOR_TRUST_PROXY: 'trustProxy',
  AI_MONITOR_TLS_CERT: 'tlsCert',
  AI_MONITOR_TLS_KEY: 'tlsKey',
  AI_MONITOR_LOG_FILE: 'logFile',
  AI_MONITOR_LOG_LEVEL: 'logLevel',
  AI_MONITOR_LOG_FORMAT: 'logFormat',
  AI_MONITOR_SMTP_URL: 'smtpUrl',
  AI_MONITOR_ALERT_EMAIL_FROM: 'alertEmailFrom',
  AI_MONITOR_ALERT_EMAIL_TO: 'alertEmailTo',
  AI_MONITOR_MAX_PAYLOAD_BYTES: 'maxPayloadBytes',
  AI_MONITOR_MAX_BATCH_SIZE: 'maxBatchSize',
  AI_MONITOR_METRICS_INTERVAL_MS: 'metricsIntervalMs',
  AI_MONITOR_GRAPHIQL: 'graphiql',
  AI_MONITOR_INTROSPECTION: 'introspection',
  AI_MONITOR_WS_COMPRESSION: 'wsCompression',
  AI_MONITOR_RATE_LIMIT: 'rateLimitPerSecond',
  AI_MONITOR_RATE_LIMIT_BURST: 'rateLimitBurst',
  AI_MONITOR_HEADERS_TIMEOUT_MS: 'headersTimeoutMs',
  AI_MONITOR_REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
  AI_MONITOR_KEEP_ALIVE_TIMEOUT_MS: 'keepAliveTimeoutMs',
  AI_MONITOR_MAX_CONNECTIONS: 'maxConnections',
  AI_MONITOR_MAX_SUBSCRIPTIONS_PER_CONNECTION: 'maxSubscriptionsPerConnection',
  AI_MONITOR_SUBSCRIBER_QUEUE_LIMIT: 'subscriberQueueLimit',
  AI_MONITOR_GRAPHQL_MAX_DEPTH: 'graphqlMaxDepth',
  AI_MONITOR_GRAPHQL_MAX_COST: 'graphqlMaxCost',
  AI_MONITOR_GRAPHQL_MAX_ALIASES: 'graphqlMaxAliases',
  AI_MONITOR_GRAPHQL_MAX_TOKENS: 'graphqlMaxTokens',
  AI_MONITOR_GRAPHQL_MAX_DIRECTIVES: 'graphqlMaxDirectives',
  AI_MONITOR_NAIVE_TIMEZONE: 'naiveTimezone',
  AI_MONITOR_CLOCK_SKEW_TOLERANCE_MS: 'clockSkewToleranceMs',
  AI_MONITOR_WEB_DIR: 'webDir',
  AI_MONITOR_OTLP_ORPHAN_WAIT_MS: 'otlpOrphanWaitMs',
  AI_MONITOR_OTLP_GRPC_PORT: 'otlpGrpcPort',
  AI_MONITOR_SQLITE_READERS: 'sqliteReaders',
  AI_MONITOR_POSTGRES_READ_CONNECTIONS: 'postgresReadConnections',
};

/** `"false"`, `"0"`, `"no"` and `"off"` are false; zod's coerce would call any non-empty string true. */
function normaliseBooleanStrings(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (typeof v === 'string' && /^(false|0|no|off)$/i.test(v.trim())) out[k] = false;
    else if (typeof v === 'string' && /^(true|1|yes|on)$/i.test(v.trim()) && BOOLEAN_KEYS.has(k)) out[k] = true;
    else out[k] = v;
  }
  return out;
}
const BOOLEAN_KEYS = new Set(['trustProxy', 'graphiql', 'introspection', 'wsCompression']);

export function configFromEnv(env: NodeJS.ProcessEnv): ConfigInput {
  const out: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_MAP)) {
    const v = env[name];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out as ConfigInput;
}

function readConfigFile(file: string): ConfigInput {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(`config file ${file} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  const known = new Set(Object.keys(configSchema.shape));
  const unknown = Object.keys(parsed).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new ConfigError(`config file ${file}: unknown setting ${unknown.map((k) => `"${k}"`).join(', ')}`);
  }
  return parsed as ConfigInput;
}

export interface LoadOptions {
  /** CLI flags (already camelCase); undefined values are ignored. */
  flags?: Partial<Record<keyof ConfigInput, unknown>> & { config?: string };
  env?: NodeJS.ProcessEnv;
}

/** Formats zod issues as `setting: reason` lines a user can act on. */
export function formatIssues(error: z.ZodError, source = ''): string {
  return error.issues
    .map((i) => `${source}${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const flags = Object.fromEntries(Object.entries(opts.flags ?? {}).filter(([, v]) => v !== undefined));
  const configPath = (flags.config as string | undefined) ?? env.AI_MONITOR_CONFIG;
  delete flags.config;
  const fromFile = configPath ? readConfigFile(configPath) : {};
  const merged = normaliseBooleanStrings({ ...fromFile, ...configFromEnv(env), ...flags });
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(`invalid configuration: ${formatIssues(result.error)}`);
  return finalise(result.data, env);
}

function finalise(c: Parsed, env: NodeJS.ProcessEnv): Config {
  if ((c.tlsCert && !c.tlsKey) || (!c.tlsCert && c.tlsKey)) {
    throw new ConfigError('invalid configuration: tlsCert and tlsKey (AI_MONITOR_TLS_CERT / AI_MONITOR_TLS_KEY) must be set together');
  }
  try {
    IpAllowList.parse(c.allowedIps);
  } catch (err) {
    if (err instanceof AllowListEntryError) throw new ConfigError(`invalid configuration: allowedIps (AI_MONITOR_ALLOWED_IPS): ${err.message}`);
    throw err;
  }
  // Node refuses a headers timeout longer than the request timeout.
  if (c.headersTimeoutMs > c.requestTimeoutMs) {
    throw new ConfigError(
      `invalid configuration: headersTimeoutMs (AI_MONITOR_HEADERS_TIMEOUT_MS, ${c.headersTimeoutMs}) must not exceed requestTimeoutMs (AI_MONITOR_REQUEST_TIMEOUT_MS, ${c.requestTimeoutMs})`,
    );
  }
  if (c.storage === 'postgres' && !c.databaseUrl) {
    throw new ConfigError('invalid configuration: storage "postgres" needs databaseUrl (AI_MONITOR_DATABASE_URL)');
  }
  const production = env.NODE_ENV === 'production';
  return Object.freeze({
    ...c,
    dbFile: c.dbFile ?? join(c.dataDir, 'realtime_monitoring.db'),
    alertConfigFile: c.alertConfigFile ?? join(c.dataDir, 'alert_config.json'),
    modelPricesFile: c.modelPricesFile ?? join(c.dataDir, 'model_prices.json'),
    modelPricesFileSet: c.modelPricesFile !== undefined,
    graphiql: c.graphiql ?? !production,
    introspection: c.introspection ?? !production,
    naiveTimezone: c.naiveTimezone ?? localTimeZone(),
    production,
  });
}
