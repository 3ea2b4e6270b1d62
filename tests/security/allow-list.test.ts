/**
 * IP allow-list with IPv4 and IPv6 ranges, checked on accept before any work: 127.0.0.1 and
 * 127.0.0.2 are both loopback on Linux, so a server on 0.0.0.0 allowing only 127.0.0.1 must
 * refuse a client bound to 127.0.0.2. X-Forwarded-For counts only with trustProxy.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RECORD, http, openSeed, serve, upgradeStatus } from './helpers.js';
import { startServer } from '../helpers/app.js';

/** Resolves 'refused' when the server drops the connection, else the HTTP status. */
async function statusFrom(url: string, localAddress?: string, headers?: Record<string, string>): Promise<number | 'refused'> {
  try {
    return (await http(url, { localAddress, headers })).status;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toMatch(/ECONNRESET|EPIPE|ECONNREFUSED|socket hang up/);
    return 'refused';
  }
}

function wsRefused(url: string, localAddress: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress });
    ws.on('open', () => {
      ws.terminate();
      resolve(false);
    });
    ws.on('error', () => resolve(true));
  });
}

describe('IP allow-list', () => {
  it('accepts 127.0.0.1 and refuses 127.0.0.2 over IPv4, on HTTP and WebSocket', async () => {
    const s = await serve({ host: '0.0.0.0', env: { AI_MONITOR_ALLOWED_IPS: '127.0.0.1,10.0.0.0/8' } });
    const base = `http://127.0.0.1:${s.port}`;
    expect(await statusFrom(`${base}/health`, '127.0.0.1')).toBe(200);
    expect(await statusFrom(`${base}/health`, '127.0.0.2')).toBe('refused');
    expect(await wsRefused(`ws://127.0.0.1:${s.port}`, '127.0.0.2')).toBe(true);
    const seed = await openSeed(`ws://127.0.0.1:${s.port}`, { localAddress: '127.0.0.1' });
    seed.send({ type: 'metrics', data: RECORD });
    expect((await seed.next()).type).toBe('ack');
    // The server is unharmed by the refusals.
    expect(await statusFrom(`${base}/health`, '127.0.0.1')).toBe(200);
  });

  it('matches CIDR ranges, IPv6 loopback and IPv4-mapped IPv6 peers of a dual-stack socket', async () => {
    const s = await serve({ host: '::', env: { AI_MONITOR_ALLOWED_IPS: '127.0.0.0/31,fd00::/8' } });
    // 127.0.0.0/31 holds .0 and .1: the IPv4 client arrives as ::ffff:127.0.0.1 and is allowed.
    expect(await statusFrom(`http://127.0.0.1:${s.port}/health`, '127.0.0.1')).toBe(200);
    expect(await statusFrom(`http://127.0.0.1:${s.port}/health`, '127.0.0.2')).toBe('refused');
    expect(await statusFrom(`http://[::1]:${s.port}/health`)).toBe('refused');

    const v6 = await serve({ host: '::', env: { AI_MONITOR_ALLOWED_IPS: '::1/128' } });
    expect(await statusFrom(`http://[::1]:${v6.port}/health`)).toBe(200);
    expect(await statusFrom(`http://127.0.0.1:${v6.port}/health`)).toBe('refused');
  });

  it('trusts X-Forwarded-For only with trustProxy, using the entry the proxy appended', async () => {
    const env = { AI_MONITOR_ALLOWED_IPS: '10.0.0.0/8' };
    const direct = await serve({ env });
    // Without trustProxy the loopback peer is checked (and refused) whatever the header says.
    expect(await statusFrom(`${direct.url}/health`, undefined, { 'x-forwarded-for': '10.1.2.3' })).toBe('refused');

    const proxied = await serve({ env: { ...env, AI_MONITOR_TRUST_PROXY: 'true' } });
    expect(await statusFrom(`${proxied.url}/health`, undefined, { 'x-forwarded-for': '10.1.2.3' })).toBe(200);
    expect(await statusFrom(`${proxied.url}/health`, undefined, { 'x-forwarded-for': '10.1.2.3, 192.0.2.7' })).toBe(403);
    expect(await statusFrom(`${proxied.url}/health`)).toBe(403);
    expect(await upgradeStatus(proxied.wsUrl, { headers: { 'x-forwarded-for': '192.0.2.7' } })).toBe(403);
    expect(await upgradeStatus(proxied.wsUrl, { headers: { 'x-forwarded-for': '10.9.9.9' } })).toBe(101);
  });

  it('refuses to start on an invalid entry, naming it', async () => {
    for (const bad of ['10.0.0.0/33', 'not-an-ip', 'fd00::/129', '300.1.1.1']) {
      const err = await startServer({ env: { AI_MONITOR_ALLOWED_IPS: `127.0.0.1,${bad}` } }).then(
        async (s) => {
          await s.stop();
          s.cleanup();
          return null;
        },
        (e: Error) => e,
      );
      expect(err?.message).toContain(`allowedIps (AI_MONITOR_ALLOWED_IPS): "${bad}"`);
    }
  });
});
