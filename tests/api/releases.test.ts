/**
 * Releases over GraphQL from a real client: the release list, compareReleases with verdicts,
 * q-values and the cluster note, argument errors that name the argument, and the live
 * comparison over graphql-ws.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import fc from 'fast-check';
import { gql, startServer, type RunningServer } from '../helpers/app.js';

let server: RunningServer;
const now = Date.now();

const RECORD_MANY = `mutation ($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { acceptedCount } }`;

/** `n` interactions of a release, success with probability `rate` (deterministic pattern), sessions of 4. */
function traffic(version: string, n: number, failEvery: number, prefix: string): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const failed = i % failEvery === 0;
    return {
      sessionId: `${prefix}-${Math.floor(i / 4)}`,
      userInput: 'q',
      intent: i % 2 ? 'search' : 'book',
      responseTimeMs: version === '2.0' ? 200 + (i % 100) : 100 + (i % 100),
      success: !failed,
      errorType: failed ? (i % 3 ? 'timeout' : 'parse') : null,
      toolsUsed: i % 5 === 0 ? [{ tool: 'web', params: {}, durationMs: 30, success: true }] : [],
      assistant: 'bot-a',
      version,
      model: 'm1',
      inputTokens: 100,
      outputTokens: 20,
      costUsd: 0.002,
      timestamp: new Date(now - 30 * 60_000 + i * 100).toISOString(),
    };
  });
}

async function record(inputs: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < inputs.length; i += 100) {
    const r = await gql<{ recordInteractions: { acceptedCount: number } }>(server, RECORD_MANY, { inputs: inputs.slice(i, i + 100) });
    expect(r.errors).toBeUndefined();
  }
}

const COMPARE = `query ($baseline: String!, $candidate: String!, $minSample: Int, $effect: Float, $window: String) {
  compareReleases(assistant: "bot-a", baseline: $baseline, candidate: $candidate, minSample: $minSample, effect: $effect, window: $window) {
    baseline candidate note minSample effect
    overall { dimension key verdict sequentialVerdict successDiff successDiffLow successDiffHigh pValue qValue sampleNeeded p95Diff p95DiffLow p95DiffHigh
      baseline { count successRate successLow successHigh p50 p95 p95Low p95High costPerInteraction tokensPerInteraction designEffect }
      candidate { count successRate p95 } }
    rows { dimension key verdict qValue pValue successDiff baseline { count successRate } candidate { count successRate } }
  } }`;

interface Row {
  dimension: string;
  key: string;
  verdict: string;
  sequentialVerdict?: string;
  qValue: number | null;
  pValue: number | null;
  successDiff: number | null;
  successDiffLow?: number;
  successDiffHigh?: number;
  sampleNeeded?: number;
  p95Diff?: number;
  p95DiffLow?: number;
  p95DiffHigh?: number;
  baseline: Record<string, number>;
  candidate: Record<string, number>;
}

beforeAll(async () => {
  server = await startServer();
  // 1.0 fails 1 in 10; 2.0 fails 1 in 4 (a 15-point drop); 1.1 has only 30 interactions.
  await record([...traffic('1.0', 1200, 10, 'a'), ...traffic('2.0', 1200, 4, 'b'), ...traffic('1.1', 30, 10, 'c')]);
});
afterAll(async () => {
  await server.stop();
  server.cleanup();
});

describe('releases', () => {
  it('lists releases with first and last seen, traffic and headline metrics', async () => {
    const r = await gql<{ releases: Record<string, unknown>[] }>(server, `{ releases(assistant: "bot-a") {
      assistant version firstSeen lastSeen count successRate successLow successHigh p50 p95 costPerInteraction tokensPerInteraction } }`);
    expect(r.errors).toBeUndefined();
    const byVersion = new Map(r.data!.releases.map((x) => [x.version, x]));
    expect([...byVersion.keys()].sort()).toEqual(['1.0', '1.1', '2.0']);
    expect(byVersion.get('1.0')).toMatchObject({ assistant: 'bot-a', count: 1200, successRate: 90, tokensPerInteraction: 120 });
    expect(byVersion.get('2.0')!.successRate).toBe(75);
    expect(byVersion.get('1.0')!.costPerInteraction).toBeCloseTo(0.002, 9);
    expect(new Date(byVersion.get('1.0')!.firstSeen as string).getTime()).toBe(new Date(new Date(now - 30 * 60_000).toISOString()).getTime());
  });
});

