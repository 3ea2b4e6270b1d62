/** Named tokens (`name:token`): the token is the part after the colon and the name says who; plain tokens keep working. */
import { describe, expect, it } from 'vitest';
import { TokenStore, parseTokenEntry, principalLabel } from '../../apps/api/src/security/tokens.js';

describe('named tokens', () => {
  it('reads name:token, and anything else as a plain token', () => {
    expect(parseTokenEntry('alice:s3cret-token')).toEqual({ name: 'alice', token: 's3cret-token' });
    expect(parseTokenEntry('ci.bot@example:12345678')).toEqual({ name: 'ci.bot@example', token: '12345678' });
    // Too short after the colon, or a name with other characters: the whole entry is the token.
    expect(parseTokenEntry('a:short')).toEqual({ name: null, token: 'a:short' });
    expect(parseTokenEntry('has space:long-enough-token')).toEqual({ name: null, token: 'has space:long-enough-token' });
    expect(parseTokenEntry('plain-token')).toEqual({ name: null, token: 'plain-token' });
  });

  it('grants by the token alone and labels the principal with the name', () => {
    const store = new TokenStore({ ingestTokens: ['plain-ingest'], readTokens: [], adminTokens: ['alice:admin-token-1'] });
    const alice = store.resolve('admin-token-1');
    expect(alice.kind).toBe('token');
    expect([...alice.scopes].sort()).toEqual(['admin', 'ingest', 'read']);
    expect(principalLabel(alice)).toBe('alice');
    expect(store.resolve('alice:admin-token-1').kind).toBe('invalid');
    const plain = store.resolve('plain-ingest');
    expect([...plain.scopes]).toEqual(['ingest']);
    expect(principalLabel(plain)).toBe(`token ${plain.id}`);
    expect(principalLabel(new TokenStore({ ingestTokens: [], readTokens: [], adminTokens: [] }).resolve(null))).toBeNull();
  });
});
