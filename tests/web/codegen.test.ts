/**
 * The dashboard's GraphQL types are generated (graphql-codegen) from its operations and the
 * printed schema; the committed file must be what the generator writes today.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/server.js';

describe('generated GraphQL types of the dashboard', () => {
  it('apps/web/src/lib/graphql/generated.ts matches documents.ts and schema.graphql', () => {
    const generated = execFileSync(process.execPath, [join(REPO_ROOT, 'apps/web/scripts/codegen.mjs'), '--stdout'], {
      encoding: 'utf8',
      cwd: join(REPO_ROOT, 'apps/web'),
    });
    const committed = readFileSync(join(REPO_ROOT, 'apps/web/src/lib/graphql/generated.ts'), 'utf8');
    expect(committed, 'generated.ts is out of date: run npm run codegen -w apps/web').toBe(generated);
    // The record's fields reach the dashboard's types through the schema.
    expect(generated).toMatch(/export type InteractionQuery = \{ interaction: \{ id: string \| null, sessionId: string \| null/);
  });
});
