/**
 * Fuzzing HTTP against a real server process: every route (/graphql, /api/interactions, /v1/traces,
 * /metrics, /health, the dashboard's files) with wrong methods, content types and bodies,
 * hostile headers and paths; malformed, truncated and chunked requests and bodies without a
 * length on raw sockets; hostile WebSocket upgrade requests, refused ones that reset. A
 * request gets an answer naming its problem (or loses only its own connection); the server
 * always survives.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { connect as tlsConnect } from 'node:tls';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from '../security/helpers.js';
import { REPO_ROOT } from '../helpers/server.js';
import { hostileValue, mutatedRecord, seedRecord } from './arbitraries.js';
import { fuzzServer, type ServerInvariant } from './invariant.js';
import { hangUp, rawHttp, statusOf } from './raw.js';
import { countCase, fuzzTimeout, params, reportCases } from './settings.js';

reportCases('http');

const ROUTES = ['/graphql', '/api/interactions', '/v1/traces', '/metrics', '/health', '/', '/index.html', '/favicon.svg', '/_app/missing.js', '/sessions/x', '/graphql?query=%7B__typename%7D'];
const JSON_ROUTES = ['/graphql', '/api/interactions'];

const hostilePath = fc.oneof(
  fc.constantFrom(...ROUTES),
  fc.constantFrom('//[token=x', '/%E0%A4%A', '/%ff%fe', '/..%2f..%2fetc%2fpasswd', '/../../etc/passwd', '/graphql/../health', '/%00', '/?token=%zz', '/health?' + 'a=1&'.repeat(2000), '*', '/' + 'a'.repeat(8000)),
  fc.tuple(fc.constantFrom(...ROUTES), fc.webPath()).map(([a, b]) => a + b),
  fc.webUrl({ withQueryParameters: true, withFragments: true }).map((u) => new URL(u).pathname + new URL(u).search),
);

const contentType = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=zz', 'application/graphql-response+json', 'application/graphql', '*/*', ''),
  fc.string({ maxLength: 60 }).filter((s) => !/[\r\n]/.test(s) && /^[\x20-\x7e]*$/.test(s)),
);

const body = fc.oneof(
  fc.record({ query: fc.constantFrom('{ health { status } }', '{ metrics(window: "1h") { count } }', 'mutation($i: InteractionInput!) { recordInteraction(input: $i) { id } }', '{'), variables: fc.option(hostileValue) }).map((b) => JSON.stringify(b)),
  fc.oneof(seedRecord, mutatedRecord).map((r) => JSON.stringify(r)),
  fc.array(fc.oneof(seedRecord, mutatedRecord), { maxLength: 10 }).map((rs) => JSON.stringify({ data: rs })),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constant(''),
);

/** Header values a client may send (the HTTP client refuses CR/LF, the raw-socket cases send those). */
const headerValue = fc.oneof(fc.constantFrom('', 'Bearer', 'Bearer x y', 'bytes=9-1', 'bytes=0-0,5-', 'gzip, br', '0', '-1', 'abc'), fc.string({ maxLength: 100 }).filter((s) => /^[\x20-\x7e\t]*$/.test(s)));
const headers = fc.dictionary(fc.constantFrom('authorization', 'range', 'accept', 'accept-encoding', 'if-none-match', 'x-forwarded-for', 'x-graphql-yoga-csrf', 'origin', 'cookie', 'x-fuzz'), headerValue, { maxKeys: 5 });

/** A JSON route's 4xx answer names the problem. */
function expectNamedError(path: string, status: number, text: string): void {
  if (status < 400 || !JSON_ROUTES.includes(path)) return;
  // 406 / 415 (Yoga's media-type negotiation) come without a body; the status names the problem.
  if ((status === 406 || status === 415) && text === '') return;
  expect(text, `HTTP ${status} without a body`).not.toBe('');
  const parsed = JSON.parse(text) as { error?: string; errors?: { message?: string }[] };
  expect(parsed.error ?? parsed.errors?.[0]?.message ?? '').toMatch(/\w/);
}

