/**
 * TLS from a certificate and key file: https and wss on one port, both WebSocket protocols,
 * with a self-signed certificate made here and verified by the clients (no verification skipped).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECORD, TOKENS, TOKEN_ENV, gqlAs, graphqlWs, http, openSeed, serve, wsOnce } from './helpers.js';

let dir = '';
let ca: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ai-monitor-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  ca = readFileSync(join(dir, 'cert.pem'));
  return () => rmSync(dir, { recursive: true, force: true });
});

const tlsEnv = () => ({ AI_MONITOR_TLS_CERT: join(dir, 'cert.pem'), AI_MONITOR_TLS_KEY: join(dir, 'key.pem') });

describe('TLS', () => {
  it('serves https and wss (seed protocol and graphql-ws) on the same port', async () => {
    const s = await serve({ env: { ...tlsEnv(), ...TOKEN_ENV } });
    expect(s.output()).toMatch(/listening on https:\/\//);
    expect(s.url).toMatch(/^https:/);

    const health = await http(`${s.url}/health`, { ca });
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({ status: 'healthy' });
    const q = await gqlAs(s.url, '{ metrics { count } }', TOKENS.read, undefined, { ca });
    expect(q.data?.metrics).toEqual({ count: 0 });

    const seed = await openSeed(s.wsUrl, { ca });
    expect(s.wsUrl).toMatch(/^wss:/);
    seed.send({ type: 'auth', token: TOKENS.ingest });
    expect((await seed.next()).type).toBe('auth_ok');
    seed.send({ type: 'metrics', data: RECORD });
    expect((await seed.next()).type).toBe('ack');

    const gws = graphqlWs(s.wsUrl, { token: TOKENS.read }, { ca });
    expect((await wsOnce(gws.client, '{ metrics { count } }')).data).toEqual({ metrics: { count: 1 } });
  });

  it('refuses plain-text clients and clients that do not trust the certificate', async () => {
    const s = await serve({ env: tlsEnv() });
    await expect(http(`${s.url}/health`)).rejects.toThrow(/self-signed|certificate/i);
    const plain = s.url.replace(/^https/, 'http');
    const reply = await http(`${plain}/health`).catch((err: Error) => err);
    // Node's TLS server answers plain HTTP with a 400 or drops the connection; never with data.
    if (!(reply instanceof Error)) expect(reply.status).toBe(400);
  });

  it('refuses to start with only one of certificate and key', async () => {
    await expect(serve({ env: { AI_MONITOR_TLS_CERT: join(dir, 'cert.pem') } })).rejects.toThrow(/tlsCert and tlsKey/);
  });
});
