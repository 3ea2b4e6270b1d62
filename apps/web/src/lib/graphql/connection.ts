/**
 * The dashboard's one link to the server: an urql client for queries and mutations over HTTP,
 * and a graphql-ws client for subscriptions, both at /graphql on the page's own origin.
 *
 * The socket reconnects for ever with capped, jittered back-off; every re-connection bumps
 * `link.dataEpoch` so views query their history again and miss nothing that arrived while
 * the link was down. A 401/403 answer or a 4401/4403 close opens the token prompt.
 */
import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { writeToken } from '$lib/token';
import { auth, link } from './connection-state.svelte';

const GRAPHQL_PATH = '/graphql';
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 5_000;
/** While the server refuses our token there is no point in knocking often. */
const BACKOFF_AUTH_CAP_MS = 30_000;

export function graphqlUrls(loc: Location): { http: string; ws: string } {
  const wsScheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http: `${loc.origin}${GRAPHQL_PATH}`, ws: `${wsScheme}//${loc.host}${GRAPHQL_PATH}` };
}

function closeCode(event: unknown): number | undefined {
  if (typeof event === 'object' && event !== null && 'code' in event) {
    const code = (event as { code: unknown }).code;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

function isAuthError(error: CombinedError): 401 | 403 | null {
  const response: unknown = error.response;
  const status = typeof response === 'object' && response !== null && 'status' in response ? (response as { status: unknown }).status : undefined;
  if (status === 401 || status === 403) return status;
  for (const e of error.graphQLErrors) {
    const code = e.extensions?.code;
    if (code === 'UNAUTHENTICATED') return 401;
    if (code === 'FORBIDDEN') return 403;
  }
  return null;
}

export class LiveConnection {
  readonly client: Client;
  private ws: WsClient;
  private generation = 0;
  private everConnected = false;
  private wake: (() => void) | null = null;
  private readonly urls: { http: string; ws: string };
  private readonly onOnline = (): void => {
    if (link.status === 'offline') link.status = 'reconnecting';
    this.wake?.();
  };
  private readonly onOffline = (): void => {
    link.status = 'offline';
  };

  constructor(loc: Location = window.location) {
    this.urls = graphqlUrls(loc);
    this.ws = this.buildSocket();
    this.client = new Client({
      url: this.urls.http,
      exchanges: [
        mapExchange({
          // Each request remembers the token it went out with, so that the late refusal of a
          // request sent before a new token was saved does not ask for a token again.
          onOperation: (operation) => ({ ...operation, context: { ...operation.context, sentWithToken: auth.token } }),
          onError: (error, operation) => {
            const status = isAuthError(error);
            if (status && operation.context.sentWithToken === auth.token) requireToken(status, 'http');
          },
        }),
        cacheExchange,
        subscriptionExchange({
          // Always the current socket client, which is rebuilt when the token changes.
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({ unsubscribe: this.ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
          }),
        }),
        fetchExchange,
      ],
      // Evaluated per request so a new token applies at once. The CSRF header is always sent.
      fetchOptions: () => ({
        headers: {
          'x-graphql-yoga-csrf': '1',
          ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
        },
      }),
      requestPolicy: 'network-only',
    });
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
  }

  /** Stores a new token (or none) and reconnects with it; every view re-queries. */
  setToken(token: string | null): void {
    auth.token = token;
    auth.required = false;
    auth.reason = '';
    auth.dismissed = false;
    writeToken(token);
    this.rebuildSocket();
    link.dataEpoch++;
  }

  dispose(): void {
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    this.generation++;
    void this.ws.dispose();
  }

  private rebuildSocket(): void {
    const old = this.ws;
    this.everConnected = false;
    this.ws = this.buildSocket();
    link.status = 'connecting';
    link.clientEpoch++;
    void old.dispose();
  }

  private buildSocket(): WsClient {
    const generation = ++this.generation;
    const current = (): boolean => generation === this.generation;
    return createWsClient({
      url: this.urls.ws,
      lazy: false,
      keepAlive: 15_000,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: (retries) => this.backoff(retries),
      connectionParams: () => (auth.token ? { token: auth.token } : {}),
      onNonLazyError: (err) => {
        // Only fatal closes end up here (4401, 4400, …); the prompt or the badge says so.
        if (!current()) return;
        link.status = 'offline';
        link.detail = err instanceof Error ? err.message : `closed (${closeCode(err) ?? 'unknown'})`;
      },
      on: {
        connecting: (isRetry) => {
          if (!current()) return;
          if (typeof navigator !== 'undefined' && navigator.onLine === false) link.status = 'offline';
          else link.status = isRetry || this.everConnected ? 'reconnecting' : 'connecting';
        },
        connected: () => {
          if (!current()) return;
          link.status = 'live';
          link.retries = 0;
          link.detail = '';
          if (auth.required && auth.source === 'ws') auth.required = false;
          // The first connection needs no catch-up: views query history when they mount.
          if (this.everConnected) link.dataEpoch++;
          this.everConnected = true;
        },
        closed: (event) => {
          if (!current()) return;
          const code = closeCode(event);
          link.retries++;
          link.detail = code ? `connection closed (${code})` : 'connection lost';
          if (code === 4401 || code === 4403) requireToken(code === 4401 ? 401 : 403, 'ws');
          link.status = typeof navigator !== 'undefined' && navigator.onLine === false ? 'offline' : 'reconnecting';
        },
      },
    });
  }

  /** Capped exponential back-off with jitter, cut short when the browser comes back online. */
  private backoff(retries: number): Promise<void> {
    const cap = auth.required ? BACKOFF_AUTH_CAP_MS : BACKOFF_CAP_MS;
    const ms = Math.min(cap, BACKOFF_BASE_MS * 2 ** Math.min(retries, 10)) * (0.75 + Math.random() * 0.5);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

function requireToken(status: 401 | 403, source: 'http' | 'ws'): void {
  const what = source === 'ws' ? 'The live connection' : 'The server';
  auth.required = true;
  auth.source = source;
  auth.reason =
    status === 401
      ? `${what} asks for an access token.`
      : auth.token
        ? `${what} refused this token: it lacks the permission needed here.`
        : `${what} asks for an access token.`;
}