async function request(inv: ServerInvariant, method: string, path: string, hdrs: Record<string, string>, payload: string | undefined): Promise<{ status: number; body: string }> {
  const res = await http(`${inv.server.url}${path.startsWith('/') ? path : `/${path}`}`, { method, headers: hdrs, body: payload });
  if (res.status === 200 && res.headers['content-type']?.includes('json') && JSON_ROUTES.includes(path)) {
    const parsed = JSON.parse(res.body) as { ids?: string[]; data?: { recordInteraction?: { id: string } | null } };
    if (Array.isArray(parsed.ids)) inv.acknowledge(parsed.ids);
    if (parsed.data?.recordInteraction?.id) inv.acknowledge([parsed.data.recordInteraction.id]);
  }
  return { status: res.status, body: res.body };
}

/** Raw request texts: malformed, conflicting, truncated, chunked; `answered` says whether a reply must come. */
interface RawCase {
  data: Buffer;
  answered: boolean;
  hangUp: 'end' | 'destroy' | 'reset';
}

const target = fc.constantFrom('/graphql', '/api/interactions', '/health', '/metrics', '/');
const record = JSON.stringify({ session_id: 'fuzz-raw', user_input: 'hi', intent: 'greet', response_time_ms: 5, success: true });

const rawCase: fc.Arbitrary<RawCase> = fc.oneof<fc.Arbitrary<Omit<RawCase, 'hangUp'>>[]>(
  // Garbage instead of a request.
  fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => ({ data: Buffer.concat([Buffer.from(b), Buffer.from('\r\n\r\n')]), answered: false })),
  // Request lines and headers that break the grammar.
  fc
    .tuple(
      fc.constantFrom('GET / HTTP/1.1', 'GET  / HTTP/1.1', 'G\u0000T / HTTP/1.1', 'GET / HTTP/9.9', 'GET /\u0001 HTTP/1.1', 'GET http://evil.example/graphql HTTP/1.1', 'CONNECT 127.0.0.1:22 HTTP/1.1', 'PRI * HTTP/2.0', 'GET /', 'POST /api/interactions HTTP/1.0', 'OPTIONS * HTTP/1.1', 'BREW /coffee HTCPCP/1.0'),
      fc.array(fc.constantFrom('Host: x', 'Host:', 'X: a\rb', 'X : a', ' X: folded', 'X-\u00ff: y', 'Content-Length: 5', 'Content-Length: 1, 2', 'Content-Length: -1', 'Content-Length: 99999999999999999999', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: identity', 'Expect: 100-continue', 'Connection: upgrade', 'Upgrade: h2c', 'Authorization: Bearer \u0000'), { maxLength: 5 }),
    )
    .map(([line, hs]) => ({ data: Buffer.from(`${line}\r\n${['Host: x', ...hs].join('\r\n')}\r\n\r\n`, 'latin1'), answered: false })),
  // Headers too large: 431.
  fc.integer({ min: 17_000, max: 70_000 }).map((n) => ({ data: Buffer.from(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(n)}\r\n\r\n`), answered: true })),
  // A body shorter than its Content-Length, then the client hangs up.
  fc.tuple(target, fc.integer({ min: 1, max: 2_000_000 }), fc.nat()).map(([path, declared, sent]) => ({
    data: Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n${record.repeat(1 + (sent % 50)).slice(0, Math.max(0, declared - 1))}`),
    answered: false,
  })),
  // Chunked bodies: valid, with bad sizes, or cut off.
  fc.tuple(target, fc.array(fc.string({ minLength: 1, maxLength: 50 }), { maxLength: 6 }), fc.constantFrom('ok', 'bad-size', 'cut', 'no-final', 'huge-size')).map(([path, pieces, mode]) => {
    const chunks = [record, ...pieces].map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('');
    const tail = { ok: '0\r\n\r\n', 'bad-size': 'zz\r\nxx\r\n0\r\n\r\n', cut: '', 'no-final': '5\r\nab', 'huge-size': 'ffffffffffffffffff\r\n' }[mode];
    return { data: Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}${tail}`), answered: mode === 'ok' };
  }),
  // A body without any length on a request that needs one, and pipelined requests.
  fc.tuple(target, fc.integer({ min: 1, max: 5 })).map(([path, n]) => ({
    data: Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n${record}` + `GET /health HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(n)),
    answered: true,
  })),
).chain((c) => fc.constantFrom<RawCase['hangUp']>('end', 'destroy', 'reset').map((hangUp) => ({ ...c, hangUp })));

describe('HTTP fuzz', () => {
  const server = fuzzServer();

  it('any method, path, content type, headers and body on every route: an answer below 500 naming the problem', async () => {
    const inv = server();
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');
    await fc.assert(
      fc.asyncProperty(method, hostilePath, contentType, headers, body, async (m, path, type, hdrs, payload) => {
        countCase('http');
        // Node's client sends other methods' bodies without a length (raw-socket cases cover that).
        const withBody = m === 'POST' || m === 'PUT' || m === 'PATCH';
        const all: Record<string, string> = { ...hdrs, ...(type ? { 'content-type': type } : {}) };
        let res;
        try {
          res = await request(inv, m, path, all, withBody ? payload : undefined);
        } catch (err) {
          // The HTTP client itself refuses some of these targets (e.g. '*'); the server is judged below.
          if (!/Request path contains unescaped characters|Invalid URL|ERR_UNESCAPED_CHARACTERS|ERR_INVALID_URL/.test(String(err))) throw err;
          inv.assertAlive();
          return;
        }
        inv.assertAlive();
        expect(res.status, `${m} ${path} → ${res.status} ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (m !== 'HEAD') expectNamedError(path.split('?')[0]!, res.status, res.body);
      }),
      params(300),
    );
    await inv.check();
  });

  it('malformed, conflicting, truncated and chunked requests on raw sockets cost only their connection', async () => {
    const inv = server();
    await fc.assert(
      fc.asyncProperty(rawCase, async (c) => {
        countCase('http');
        const conn = await rawHttp(inv.server.port, c.data);
        if (c.answered) expect(await conn.until((d) => statusOf(d) !== null, 15_000), c.data.subarray(0, 120).toString('latin1')).toBe(true);
        else await conn.until((d) => statusOf(d) !== null, 200);
        const status = statusOf(conn.received());
        if (status !== null) expect(status, conn.received().subarray(0, 300).toString('latin1')).toBeLessThan(500);
        if (status !== null && status >= 400 && /malformed HTTP request|request headers are too large/.test(conn.received().toString('latin1'))) {
          expect(conn.received().toString('latin1')).toMatch(/"error":"(malformed HTTP request: .+|request headers are too large)"/);
        }
        hangUp(conn.socket, c.hangUp);
        await conn.closedWithin(5_000);
        inv.assertAlive();
      }),
      params(150),
    );
    await inv.check();
  });

  it('a request the parser refuses is answered 400 or 431 with a JSON error naming the problem', async () => {
    const inv = server();
    const bad = fc.oneof(
      fc.constantFrom('GET / HTTP/9.9\r\n\r\n', 'G\u0000T / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n', 'GET / HTTP/1.1\r\nX : a\r\n\r\n').map((s) => ({ s, status: 400 })),
      fc.integer({ min: 17_000, max: 40_000 }).map((n) => ({ s: `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(n)}\r\n\r\n`, status: 431 })),
      // A broken chunked body on a route that reads the body before answering.
      fc.constantFrom('zz', 'ffffffffffffffffff', '-1').map((size) => ({ s: `POST /api/interactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\n{}\r\n0\r\n\r\n`, status: 400 })),
    );
    await fc.assert(
      fc.asyncProperty(bad, async ({ s, status }) => {
        countCase('http');
        const conn = await rawHttp(inv.server.port, Buffer.from(s, 'latin1'));
        expect(await conn.until((d) => statusOf(d) !== null, 15_000)).toBe(true);
        expect(statusOf(conn.received())).toBe(status);
        expect(conn.received().toString('latin1')).toMatch(/application\/json[\s\S]*"error":"\w/);
        expect(await conn.closedWithin(15_000)).toBe(true);
        inv.assertAlive();
      }),
      params(10),
    );
    await inv.check();
  });

  it('a valid request followed by a malformed pipelined one: the first is answered, then a 400 naming the problem', async () => {
    const inv = server();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/health', '/metrics', '/', '/favicon.svg'), fc.constantFrom('GET / HTTP/9.9', 'G\u0000T / HTTP/1.1', '\u0001\u0002'), async (path, broken) => {
        countCase('http');
        const conn = await rawHttp(inv.server.port, Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n${broken}\r\n\r\n`, 'latin1'));
        expect(await conn.closedWithin(15_000)).toBe(true);
        const text = conn.received().toString('latin1');
        expect(statusOf(conn.received())).toBe(200);
        expect(text).toMatch(/HTTP\/1\.1 400 Bad Request[\s\S]*"error":"malformed HTTP request: /);
        inv.assertAlive();
      }),
      params(8),
    );
    await inv.check();
  });

  it('hostile WebSocket upgrade requests (targets, keys, versions, protocols) never stop the server', async () => {
    const inv = server();
    const upgrade = fc
      .tuple(
        fc.oneof(fc.constantFrom('//[token=x', '/?token=%zz', '/graphql?token=', '/%E0%A4%A', '//[', '/graphql'), hostilePath),
        fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', '', 'short', 'x'.repeat(300)),
        fc.constantFrom('13', '8', '', 'abc'),
        fc.constantFrom('', 'graphql-transport-ws', 'graphql-ws', 'graphql-transport-ws, graphql-transport-ws', 'a b c', '\u00ff'),
        fc.constantFrom('websocket', 'WebSocket', 'h2c', ''),
      )
      .map(([path, key, version, protocol, up]) =>
        Buffer.from(
          `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${up}\r\nSec-WebSocket-Version: ${version}\r\nSec-WebSocket-Key: ${key}\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ''}\r\n`,
          'latin1',
        ),
      );
    await fc.assert(
      fc.asyncProperty(upgrade, fc.constantFrom<RawCase['hangUp']>('end', 'destroy', 'reset'), async (data, how) => {
        countCase('http');
        const conn = await rawHttp(inv.server.port, data);
        await conn.until((d) => statusOf(d) !== null, 5_000);
        const status = statusOf(conn.received());
        // Without a valid Upgrade header it is a plain request (200 from the dashboard, 4xx elsewhere).
        if (status !== null) expect(status).toBeLessThan(500);
        hangUp(conn.socket, how);
        await conn.closedWithin(5_000);
        inv.assertAlive();
      }),
      params(60),
    );
    await inv.check();
  });
});

describe('HTTP fuzz with tokens: refused upgrades', () => {
  const server = fuzzServer({ env: { AI_MONITOR_INGEST_TOKENS: 'fuzz-ingest', AI_MONITOR_ADMIN_TOKENS: 'fuzz-admin' }, token: 'fuzz-admin' });

  it('a client refused at upgrade that resets at once costs only its connection', async () => {
    const inv = server();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/', '/graphql', '/x?token=wrong'), fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 3 }), async (path, extra, delay) => {
        countCase('http');
        const data = Buffer.from(
          `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\nAuthorization: Bearer wrong\r\n\r\n${'x'.repeat(extra)}`,
        );
        const conn = await rawHttp(inv.server.port, data);
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        hangUp(conn.socket, 'reset');
        await conn.closedWithin(5_000);
        inv.assertAlive();
      }),
      params(80),
    );
    // Let the server finish writing its refusals into the reset sockets before judging it.
    await new Promise((r) => setTimeout(r, 300));
    await inv.check();
  });
});

describe('HTTP fuzz: dashboard files', () => {
  const webDir = mkdtempSync(join(tmpdir(), 'ai-monitor-fuzz-web-'));
  cpSync(join(REPO_ROOT, 'apps/web/build/index.html'), join(webDir, 'index.html'));
  writeFileSync(join(webDir, 'gone.js'), 'export {};\n'.repeat(1000));
  const server = fuzzServer({ env: { AI_MONITOR_WEB_DIR: webDir } });

  it('any Range header is served (ranges are ignored), and a file removed under the running server does not stop it', async () => {
    const inv = server();
    const range = fc.oneof(fc.constantFrom('bytes=9-1', 'bytes=100000-1', 'bytes=-5', 'bytes=0-', 'bytes=abc', 'bytes=5-2,1-0', 'pages=1-2', 'bytes=99999999999999999999-'), fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes=${a}-${b}`));
    await fc.assert(
      fc.asyncProperty(range, fc.constantFrom('/', '/index.html', '/gone.js'), async (r, path) => {
        countCase('http');
        const res = await http(`${inv.server.url}${path}`, { headers: { range: r } });
        expect(res.status).toBe(200);
        inv.assertAlive();
      }),
      params(30),
    );
    rmSync(join(webDir, 'gone.js'));
    // The file list was read at start: the server still routes to the file and fails to open it.
    await http(`${inv.server.url}/gone.js`).catch(() => null);
    inv.assertAlive();
    expect((await http(`${inv.server.url}/index.html`)).status).toBe(200);
    await inv.check();
    rmSync(webDir, { recursive: true, force: true });
  });
});

