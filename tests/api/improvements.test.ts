/**
 * The improvement tracker from a real client: statuses judged from the release comparison
 * (at creation and live as traffic arrives), the webhook notification of a verdict on a real
 * loopback endpoint, the Markdown export and input errors naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { gql, makeDataDir, startServer, type RunningServer } from '../helpers/server.js';
import { QUIET, startWebhookSink, waitFor, writeAlertConfig, type WebhookSink } from '../alerts/support.js';

let server: RunningServer;
let hook: WebhookSink;
let dataDir: string;
const now = Date.now();

const RECORD_MANY = `mutation ($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { acceptedCount } }`;
const FIELDS = `id title problemKind problem assistant baseline fix status judgedAt
  evidence { dimension key metric diff low high baselineCount fixCount sampleNeeded } delivery { channel ok attempts detail }`;
const CREATE = `mutation ($input: CreateImprovementInput!) { createImprovement(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateImprovementInput!) { updateImprovement(id: $id, input: $input) { ${FIELDS} } }`;

interface View {
  id: string;
  status: string;
  fix: string | null;
  evidence: { dimension: string; key: string; diff: number; low: number; high: number; baselineCount: number; fixCount: number; sampleNeeded: number } | null;
  delivery: { channel: string; ok: boolean; attempts: number; detail: string } | null;
}

/** `n` interactions of a release; one in `timeoutEvery` fails with a timeout; `searchFailEvery` more failures among searches. */
function traffic(version: string, n: number, timeoutEvery: number, prefix: string, offsetMs = 0, searchFailEvery = 0): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const search = i % 2 === 1;
    const timeout = i % timeoutEvery === 0;
    const searchFail = !timeout && search && searchFailEvery > 0 && i % searchFailEvery === 1;
    return {
      sessionId: `${prefix}-${Math.floor(i / 3)}`,
      userInput: 'q',
      intent: search ? 'search' : 'book',
      responseTimeMs: 100 + (i % 50),
      success: !timeout && !searchFail,
      errorType: timeout ? 'timeout' : searchFail ? 'no_results' : null,
      assistant: 'bot-b',
      version,
      timestamp: new Date(now - 40 * 60_000 + offsetMs + i * 50).toISOString(),
    };
  });
}

async function record(inputs: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < inputs.length; i += 100) {
    const r = await gql(server, RECORD_MANY, { inputs: inputs.slice(i, i + 100) });
    expect(r.errors).toBeUndefined();
  }
}

async function create(input: Record<string, unknown>): Promise<{ data?: { createImprovement: View }; errors?: { message: string }[] }> {
  return gql(server, CREATE, { input: { assistant: 'bot-b', ...input } });
}

async function list(): Promise<View[]> {
  const r = await gql<{ improvements: View[] }>(server, `{ improvements { ${FIELDS} } }`);
  expect(r.errors).toBeUndefined();
  return r.data!.improvements;
}

