/**
 * The Pothos builder: code-first schema with the relay plugin for cursor connections and the
 * scope-auth plugin for token scopes (read on Query and Subscription, admin on Mutation unless
 * a field says otherwise, as the recording mutations do with ingest).
 */
import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError, GraphQLScalarType, Kind, valueFromASTUntyped } from 'graphql';
import type { Context } from './context.js';
import { scopeAuthError } from '../security/scope-errors.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  AuthScopes: { ingest: boolean; read: boolean; admin: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date | number };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
}>({
  // Scope auth first, so no other plugin's wrapper runs before authorisation.
  plugins: [ScopeAuthPlugin, RelayPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({ ingest: ctx.auth.scopes.has('ingest'), read: ctx.auth.scopes.has('read'), admin: ctx.auth.scopes.has('admin') }),
    unauthorizedError: (_parent, ctx, _info, result) => scopeAuthError(ctx.auth, result),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
  },
});

const dateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'ISO-8601 date-time. Input without a zone is taken as UTC.',
  serialize: (value) => new Date(value instanceof Date ? value.getTime() : Number(value)).toISOString(),
  parseValue: (value) => parseDate(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime: expected an ISO-8601 string');
    return parseDate(ast.value);
  },
});

function parseDate(value: unknown): Date {
  if (typeof value !== 'string') throw new GraphQLError('DateTime: expected an ISO-8601 string');
  const text = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) || value.length === 10 ? value : `${value}Z`;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new GraphQLError(`DateTime: not a valid ISO-8601 date-time: "${value.slice(0, 40)}"`);
  return d;
}

const jsonObject = new GraphQLScalarType<Record<string, unknown>, Record<string, unknown>>({
  name: 'JSONObject',
  description: 'Any JSON object.',
  serialize: (value) => value as Record<string, unknown>,
  parseValue: (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new GraphQLError('JSONObject: expected a JSON object');
    return value as Record<string, unknown>;
  },
  parseLiteral: (ast, variables) => {
    if (ast.kind !== Kind.OBJECT) throw new GraphQLError('JSONObject: expected a JSON object');
    return valueFromASTUntyped(ast, variables) as Record<string, unknown>;
  },
});

builder.addScalarType('DateTime', dateTime);
builder.addScalarType('JSONObject', jsonObject);

builder.queryType({ authScopes: { read: true } });
// Every mutation needs admin unless it opts out (recordInteraction/s: skipTypeScopes + ingest).
builder.mutationType({ authScopes: { admin: true } });
builder.subscriptionType({ authScopes: { read: true } });