describe('compareReleases', () => {
  it('finds the regression overall with intervals, p-value, sequential verdict and the cluster note', async () => {
    const r = await gql<{ compareReleases: { overall: Row; rows: Row[]; note: string; minSample: number; effect: number } }>(server, COMPARE, { baseline: '1.0', candidate: '2.0' });
    expect(r.errors).toBeUndefined();
    const c = r.data!.compareReleases;
    expect(c.note).toMatch(/sessions as clusters/);
    expect(c).toMatchObject({ minSample: 100, effect: 5 });
    const o = c.overall;
    expect(o).toMatchObject({ dimension: 'OVERALL', key: '', verdict: 'REGRESSED', sequentialVerdict: 'REGRESSED', sampleNeeded: 0 });
    expect(o.successDiff).toBeCloseTo(-15, 9);
    expect(o.successDiffLow!).toBeLessThan(-15);
    expect(o.successDiffHigh!).toBeLessThan(0);
    expect(o.qValue).toBe(o.pValue);
    expect(o.pValue!).toBeLessThan(1e-6);
    expect(o.baseline).toMatchObject({ count: 1200, successRate: 90 });
    expect(o.baseline.successLow!).toBeLessThan(90);
    expect(o.baseline.designEffect!).toBeGreaterThanOrEqual(1);
    // Latency: 2.0 is 100 ms slower throughout.
    expect(o.p95Diff!).toBeGreaterThan(50);
    expect(o.p95DiffLow!).toBeGreaterThan(0);
    expect(o.baseline.p95Low!).toBeLessThanOrEqual(o.baseline.p95!);
    expect(o.baseline.p95High!).toBeGreaterThanOrEqual(o.baseline.p95!);
  });

  it('gives rows per intent, tool, error type and model with Benjamini–Hochberg q-values', async () => {
    const r = await gql<{ compareReleases: { rows: Row[] } }>(server, COMPARE, { baseline: '1.0', candidate: '2.0' });
    const rows = r.data!.compareReleases.rows;
    const keys = rows.map((x) => `${x.dimension}:${x.key}`).sort();
    expect(keys).toEqual(['ERROR_TYPE:parse', 'ERROR_TYPE:timeout', 'INTENT:book', 'INTENT:search', 'MODEL:m1', 'TOOL:web']);
    const tested = rows.filter((x) => x.pValue !== null);
    for (const x of tested) expect(x.qValue!).toBeGreaterThanOrEqual(x.pValue!);
    const timeout = rows.find((x) => x.key === 'timeout')!;
    // Error-type rows: all interactions of the release, "success" = did not fail with this type.
    expect(timeout.baseline.count).toBe(1200);
    expect(timeout.verdict).toBe('REGRESSED');
    expect(rows.find((x) => x.dimension === 'TOOL')!.verdict).toBe('NO_CHANGE');
  });

  it('says INSUFFICIENT_DATA below the minimum sample, with the sample still needed', async () => {
    const r = await gql<{ compareReleases: { overall: Row } }>(server, COMPARE, { baseline: '1.0', candidate: '1.1' });
    expect(r.data!.compareReleases.overall).toMatchObject({ verdict: 'INSUFFICIENT_DATA', sequentialVerdict: 'INSUFFICIENT_DATA' });
    expect(r.data!.compareReleases.overall.sampleNeeded!).toBeGreaterThan(0);
  });

  it('answers an unknown release with empty figures, not an error', async () => {
    const r = await gql<{ compareReleases: { overall: Row; rows: Row[] } }>(server, COMPARE, { baseline: '1.0', candidate: 'nope' });
    expect(r.errors).toBeUndefined();
    expect(r.data!.compareReleases.overall.candidate.count).toBe(0);
    expect(r.data!.compareReleases.overall.verdict).toBe('INSUFFICIENT_DATA');
  });

  it.each([
    [{ minSample: 0 }, /minSample/],
    [{ effect: 0 }, /effect/],
    [{ effect: 150 }, /effect/],
    [{ window: 'yesterday' }, /window/],
    [{ baseline: '' }, /baseline/],
  ])('rejects %o with an error naming the argument', async (vars, message) => {
    const r = await gql(server, COMPARE, { baseline: '1.0', candidate: '2.0', ...vars });
    expect(r.errors?.[0]?.message).toMatch(message);
    const ok = await gql(server, '{ releases { version } }');
    expect(ok.errors).toBeUndefined();
  });

  it('checks limit (1–200) and the number of versions (1–10)', async () => {
    const q = (limit: number) => gql(server, `{ compareReleases(assistant: "bot-a", baseline: "1.0", candidate: "2.0", limit: ${limit}) { rows { key } } }`);
    expect((await q(0)).errors?.[0]?.message).toMatch(/limit: must be between 1 and 200/);
    expect((await q(201)).errors?.[0]?.message).toMatch(/limit/);
    const one = await gql<{ compareReleases: { rows: { dimension: string }[] } }>(server, `{ compareReleases(assistant: "bot-a", baseline: "1.0", candidate: "2.0", limit: 1) { rows { dimension } } }`);
    expect(one.data!.compareReleases.rows.map((r) => r.dimension)).toEqual(['INTENT', 'TOOL', 'ERROR_TYPE', 'MODEL']);
    const versions = Array.from({ length: 11 }, (_, i) => `"v${i}"`).join(', ');
    const many = await gql(server, `{ releaseTimeseries(versions: [${versions}]) { version } }`);
    expect(many.errors?.[0]?.message).toMatch(/versions: between 1 and 10/);
    const none = await gql(server, `{ releaseTimeseries(versions: []) { version } }`);
    expect(none.errors?.[0]?.message).toMatch(/versions/);
  });

  it('gives success rate and p95 over time per release', async () => {
    const r = await gql<{ releaseTimeseries: { version: string; count: number; successRate: number; p95: number }[] }>(
      server,
      `{ releaseTimeseries(assistant: "bot-a", versions: ["1.0", "2.0"], window: "2h", bucket: "1h") { version start count successRate p95 } }`,
    );
    expect(r.errors).toBeUndefined();
    const total = (v: string) => r.data!.releaseTimeseries.filter((p) => p.version === v).reduce((n, p) => n + p.count, 0);
    expect(total('1.0')).toBe(1200);
    expect(total('2.0')).toBe(1200);
  });
});

