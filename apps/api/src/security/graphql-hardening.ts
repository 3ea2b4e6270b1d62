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
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule, type ASTVisitor } from 'graphql';
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
  /**
   * Why the caller of this operation may not read the schema (introspection and "did you mean"
   * suggestions), or null when it may: with tokens configured, only callers holding the read
   * scope may. Receives the envelop context (HTTP: Yoga's request context; graphql-ws: the
   * connection's context).
   */
  schemaDenial: (context: Record<string, unknown>) => SchemaDenial | null;
}

export interface SchemaDenial {
  code: string;
  message: string;
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
    useSchemaReadScope(opts.schemaDenial),
  ];
  if (!opts.introspection) plugins.push(useDisableIntrospection());
  return plugins;
}

/** Rules Yoga's HTTP-only plugins do not add on the graphql-ws path. */
export function wsValidationRules(opts: Pick<HardeningOptions, 'introspection'>): ValidationRule[] {
  return opts.introspection ? [] : [NoSchemaIntrospectionCustomRule];
}

/**
 * A rule refusing `__schema` and `__type` (not `__typename`) with the caller's denial. One rule
 * per distinct denial, each with its own name: Yoga's validation cache keys on rule names.
 */
const introspectionRules = new Map<string, ValidationRule>();
function introspectionRule(denial: SchemaDenial): ValidationRule {
  const key = `${denial.code}:${denial.message}`;
  let rule = introspectionRules.get(key);
  if (!rule) {
    const message = `reading the schema (introspection): ${denial.message}`;
    rule = (context: ValidationContext): ASTVisitor => ({
      Field(node) {
        if (node.name.value === '__schema' || node.name.value === '__type') {
          context.reportError(new GraphQLError(message, { nodes: node, extensions: { code: denial.code } }));
        }
      },
    });
    Object.defineProperty(rule, 'name', { value: `IntrospectionRequiresReadScope${introspectionRules.size}` });
    introspectionRules.set(key, rule);
  }
  return rule;
}

const SUGGESTION = / ?Did you mean .*\?$/;

/**
 * Per operation: a caller that may not read the schema gets the introspection rule added (the
 * validation cache keys on the rules, so an authorised caller's cached result is never reused)
 * and "did you mean" suggestions stripped from validation errors. Runs on HTTP and graphql-ws,
 * both of which validate through envelop.
 */
function useSchemaReadScope(schemaDenial: HardeningOptions['schemaDenial']): Plugin {
  return {
    onValidate({ context, addValidationRule }) {
      const denial = schemaDenial(context as Record<string, unknown>);
      if (!denial) return;
      addValidationRule(introspectionRule(denial));
      return ({ result, setResult }) => {
        if (!result.some((e) => SUGGESTION.test(e.message))) return;
        setResult(result.map((e) => (SUGGESTION.test(e.message) ? withoutSuggestion(e) : e)));
      };
    },
  };
}

function withoutSuggestion(e: GraphQLError): GraphQLError {
  return new GraphQLError(e.message.replace(SUGGESTION, ''), { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, originalError: e.originalError, extensions: e.extensions });
}
