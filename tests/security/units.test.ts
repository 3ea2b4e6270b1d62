/** The security building blocks on their own: allow-list matching, token scopes, buckets, bounded streams. */
import { describe, expect, it } from 'vitest';
import { Repeater } from 'graphql-yoga';
import { AllowListEntryError, IpAllowList, clientAddress, isLoopbackHost, normaliseAddress } from '../../apps/api/src/security/ip-allow.js';
import { TokenStore, bearerToken, scopeDenial } from '../../apps/api/src/security/tokens.js';
import { RateLimiter } from '../../apps/api/src/security/rate-limit.js';
import { Backpressure } from '../../apps/api/src/pubsub/backpressure.js';
import type { IncomingMessage } from 'node:http';

describe('IpAllowList', () => {
  const list = IpAllowList.parse(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '192.168.1.0/24']);

  it('matches addresses and ranges of both families, and IPv4-mapped IPv6', () => {
    for (const ok of ['127.0.0.1', '10.255.0.3', '::1', 'fd12:3456::1', '::ffff:10.1.2.3', '::FFFF:127.0.0.1', '192.168.1.200', 'fe80::1%eth0'.replace('fe80::1', 'fd00::1')]) {
      expect(list.allows(ok), ok).toBe(true);
    }
    for (const no of ['127.0.0.2', '11.0.0.1', '::2', 'fe80::1', '::ffff:11.0.0.1', '192.168.2.1', '', 'garbage', undefined]) {
      expect(list.allows(no), String(no)).toBe(false);
    }
  });

  it('allows everything when empty, and names the first bad entry', () => {
    expect(IpAllowList.parse([]).allows('203.0.113.9')).toBe(true);
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fd00::/129', 'localhost', '1.2.3.4/x', '']) {
      expect(() => IpAllowList.parse(['127.0.0.1', bad])).toThrow(AllowListEntryError);
      try {
        IpAllowList.parse([bad]);
      } catch (err) {
        expect((err as Error).message).toContain(`"${bad}"`);
      }
    }
  });

  it('reads the client address from X-Forwarded-For only when trusting a proxy', () => {
    const req = { headers: { 'x-forwarded-for': '198.51.100.1, 10.0.0.7' }, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
    expect(clientAddress(req, false)).toBe('127.0.0.1');
    expect(clientAddress(req, true)).toBe('10.0.0.7');
    expect(normaliseAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('::')).toBe(false);
  });
});

describe('TokenStore', () => {
  const store = new TokenStore({ ingestTokens: ['i', 'shared'], readTokens: ['r', 'shared'], adminTokens: ['a'] });

  it('grants scopes per list, admin implying the others, a token in two lists holding both', () => {
    expect([...store.resolve('i').scopes].sort()).toEqual(['ingest']);
    expect([...store.resolve('r').scopes].sort()).toEqual(['read']);
    expect([...store.resolve('a').scopes].sort()).toEqual(['admin', 'ingest', 'read']);
    expect([...store.resolve('shared').scopes].sort()).toEqual(['ingest', 'read']);
    expect(store.resolve('nope').kind).toBe('invalid');
    expect(store.resolve(undefined).kind).toBe('anonymous');
    expect(store.resolve('a').id).toMatch(/^[0-9a-f]{12}$/);
    expect(store.resolve('a').id).not.toBe(store.resolve('r').id);
  });

  it('is open with no tokens, and explains denials', () => {
    const open = new TokenStore({ ingestTokens: [], readTokens: [], adminTokens: [] });
    expect(open.enabled).toBe(false);
    expect(open.resolve(undefined).scopes.has('admin')).toBe(true);
    expect(scopeDenial(store.resolve(undefined), 'read')?.message).toMatch(/missing token/);
    expect(scopeDenial(store.resolve('i'), 'admin')).toMatchObject({ status: 403, message: 'token lacks scope admin' });
    expect(scopeDenial(store.resolve('a'), 'admin')).toBeNull();
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then refills at the rate (clock injected)', () => {
    const rl = new RateLimiter({ perSecond: 2, burst: 3 });
    const at = (ms: number): boolean => rl.take('k', ms).ok;
    expect([at(0), at(0), at(0), at(0)]).toEqual([true, true, true, false]);
    expect(at(499)).toBe(false);
    expect(at(500)).toBe(true);
    expect(rl.take('other', 500).ok).toBe(true);
    const refused = rl.take('k', 500);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterSeconds).toBe(1);
  });

  it('is off at rate 0 and forgets idle clients when full', () => {
    expect(new RateLimiter({ perSecond: 0, burst: 1 }).take('k').ok).toBe(true);
    const rl = new RateLimiter({ perSecond: 1, burst: 1, maxClients: 2 });
    expect(rl.take('a', 0).ok).toBe(true);
    expect(rl.take('b', 0).ok).toBe(true);
    expect(rl.take('c', 5000).ok).toBe(true); // a and b had refilled and were forgotten
    expect(rl.take('a', 5000).ok).toBe(true);
  });
});

describe('Backpressure.bound', () => {
  it('drains its source at once and drops the oldest events beyond the capacity, counting them', async () => {
    let push!: (v: number[]) => Promise<unknown>;
    let sourceStopped = false;
    const source = new Repeater<number[]>(async (p, stop) => {
      push = p;
      await stop;
      sourceStopped = true;
    });
    const backpressure = new Backpressure(5);
    const stream = backpressure.bound(source);
    const it = stream[Symbol.asyncIterator]();
    const first = it.next();
    await Promise.resolve();
    void push([1]);
    expect((await first).value).toEqual([1]);
    // The consumer stalls; the source is never made to wait (an unbuffered source would queue these).
    for (let i = 2; i <= 10; i++) await push([i, i]);
    await new Promise((r) => setImmediate(r));
    const got: number[][] = [];
    for (let i = 0; i < 2; i++) got.push((await it.next()).value as number[]);
    // Weight 2 each, capacity 5: the two newest are kept; events 2..8 (weight 14) were dropped.
    expect(got).toEqual([[9, 9], [10, 10]]);
    expect(await backpressure.droppedTotal()).toBe(14);
    await it.return?.();
    await new Promise((r) => setImmediate(r));
    expect(sourceStopped).toBe(true);
  });
});
