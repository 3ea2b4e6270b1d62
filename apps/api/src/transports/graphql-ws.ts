/**
 * graphql-ws on `ws`, executing through Yoga's envelop so plugins and context apply.
 * Parse and validation errors are returned as errors of that one operation, never thrown:
 * a throw would close the socket and every other subscription on it.
 */
import type { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, specifiedRules, type ExecutionArgs, type ValidationRule } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log/logger.js';

type EnvelopedExec = Pick<ReturnType<YogaServerInstance<object, object>['getEnveloped']>, 'execute' | 'subscribe'>;

export interface GraphqlWsOptions {
  logger: Logger;
  /** Extra validation rules on this path (HTTP-only plugins do not cover WebSockets). */
  extraRules?: ValidationRule[];
  /** Decides whether a connection may open, from its `connection_init` payload. */
  onConnect?: (params: Record<string, unknown> | undefined, request: IncomingMessage) => boolean | Promise<boolean>;
}

export function attachGraphqlWs(wss: WebSocketServer, yoga: YogaServerInstance<object, object>, opts: GraphqlWsOptions): ReturnType<typeof useServer> {
  return useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedExec).execute(args),
      subscribe: (args) => (args.rootValue as EnvelopedExec).subscribe(args),
      onConnect: async (ctx) => (opts.onConnect ? opts.onConnect(ctx.connectionParams, ctx.extra.request) : true),
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
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
          rootValue: { execute, subscribe },
        };
        return args;
      },
      onError: (_ctx, _id, _payload, errors) => {
        opts.logger.debug({ errors: errors.map((e) => e.message) }, 'graphql-ws operation error');
      },
    },
    wss,
  );
}
