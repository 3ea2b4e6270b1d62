/** Token scopes on the release and improvement operations: reading needs read, changing the tracker needs admin. */
import { describe, expect, it } from 'vitest';
import { TOKENS, TOKEN_ENV, gqlAs, serve } from './helpers.js';

const CREATE = `mutation { createImprovement(input: { title: "t", problemKind: INTENT, problem: "greet", baseline: "1.0" }) { id status } }`;

describe('release and improvement scopes', () => {
  it('read tokens compare releases and list improvements; only admin tokens change the tracker', async () => {
    const s = await serve({ env: TOKEN_ENV });
    const compare = '{ compareReleases(baseline: "1.0", candidate: "2.0") { overall { verdict } } releases { version } improvements { id } improvementsMarkdown }';
    expect((await gqlAs(s.url, compare)).errors?.[0]?.message).toMatch(/token|auth/i);
    const read = await gqlAs(s.url, compare, TOKENS.read);
    expect(read.errors).toBeUndefined();
    expect(read.data).toMatchObject({ compareReleases: { overall: { verdict: 'INSUFFICIENT_DATA' } }, releases: [], improvements: [] });
    const denied = await gqlAs(s.url, CREATE, TOKENS.read);
    expect(denied.errors?.[0]?.message).toMatch(/admin/);
    const ingest = await gqlAs(s.url, CREATE, TOKENS.ingest);
    expect(ingest.errors?.[0]?.message).toMatch(/admin/);
    const created = await gqlAs(s.url, CREATE, TOKENS.admin);
    expect(created.errors).toBeUndefined();
    expect(created.data).toMatchObject({ createImprovement: { status: 'OPEN' } });
  });
});
