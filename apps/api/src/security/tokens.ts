/**
 * Access tokens with scopes. Tokens are kept only as SHA-256 digests and compared in constant
 * time, so neither memory dumps nor response timing reveal them.
 *
 * Scopes: `ingest` records interactions; `read` runs queries and subscriptions and scrapes
 * /metrics; `admin` changes alert configuration and acknowledges alerts, and implies both others.
 * With no token configured at all, authentication is off and every caller holds every scope.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling, as far as tokens can tell. */
export interface Principal {
  /** `open`: auth is off; `anonymous`: no token presented; `token`: a valid token; `invalid`: an unknown token. */
  readonly kind: 'open' | 'anonymous' | 'token' | 'invalid';
  readonly scopes: ReadonlySet<Scope>;
  /** Stable, non-secret identifier of the token (digest prefix) for rate limits and logs. */
  readonly id: string | null;
  /** The token's name when configured as `name:token` (who set a silence, created a rule). */
  readonly name?: string | null;
}

export interface TokenLists {
  ingestTokens: readonly string[];
  readTokens: readonly string[];
  adminTokens: readonly string[];
}

/** What each configured list grants; admin implies the other two. */
const GRANTS: Record<keyof TokenLists, readonly Scope[]> = {
  ingestTokens: ['ingest'],
  readTokens: ['read'],
  adminTokens: ['admin', 'read', 'ingest'],
};

interface Entry {
  digest: Buffer;
  scopes: ReadonlySet<Scope>;
  id: string;
  name: string | null;
}

/**
 * A configured token entry: `name:token` names the token (a name is 1–64 letters, digits,
 * `_`, `.`, `-` or `@`, followed by a colon and a token of at least 8 characters); anything
 * else is a plain token, taken whole.
 */
export function parseTokenEntry(entry: string): { name: string | null; token: string } {
  const m = /^([A-Za-z0-9_.@-]{1,64}):(.{8,})$/s.exec(entry);
  return m ? { name: m[1]!, token: m[2]! } : { name: null, token: entry };
}

/** Who a principal is, for "set by" fields: its name, else its digest prefix. */
export function principalLabel(p: Principal): string | null {
  if (p.name) return p.name;
  if (p.kind === 'token' && p.id) return `token ${p.id}`;
  return null;
}

const ALL_SCOPES: ReadonlySet<Scope> = new Set(SCOPES);
const NO_SCOPES: ReadonlySet<Scope> = new Set();
const OPEN: Principal = Object.freeze({ kind: 'open', scopes: ALL_SCOPES, id: null });
const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', scopes: NO_SCOPES, id: null });

function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class TokenStore {
  private readonly entries: Entry[];

  constructor(lists: TokenLists) {
    const byDigest = new Map<string, { digest: Buffer; scopes: Set<Scope>; name: string | null }>();
    for (const key of Object.keys(GRANTS) as (keyof TokenLists)[]) {
      for (const configured of lists[key]) {
        const { name, token } = parseTokenEntry(configured);
        const digest = digestOf(token);
        const hex = digest.toString('hex');
        const entry = byDigest.get(hex) ?? { digest, scopes: new Set<Scope>(), name };
        entry.name ??= name;
        for (const s of GRANTS[key]) entry.scopes.add(s);
        byDigest.set(hex, entry);
      }
    }
    this.entries = [...byDigest.entries()].map(([hex, e]) => ({ digest: e.digest, scopes: e.scopes, id: hex.slice(0, 12), name: e.name }));
  }

  /** True when at least one token is configured, so every request must present one. */
  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** Resolves a presented token (absent: undefined, null or empty) to a principal. */
  resolve(token: string | null | undefined): Principal {
    if (!this.enabled) return OPEN;
    if (!token) return ANONYMOUS;
    const digest = digestOf(token);
    let match: Entry | null = null;
    // Compare against every entry, without an early exit, so timing does not depend on the match.
    for (const entry of this.entries) {
      if (timingSafeEqual(digest, entry.digest)) match = entry;
    }
    if (!match) return { kind: 'invalid', scopes: NO_SCOPES, id: null };
    return { kind: 'token', scopes: match.scopes, id: match.id, name: match.name };
  }
}

/** The token of an `Authorization: Bearer <token>` value, or null. */
export function bearerToken(header: string | readonly string[] | undefined | null): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return null;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(value);
  return m ? m[1]! : null;
}

/** A human-readable reason a principal may not use a scope, or null when it may. */
export function scopeDenial(principal: Principal, scope: Scope): { status: 401 | 403; code: 'UNAUTHENTICATED' | 'FORBIDDEN'; message: string } | null {
  if (principal.scopes.has(scope)) return null;
  if (principal.kind === 'anonymous') {
    return { status: 401, code: 'UNAUTHENTICATED', message: `missing token: this server requires a token with scope ${scope} (send "Authorization: Bearer <token>")` };
  }
  if (principal.kind === 'invalid') return { status: 401, code: 'UNAUTHENTICATED', message: 'invalid token' };
  return { status: 403, code: 'FORBIDDEN', message: `token lacks scope ${scope}` };
}
