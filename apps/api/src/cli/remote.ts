/**
 * Talking to a running server: where it is (--url, AI_MONITOR_URL, or 127.0.0.1 on
 * AI_MONITOR_PORT / 8765) and GraphQL over HTTP with errors a user can act on.
 */
import { DEFAULT_PORT, GRAPHQL_PATH } from '@ai-monitor/schema';
import { CliFailure, UsageError } from './common.js';

export interface ServerAddress {
  /** http(s)://host:port, no trailing slash. */
  http: string;
  /** ws(s)://host:port/ — the seed protocol. */
  seedWs: string;
  /** ws(s)://host:port/graphql — graphql-ws subscriptions. */
  graphqlWs: string;
}

export const URL_HELP = 'server URL, http(s):// or ws(s):// (env AI_MONITOR_URL, default http://127.0.0.1:8765)';

export function defaultUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AI_MONITOR_URL) return env.AI_MONITOR_URL;
  const port = env.AI_MONITOR_PORT && env.AI_MONITOR_PORT !== '0' ? env.AI_MONITOR_PORT : String(DEFAULT_PORT);
  return `http://127.0.0.1:${port}`;
}

/** Accepts http, https, ws, wss URLs and bare `host:port`; any path is ignored. */
export function parseServerUrl(text: string | undefined): ServerAddress {
  const raw = (text ?? defaultUrl()).trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--url: not a valid URL: "${raw}" (expected e.g. http://127.0.0.1:8765)`);
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new UsageError(`--url: expected an http, https, ws or wss URL, got "${url.protocol}//"`);
  }
  const host = url.host;
  return {
    http: `${secure ? 'https' : 'http'}://${host}`,
    seedWs: `${secure ? 'wss' : 'ws'}://${host}/`,
    graphqlWs: `${secure ? 'wss' : 'ws'}://${host}${GRAPHQL_PATH}`,
  };
}

/** Explains a failed fetch: "connect ECONNREFUSED 127.0.0.1:8765" rather than "fetch failed". */
export function networkReason(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string; errors?: { message?: string }[] } };
  const cause = e.cause;
  if (cause?.errors?.length) return cause.errors.map((x) => x.message).join('; ');
  return cause?.message ?? e.message ?? String(err);
}

export function unreachable(url: string, err: unknown): CliFailure {
  return new CliFailure(
    `cannot reach the server at ${url}: ${networkReason(err)}. Is it running? Start it with "ai-monitor serve", or pass --url.`,
  );
}

interface GraphqlBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const AUTH_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

/** One GraphQL query over HTTP; throws CliFailure naming the server's complaint. */
export async function graphqlRequest<T>(
  server: ServerAddress,
  query: string,
  variables: Record<string, unknown>,
  opts: { token?: string | undefined; timeoutMs?: number } = {},
): Promise<T> {
  const url = `${server.http}${GRAPHQL_PATH}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        // Yoga's CSRF prevention asks non-browser clients for this header.
        'x-graphql-yoga-csrf': '1',
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
  } catch (err) {
    throw unreachable(server.http, err);
  }
  if (res.status === 401 || res.status === 403) {
    throw new CliFailure(`the server at ${server.http} refused the request (HTTP ${res.status}): pass a token with read access via --token or AI_MONITOR_TOKEN`);
  }
  let body: GraphqlBody<T>;
  try {
    body = (await res.json()) as GraphqlBody<T>;
  } catch {
    throw new CliFailure(`${url} answered HTTP ${res.status} without a GraphQL reply: is this an ai-monitor server?`);
  }
  if (body.errors?.length) {
    // One message per distinct complaint (each field of a query may report the same one).
    const messages = [...new Set(body.errors.map((e) => e.message))].join('; ');
    const hint = body.errors.some((e) => AUTH_CODES.has(e.extensions?.code ?? '')) ? '; pass a token with read access via --token or AI_MONITOR_TOKEN' : '';
    throw new CliFailure(`the server answered: ${messages}${hint}`);
  }
  if (!body.data) throw new CliFailure(`${url} answered HTTP ${res.status} without data`);
  return body.data;
}