describe('hostile arguments', () => {
  it('answers any arguments with data or an error naming the problem, and keeps serving (seeded, bounded)', async () => {
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('', '\u0000', '💥', 'x'.repeat(500)));
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          assistant: fc.option(text),
          baseline: text,
          candidate: text,
          minSample: fc.integer({ min: -10, max: 2_000_000 }),
          effect: fc.double({ min: -10, max: 200, noNaN: true }),
          window: fc.constantFrom('1h', '7d', '0m', '500d', 'soon'),
        }),
        async (vars) => {
          const r = await gql<{ compareReleases: { overall: { verdict: string } } }>(
            server,
            `query ($assistant: String, $baseline: String!, $candidate: String!, $minSample: Int, $effect: Float, $window: String) {
              compareReleases(assistant: $assistant, baseline: $baseline, candidate: $candidate, minSample: $minSample, effect: $effect, window: $window) { overall { verdict } } }`,
            vars,
          );
          if (r.errors) expect(r.errors[0]!.message).toMatch(/^(minSample|effect|limit|baseline|candidate|window|from|range)/);
          else expect(['INSUFFICIENT_DATA', 'NO_CHANGE', 'IMPROVED', 'REGRESSED']).toContain(r.data!.compareReleases.overall.verdict);
        },
      ),
      { seed: 15, numRuns: 40 },
    );
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });
});

describe('live comparison', () => {
  let client: Client;
  beforeAll(() => {
    client = createClient({ url: `${server.wsUrl}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  });
  afterAll(async () => client.dispose());

  it('releaseComparisonUpdated pushes the comparison again as new traffic commits', async () => {
    const counts: number[] = [];
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const stop = client.subscribe<{ releaseComparisonUpdated: { overall: { candidate: { count: number } } } }>(
      { query: `subscription { releaseComparisonUpdated(assistant: "bot-a", baseline: "1.0", candidate: "1.1") { overall { verdict candidate { count } } } }` },
      {
        next: (v) => {
          const n = v.data?.releaseComparisonUpdated.overall.candidate.count;
          if (n !== undefined) counts.push(n);
          if (n !== undefined && n >= 60) resolveDone();
        },
        error: () => resolveDone(),
        complete: () => resolveDone(),
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    await record(traffic('1.1', 30, 10, 'd').map((x, i) => ({ ...x, timestamp: new Date(now - 20 * 60_000 + i * 100).toISOString() })));
    await done;
    stop();
    expect(counts.at(-1)).toBe(60);
  });
});