beforeAll(async () => {
  hook = await startWebhookSink(() => ({ status: 200, body: 'ok' }));
  dataDir = makeDataDir();
  writeAlertConfig(dataDir, { ...QUIET, webhook_url: hook.url });
  server = await startServer({ dataDir });
  // 1.0: timeouts 1 in 8; 2.0: timeouts 1 in 50 but searches fail 1 in 3 (a regression of the intent).
  await record([...traffic('1.0', 1500, 8, 'a'), ...traffic('2.0', 1500, 50, 'b', 0, 3)]);
});
afterAll(async () => {
  await server.stop();
  await hook.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('improvement tracker', () => {
  it('judges a fix with enough traffic at once: fewer timeouts → VERIFIED, notified on the webhook', async () => {
    const r = await create({ title: 'Cut timeouts | retries', problemKind: 'ERROR_TYPE', problem: 'timeout', baseline: '1.0', fix: '2.0' });
    expect(r.errors).toBeUndefined();
    const i = r.data!.createImprovement;
    expect(i.status).toBe('VERIFIED');
    expect(i.evidence).toMatchObject({ dimension: 'ERROR_TYPE', key: 'timeout', baselineCount: 1500, fixCount: 1500 });
    expect(i.evidence!.diff).toBeGreaterThan(5);
    expect(i.evidence!.low).toBeGreaterThan(0);
    const sent = await waitFor(async () => hook.requests.find((q) => q.body.id === i.id), 'the improvement webhook');
    expect(sent.body).toMatchObject({ kind: 'improvement', status: 'verified', baseline: '1.0', fix: '2.0', problem: 'timeout' });
    expect(String(sent.body.text)).toMatch(/Cut timeouts \| retries" verified/);
    const stored = await waitFor(async () => (await list()).find((x) => x.id === i.id && x.delivery), 'the stored delivery');
    expect(stored.delivery).toMatchObject({ channel: 'webhook', ok: true, attempts: 1, detail: 'HTTP 200: ok' });
  });

  it('judges the same fix REGRESSED for the intent it broke', async () => {
    const r = await create({ title: 'Search quality', problemKind: 'INTENT', problem: 'search', baseline: '1.0', fix: '2.0' });
    expect(r.data!.createImprovement.status).toBe('REGRESSED');
    expect(r.data!.createImprovement.evidence!.high).toBeLessThan(0);
  });

  it('follows traffic live: OPEN → FIX_RELEASED → NO_EFFECT when the fix changes nothing', async () => {
    const r = await create({ title: 'Timeouts again', problemKind: 'ALERT', problem: 'high_error_rate', baseline: '1.0', fix: '3.0' });
    const id = r.data!.createImprovement.id;
    expect(r.data!.createImprovement.status).toBe('OPEN');
    await record(traffic('3.0', 40, 8, 'c', 1000));
    await waitFor(async () => (await list()).find((x) => x.id === id && x.status === 'FIX_RELEASED'), 'FIX_RELEASED', 15_000);
    // The same failure pattern as the baseline, with enough traffic to have seen a 5-point change.
    await record(traffic('3.0', 1500, 8, 'd', 2000));
    const done = await waitFor(async () => (await list()).find((x) => x.id === id && x.status !== 'FIX_RELEASED'), 'a verdict', 15_000);
    expect(done.status).toBe('NO_EFFECT');
    expect(done.evidence!.sampleNeeded).toBe(0);
  });

  it('judges again from OPEN when the fix release changes, and answers null for an unknown id', async () => {
    const r = await create({ title: 'Booking', problemKind: 'INTENT', problem: 'book', baseline: '1.0' });
    const id = r.data!.createImprovement.id;
    expect(r.data!.createImprovement).toMatchObject({ status: 'OPEN', fix: null });
    const u = await gql<{ updateImprovement: View }>(server, UPDATE, { id, input: { fix: 'never-shipped' } });
    expect(u.data!.updateImprovement).toMatchObject({ status: 'OPEN', fix: 'never-shipped' });
    const manual = await gql<{ updateImprovement: View }>(server, UPDATE, { id, input: { status: 'NO_EFFECT' } });
    expect(manual.data!.updateImprovement.status).toBe('NO_EFFECT');
    const missing = await gql<{ updateImprovement: View | null }>(server, UPDATE, { id: 'nope', input: { title: 'x' } });
    expect(missing.errors).toBeUndefined();
    expect(missing.data!.updateImprovement).toBeNull();
  });

  it('exports the tracker as a Markdown table', async () => {
    const r = await gql<{ improvementsMarkdown: string }>(server, '{ improvementsMarkdown }');
    const md = r.data!.improvementsMarkdown;
    const lines = md.trim().split('\n');
    expect(lines[0]).toBe('| # | Improvement | Problem | Assistant | Baseline | Fix | Status | Evidence (fix − baseline) | Updated |');
    expect(lines[1]).toMatch(/^\|---/);
    expect(md).toContain('| 1 | Cut timeouts \\| retries | error type: timeout | bot-b | 1.0 | 2.0 | verified |');
    expect(md).toMatch(/\| Search quality \| intent: search .* \| regressed \|/);
    expect(lines.length).toBe(2 + (await list()).length);
  });

  it.each([
    [{ title: '', problemKind: 'INTENT', problem: 'x', baseline: '1.0' }, /title/],
    [{ title: 't', problemKind: 'ALERT', problem: 'nope', baseline: '1.0' }, /problem: an alert problem names an alert kind/],
    [{ title: 't', problemKind: 'FILTER', problem: '[1]', baseline: '1.0' }, /problem: a filter problem/],
    [{ title: 't', problemKind: 'INTENT', problem: 'x', baseline: '1.0', fix: '1.0' }, /fix: must differ/],
    [{ title: 'x'.repeat(201), problemKind: 'INTENT', problem: 'x', baseline: '1.0' }, /title: at most 200/],
    [{ title: 't', problemKind: 'INTENT', problem: 'x'.repeat(2001), baseline: '1.0' }, /problem: at most 2000/],
    [{ title: 't', problemKind: 'INTENT', problem: 'x', baseline: 'v'.repeat(201) }, /baseline: at most 200/],
    [{ title: 't', problemKind: 'INTENT', problem: 'x', baseline: '1.0', fix: 'v'.repeat(201) }, /fix: at most 200/],
  ])('rejects %o with an error naming the field', async (input, message) => {
    const r = await create(input);
    expect(r.errors?.[0]?.message).toMatch(message);
  });
});