describe('HTTP fuzz over TLS', () => {
  // A self-signed certificate made here (as the TLS suite does); the invariant verifies it.
  const dir = mkdtempSync(join(tmpdir(), 'ai-monitor-fuzz-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const ca = readFileSync(join(dir, 'cert.pem'));
  const server = fuzzServer({ env: { AI_MONITOR_TLS_CERT: join(dir, 'cert.pem'), AI_MONITOR_TLS_KEY: join(dir, 'key.pem') }, ca });

  it('plain HTTP, garbage, cut-off and refused handshakes on the TLS port cost only their connection', async () => {
    const inv = server();
    const hello = fc.oneof(
      fc.constant(Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')),
      fc.uint8Array({ minLength: 1, maxLength: 600 }).map((b) => Buffer.from(b)),
      // A TLS handshake record header followed by a random (and probably short) body.
      fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 300 })).map(([len, body]) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, len >> 8, len & 0xff]), Buffer.from(body)])),
    );
    const raw = fc.record({ kind: fc.constant('raw' as const), data: hello, how: fc.constantFrom<RawCase['hangUp']>('end', 'destroy', 'reset') });
    // A real client that gives up: an unknown CA (the client refuses), or a reset right after connecting.
    const client = fc.record({ kind: fc.constant('client' as const), trust: fc.boolean(), resetAfterMs: fc.integer({ min: 0, max: 20 }) });
    await fc.assert(
      fc.asyncProperty(fc.oneof(raw, client), async (c) => {
        countCase('https');
        if (c.kind === 'raw') {
          const conn = await rawHttp(inv.server.port, c.data);
          await conn.until((d) => d.length > 0, 300);
          hangUp(conn.socket, c.how);
          await conn.closedWithin(5_000);
        } else {
          const socket = tlsConnect({ host: '127.0.0.1', port: inv.server.port, servername: 'localhost', ...(c.trust ? { ca } : {}) });
          socket.on('error', () => {});
          await new Promise((r) => setTimeout(r, c.resetAfterMs));
          socket.destroy();
        }
        inv.assertAlive();
      }),
      params(40),
    );
    await inv.check();
    rmSync(dir, { recursive: true, force: true });
  });
});
