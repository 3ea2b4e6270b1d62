/**
 * With tokens configured, reading the schema needs a read token like every query: introspection
 * (`__schema`, `__type`) and "did you mean" suggestions are refused to anonymous callers and to
 * tokens without read, on HTTP and graphql-ws, while GraphiQL keeps working with a token.
 */
import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { TOKENS, TOKEN_ENV, expectServing, gqlAs, graphqlWs, http, serve, wsOnce } from './helpers.js';

const READ_TOKEN_PLACEHOLDER = /Bearer (<|\\u003c)read token>/;

const SCHEMA = '{ __schema { types { name } } }';
const TYPE = '{ __type(name: "Query") { fields { name } } }';
const TYPO = '{ metrcs { count } }';
type Reply = { errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };
const first = (r: Reply): { message: string; code: unknown } => ({ message: r.errors?.[0]?.message ?? '', code: r.errors?.[0]?.extensions?.code });

describe('introspection with tokens configured', () => {
  it('refuses anonymous callers and tokens without read over HTTP, and answers read tokens', async () => {
    const s = await serve({ env: TOKEN_ENV });
    for (const doc of [SCHEMA, TYPE, getIntrospectionQuery()]) {
      const anon = await gqlAs(s.url, doc);
      expect(anon.data ?? null).toBeNull();
      expect(first(anon)).toEqual({ message: expect.stringMatching(/^reading the schema \(introspection\): missing token: this server requires a token with scope read/), code: 'UNAUTHENTICATED' });
      const ingest = await gqlAs(s.url, doc, TOKENS.ingest);
      expect(first(ingest)).toEqual({ message: 'reading the schema (introspection): token lacks scope read', code: 'FORBIDDEN' });
    }
    // A cached validation for an authorised caller is never reused for an anonymous one.
    expect((await gqlAs(s.url, SCHEMA, TOKENS.read)).data?.__schema).toBeDefined();
    expect(first(await gqlAs(s.url, SCHEMA)).code).toBe('UNAUTHENTICATED');
    expect((await gqlAs(s.url, TYPE, TOKENS.admin)).data?.__type).toBeDefined();
    // Suggestions would name fields: hidden without read, shown with it.
    expect(first(await gqlAs(s.url, TYPO)).message).toBe('Cannot query field "metrcs" on type "Query".');
    expect(first(await gqlAs(s.url, TYPO, TOKENS.read)).message).toMatch(/Did you mean "metrics"\?/);
    // __typename reveals nothing and stays allowed.
    expect((await gqlAs(s.url, '{ __typename }')).data).toEqual({ __typename: 'Query' });
    await expectServing(s.url, TOKENS.ingest);
  });

  it('refuses introspection on graphql-ws connections without read, other operations unaffected', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const ingester = graphqlWs(s.wsUrl, { token: TOKENS.ingest });
    expect(first(await wsOnce(ingester.client, SCHEMA))).toEqual({ message: 'reading the schema (introspection): token lacks scope read', code: 'FORBIDDEN' });
    const recorded = await wsOnce(ingester.client, 'mutation { recordInteraction(input: {sessionId: "i", userInput: "u", intent: "i", responseTimeMs: 1, success: true}) { id } }');
    expect(recorded.data?.recordInteraction).toHaveProperty('id');
    const reader = graphqlWs(s.wsUrl, { token: TOKENS.read });
    expect((await wsOnce(reader.client, '{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    // An anonymous graphql-ws connection is refused outright (4403), schema included.
    expect(await graphqlWs(s.wsUrl).closed).toBe(4403);
    await expectServing(s.url, TOKENS.ingest);
  });

  it('keeps GraphiQL working for a caller with a token', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const page = await http(`${s.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/graphiql/i);
    // The header editor starts with the Authorization header to fill in (the page embeds it as
    // script-safe JSON, `<` written as \u003c).
    expect(page.body).toMatch(READ_TOKEN_PLACEHOLDER);
    // GraphiQL's own introspection query, as it sends it with the header filled in.
    const schema = await gqlAs(s.url, getIntrospectionQuery(), TOKENS.read);
    expect(schema.errors).toBeUndefined();
    expect((schema.data?.__schema as { queryType: { name: string } }).queryType.name).toBe('Query');
  });

  it('stays open to everyone without tokens (outside production)', async () => {
    const s = await serve();
    expect((await gqlAs(s.url, '{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect(first(await gqlAs(s.url, TYPO)).message).toMatch(/Did you mean "metrics"\?/);
    expect((await http(`${s.url}/graphql`, { headers: { accept: 'text/html' } })).body).not.toMatch(READ_TOKEN_PLACEHOLDER);
  });
});
