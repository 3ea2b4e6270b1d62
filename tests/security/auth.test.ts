/**
 * Token scopes on every transport: GraphQL over HTTP (query, recording mutation, admin
 * mutation), POST /api/interactions, /metrics, /health, the seed WebSocket protocol (both
 * first-message forms, upgrade header and ?token=) and graphql-ws (connection_init).
 */
import { describe, expect, it } from 'vitest';
import { RECORD, TOKENS, TOKEN_ENV, gqlAs, graphqlWs, http, openSeed, serve, storedCount, upgradeStatus, wsOnce, wsSubscribe } from './helpers.js';

const QUERY = '{ metrics { count } }';
const RECORD_MUTATION = 'mutation($i: InteractionInput!) { recordInteraction(input: $i) { id } }';
const INPUT = { sessionId: 's1', userInput: 'hi', intent: 'greet', responseTimeMs: 5, success: true };
const ADMIN_MUTATION = 'mutation { acknowledgeAlert(id: "no-such-alert") { id } }';

type Who = keyof typeof TOKENS | 'none';
const codeOf = (r: { errors?: { extensions?: { code?: string } }[] }): string | undefined => r.errors?.[0]?.extensions?.code;

describe('tokens over HTTP', () => {
  it('enforces scopes on queries, recording mutations and admin mutations', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const tokenOf = (who: Who): string | undefined => (who === 'none' ? undefined : TOKENS[who]);

    const query = async (who: Who) => gqlAs(s.url, QUERY, tokenOf(who));
    expect((await query('read')).data?.metrics).toEqual({ count: 0 });
    expect((await query('admin')).data?.metrics).toEqual({ count: 0 });
    const anon = await query('none');
    expect(anon.errors?.[0]?.message).toMatch(/missing token/);
    expect(codeOf(anon)).toBe('UNAUTHENTICATED');
    const ingestOnly = await query('ingest');
    expect(ingestOnly.errors?.[0]?.message).toBe('token lacks scope read');
    expect(codeOf(ingestOnly)).toBe('FORBIDDEN');

    const record = async (who: Who) => gqlAs(s.url, RECORD_MUTATION, tokenOf(who), { i: INPUT });
    expect((await record('ingest')).data?.recordInteraction).toHaveProperty('id');
    expect((await record('admin')).data?.recordInteraction).toHaveProperty('id');
    expect((await record('read')).errors?.[0]?.message).toBe('token lacks scope ingest');
    expect((await record('none')).errors?.[0]?.message).toMatch(/missing token/);

    const admin = async (who: Who) => gqlAs(s.url, ADMIN_MUTATION, tokenOf(who));
    expect((await admin('read')).errors?.[0]?.message).toBe('token lacks scope admin');
    expect((await admin('ingest')).errors?.[0]?.message).toBe('token lacks scope admin');
    // Admin passes the scope check and reaches the resolver (which finds no such alert).
    const asAdmin = await admin('admin');
    expect(asAdmin.errors?.[0]?.message).not.toMatch(/scope|token/);

    const wrong = await gqlAs(s.url, QUERY, 'not-a-token');
    expect(wrong.status).toBe(401);
    expect(wrong.errors?.[0]?.message).toBe('invalid token');
    expect(await storedCount(s.url, TOKENS.read)).toBe(2);
  });

  it('shows the alert webhook URL in full to admin tokens only', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const set = await gqlAs(s.url, 'mutation($u: String) { updateAlertConfig(input: { webhookUrl: $u }) { webhookUrl } }', TOKENS.admin, {
      u: 'https://hooks.example.com/services/T000/B000/secret-part',
    });
    expect(set.data?.updateAlertConfig).toEqual({ webhookUrl: 'https://hooks.example.com/services/T000/B000/secret-part' });
    const asRead = await gqlAs(s.url, '{ alertConfig { webhookUrl } }', TOKENS.read);
    expect(asRead.data?.alertConfig).toEqual({ webhookUrl: 'https://hooks.example.com/****' });
    const asAdmin = await gqlAs(s.url, '{ alertConfig { webhookUrl } }', TOKENS.admin);
    expect(asAdmin.data?.alertConfig).toEqual({ webhookUrl: 'https://hooks.example.com/services/T000/B000/secret-part' });
  });

  it('guards POST /api/interactions with ingest, /metrics with read, and leaves /health open', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const post = (token?: string) =>
      http(`${s.url}/api/interactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify([RECORD]),
      });
    expect((await post(TOKENS.ingest)).status).toBe(200);
    expect((await post(TOKENS.admin)).status).toBe(200);
    const denied = await post(TOKENS.read);
    expect(denied.status).toBe(403);
    expect(denied.json<{ error: string }>().error).toBe('token lacks scope ingest');
    const anon = await post();
    expect(anon.status).toBe(401);
    expect(anon.headers['www-authenticate']).toBe('Bearer');
    expect((await post('wrong')).status).toBe(401);

    expect((await http(`${s.url}/metrics`)).status).toBe(401);
    expect((await http(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.ingest}` } })).status).toBe(403);
    const metrics = await http(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.read}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('ai_monitor_security_refused_total');

    const health = await http(`${s.url}/health`);
    expect(health.status).toBe(200);
    expect(Object.keys(health.json()).sort()).toEqual(['connections', 'database', 'status', 'timestamp']);
    expect(await storedCount(s.url, TOKENS.read)).toBe(2);
  });

  it('without configured tokens, everything is open', async () => {
    const s = await serve();
    expect((await gqlAs(s.url, RECORD_MUTATION, undefined, { i: INPUT })).data?.recordInteraction).toHaveProperty('id');
    expect((await gqlAs(s.url, QUERY)).data?.metrics).toEqual({ count: 1 });
    expect((await http(`${s.url}/metrics`)).status).toBe(200);
  });
});

