/**
 * GraphQL hardening, one list for Yoga (HTTP) and the validation rules the graphql-ws path
 * needs besides: graphql-armor's depth, cost, alias, token and directive limits (its rules run
 * in envelop's parse/validate, which the WebSocket path calls too), introspection off unless
 * enabled, field suggestions masked when introspection is off (they would leak the schema),
 * and CSRF prevention (a browser's "simple" request cannot carry the custom header).
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The header browsers' cross-site "simple" requests cannot send; GraphiQL and the dashboard send it. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

export interface GraphqlLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
}

export interface HardeningOptions {
  introspection: boolean;
  limits: GraphqlLimits;
}

// Only the operation's own limits are named in errors; nothing about the schema.
export function graphqlHardeningPlugins(opts: HardeningOptions): Plugin[] {
  const { limits } = opts;
  const plugins: Plugin[] = [
    EnvelopArmorPlugin({
      maxDepth: { n: limits.maxDepth, exposeLimits: true },
      costLimit: { maxCost: limits.maxCost, exposeLimits: true },
      maxAliases: { n: limits.maxAliases, exposeLimits: true },
      maxTokens: { n: limits.maxTokens, exposeLimits: true },
      maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
      blockFieldSuggestion: { enabled: !opts.introspection },
    }),
    useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
  ];
  if (!opts.introspection) plugins.push(useDisableIntrospection());
  return plugins;
}

/** Rules Yoga's HTTP-only plugins do not add on the graphql-ws path. */
export function wsValidationRules(opts: Pick<HardeningOptions, 'introspection'>): ValidationRule[] {
  return opts.introspection ? [] : [NoSchemaIntrospectionCustomRule];
}
