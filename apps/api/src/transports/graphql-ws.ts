/**
 * graphql-ws on `ws`, executing through Yoga's envelop so plugins and context apply.
 * Parse and validation errors are returned as errors of that one operation, never thrown:
 * a throw would close the socket and every other subscription on it.
 */
import type { WebSocketServer } from 'ws';
import { serveGraphqlWs } from './graphql-ws-socket.js';
import { GraphQLError, specifiedRules, type ExecutionArgs, type ValidationRule } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log/logger.js';
import { SubscriptionMulticast, type SubscriptionSource } from '../pubsub/multicast.js';
import type { Backpressure } from '../pubsub/backpressure.js';

type EnvelopedExec = Pick<ReturnType<YogaServerInstance<object, object>['getEnveloped']>, 'execute' | 'subscribe'> & {
  /** Identical operations from callers with identical credentials share one execution. */
  shareKey: string;
};

export interface GraphqlWsOptions {
  logger: Logger;
  /** Extra validation rules on this path (HTTP-only plugins do not cover WebSockets). */
  extraRules?: ValidationRule[];
  /**
   * Decides whether a connection may open, from its `connection_init` payload: false closes it
   * (4403); an object is added to the context of every operation on the connection.
   */
  onConnect?: (params: Record<string, unknown> | undefined, request: IncomingMessage) => false | Record<string, unknown> | Promise<false | Record<string, unknown>>;
  /** Identifies the rights onConnect granted, so only callers with the same rights share an execution. */
  credentialKey?: (connectionContext: Record<string, unknown>) => string;
  /** Checked before each operation with the connection's context; a message refuses that operation only. */
  beforeOperation?: (connectionContext: Record<string, unknown>, request: IncomingMessage) => string | null;
  /** Most operations at once on one connection; more are refused with an error. */
  maxOperations?: number;
  /** Bounds every subscriber's queue and counts what a slow one loses. */
  backpressure: Backpressure;
}

export function attachGraphqlWs(wss: WebSocketServer, yoga: YogaServerInstance<object, object>, opts: GraphqlWsOptions): ReturnType<typeof serveGraphqlWs> {
  const multicast = new SubscriptionMulticast(opts.backpressure, (err) => opts.logger.error({ err }, 'a shared subscription execution failed; its subscribers were ended'));
  // What onConnect granted, per connection (never sent back in the ack).
  const connectionContexts = new WeakMap<object, Record<string, unknown>>();
  return serveGraphqlWs(
    {
      execute: (args) => (args.rootValue as EnvelopedExec).execute(args),
      subscribe: (args) => {
        const root = args.rootValue as EnvelopedExec;
        return multicast.subscribe(root.shareKey, () => root.subscribe(args) as Promise<SubscriptionSource> | SubscriptionSource);
      },
      onConnect: async (ctx) => {
        if (!opts.onConnect) return true;
        const granted = await opts.onConnect(ctx.connectionParams, ctx.extra.request);
        if (granted === false) return false;
        connectionContexts.set(ctx, granted);
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const connectionContext = connectionContexts.get(ctx) ?? {};
        // ctx.subscriptions already holds this operation.
        if (opts.maxOperations !== undefined && Object.keys(ctx.subscriptions).length > opts.maxOperations) {
          return [new GraphQLError(`too many operations on this connection (limit ${opts.maxOperations}); complete some first`, { extensions: { code: 'TOO_MANY_OPERATIONS' } })];
        }
        const refused = opts.beforeOperation?.(connectionContext, ctx.extra.request);
        if (refused) return [new GraphQLError(refused, { extensions: { code: 'RATE_LIMITED' } })];
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          ...connectionContext,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError((err as Error).message)];
        }
        let errors: readonly GraphQLError[];
        try {
          errors = validate(schema, document, opts.extraRules ? [...specifiedRules, ...opts.extraRules] : undefined);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError((err as Error).message)];
        }
        if (errors.length > 0) return [...errors];
        const args: ExecutionArgs = {
          schema,
          operationName: payload.operationName ?? null,
          document,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: {
            execute,
            subscribe,
            shareKey: JSON.stringify([
              ctx.connectionParams ?? null,
              opts.credentialKey?.(connectionContext) ?? null,
              payload.operationName ?? null,
              payload.query,
              payload.variables ?? null,
            ]),
          },
        };
        return args;
      },
      onError: (_ctx, _id, _payload, errors) => {
        opts.logger.debug({ errors: errors.map((e) => e.message) }, 'graphql-ws operation error');
      },
    },
    wss,
    { logger: opts.logger },
  );
}