describe('tokens on the seed WebSocket protocol', () => {
  it('accepts {"type":"auth","token"} and the bare token as first message', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const a = await openSeed(s.wsUrl);
    a.send({ type: 'auth', token: TOKENS.ingest });
    expect((await a.next()).type).toBe('auth_ok');
    a.send({ type: 'metrics', data: RECORD, request_id: 1 });
    expect(await a.next()).toMatchObject({ type: 'ack', request_id: 1, accepted: 1 });

    const b = await openSeed(s.wsUrl);
    b.send(TOKENS.admin); // the seed's example: the bare token string
    expect((await b.next()).type).toBe('auth_ok');
    b.send({ type: 'metrics_batch', data: [RECORD, RECORD] });
    expect(await b.next()).toMatchObject({ type: 'ack', accepted: 2 });
    expect(await storedCount(s.url, TOKENS.read)).toBe(3);
  });

  it('closes on a wrong token (4403), a token without ingest (4403) and records before auth (4401)', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const wrong = await openSeed(s.wsUrl);
    wrong.send({ type: 'auth', token: 'nope' });
    expect(await wrong.next()).toMatchObject({ type: 'error', error: 'invalid token' });
    expect((await wrong.closed).code).toBe(4403);

    const bare = await openSeed(s.wsUrl);
    bare.send('nope');
    expect((await bare.closed).code).toBe(4403);

    const reader = await openSeed(s.wsUrl);
    reader.send({ type: 'auth', token: TOKENS.read });
    expect(await reader.next()).toMatchObject({ type: 'error', error: 'token lacks scope ingest' });
    expect((await reader.closed).code).toBe(4403);

    const early = await openSeed(s.wsUrl);
    early.send({ type: 'metrics', data: RECORD });
    expect((await early.next()).error).toMatch(/authentication required/);
    expect((await early.closed).code).toBe(4401);
    expect(await storedCount(s.url, TOKENS.read)).toBe(0);
  });

  it('accepts the token on the upgrade (Authorization header or ?token=) and refuses a wrong one there', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const header = await openSeed(s.wsUrl, { headers: { authorization: `Bearer ${TOKENS.ingest}` } });
    header.send({ type: 'metrics', data: RECORD });
    expect((await header.next()).type).toBe('ack');
    const query = await openSeed(`${s.wsUrl}/?token=${TOKENS.ingest}`);
    query.send({ type: 'metrics', data: RECORD });
    expect((await query.next()).type).toBe('ack');
    expect(await upgradeStatus(`${s.wsUrl}/?token=wrong`)).toBe(401);
    expect(await upgradeStatus(s.wsUrl, { headers: { authorization: 'Bearer wrong' } })).toBe(401);
    expect(await storedCount(s.url, TOKENS.read)).toBe(2);
  });
});

describe('tokens on graphql-ws', () => {
  const SUB = 'subscription { interactionRecorded { id intent } }';

  it('refuses connection_init without a valid token (4403)', async () => {
    const s = await serve({ env: TOKEN_ENV });
    expect(await graphqlWs(s.wsUrl).closed).toBe(4403);
    expect(await graphqlWs(s.wsUrl, { token: 'wrong' }).closed).toBe(4403);
    expect(await graphqlWs(s.wsUrl, { authorization: 'Bearer wrong' }).closed).toBe(4403);
  });

  it('takes connectionParams.token or authorization and enforces read on subscriptions', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const reader = graphqlWs(s.wsUrl, { token: TOKENS.read });
    const feed = wsSubscribe(reader.client, SUB);
    const viaHeader = graphqlWs(s.wsUrl, { authorization: `Bearer ${TOKENS.admin}` });
    expect((await wsOnce(viaHeader.client, QUERY)).data).toEqual({ metrics: { count: 0 } });

    // An ingest-only connection: the same subscription is refused for that operation only.
    const ingester = graphqlWs(s.wsUrl, { token: TOKENS.ingest });
    const denied = await wsOnce(ingester.client, SUB);
    expect(denied.errors?.[0]?.message).toBe('token lacks scope read');
    expect((await wsOnce(ingester.client, QUERY)).errors?.[0]?.message).toBe('token lacks scope read');
    const recorded = await wsOnce(ingester.client, RECORD_MUTATION, { i: INPUT });
    expect(recorded.data?.recordInteraction).toHaveProperty('id');
    await feed.until(() => feed.results.length === 1);
    expect(feed.results[0]?.data?.interactionRecorded).toMatchObject({ intent: 'greet' });
    // Admin mutations over WebSocket need admin too.
    expect((await wsOnce(reader.client, ADMIN_MUTATION)).errors?.[0]?.message).toBe('token lacks scope admin');
  });

  it('accepts the token of the upgrade request when connectionParams carry none', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const c = graphqlWs(s.wsUrl, undefined, { headers: { authorization: `Bearer ${TOKENS.read}` } });
    expect((await wsOnce(c.client, QUERY)).data).toEqual({ metrics: { count: 0 } });
  });
});
