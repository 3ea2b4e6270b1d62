/** Turns a scope-auth failure into an error that says what is missing: a token, or a scope. */
import { GraphQLError } from 'graphql';
import type { AuthFailure, ForbiddenResult } from '@pothos/plugin-scope-auth';
import { SCOPES, scopeDenial, type Principal, type Scope } from './tokens.js';

/** The first scope named in a (possibly nested) failure. */
function failedScope(failure: AuthFailure): Scope | null {
  if ('scope' in failure && (SCOPES as readonly string[]).includes(failure.scope)) return failure.scope as Scope;
  if ('failures' in failure) {
    for (const f of failure.failures) {
      const s = failedScope(f);
      if (s) return s;
    }
  }
  return null;
}

export function scopeAuthError(principal: Principal, result: ForbiddenResult): GraphQLError {
  const scope = failedScope(result.failure);
  const denial = scope ? scopeDenial(principal, scope) : null;
  if (!denial) return new GraphQLError(result.message, { extensions: { code: 'FORBIDDEN' } });
  return new GraphQLError(denial.message, { extensions: { code: denial.code } });
}
