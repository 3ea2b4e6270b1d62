/**
 * Tokens and cost through the real server on both stores: costs computed at ingest from the
 * price table (GraphQL and the seed socket), marked as estimated; sent costs kept; unpriced
 * models counted, never $0; the roll-ups (metrics, time series, model breakdown) equal the
 * sums of the stored rows; a bad price file stops the start with the entry named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { calcPrice } from '@pydantic/genai-prices';
import { gql, makeDataDir, startServer, type RunningServer } from '../helpers/app.js';
import { SeedClient, seedRecord } from '../helpers/seed-client.js';
import { PG_URL, dropSchema, noteSkip, probePostgres, randomName } from '../helpers/services.js';

const pgError = await probePostgres();
noteSkip('cost: postgres', 'PostgreSQL', pgError);

const PRICES = { models: { 'qwen-max': { input_per_million: 1.6, output_per_million: 6.4 }, 'gpt-4o': { input_per_million: 2, output_per_million: 8 } } };
const NOW = Date.now();
const T = new Date(NOW - 10 * 60_000).toISOString();
/** An hour of its own, for a range holding only an unpriced interaction. */
const LONE = NOW - 3 * 3_600_000;

const RECORD_MANY = `mutation ($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { acceptedCount results { id error } } }`;
const ALL = `{ interactions(first: 500) { edges { node { id model inputTokens outputTokens costUsd success responseTimeMs metadata } } } }`;

interface Row {
  id: string;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  success: boolean;
  responseTimeMs: number;
  metadata: Record<string, unknown> | null;
}

function input(over: Record<string, unknown>): Record<string, unknown> {
  return { sessionId: 'cost-s', userInput: 'q', intent: 'ask', responseTimeMs: 300, success: true, timestamp: T, ...over };
}

const STORES = [
  { name: 'sqlite', skip: false, env: (): Record<string, string> => ({}) },
  {
    name: 'postgres',
    skip: pgError !== null,
    env: (): Record<string, string> => ({ AI_MONITOR_STORAGE: 'postgres', AI_MONITOR_DATABASE_URL: PG_URL, AI_MONITOR_DATABASE_SCHEMA: randomName('aim_cost') }),
  },
];

for (const store of STORES) {
  describe.skipIf(store.skip)(`tokens and cost (${store.name})`, () => {
    let server: RunningServer;
    let env: Record<string, string>;

    beforeAll(async () => {
      const dataDir = makeDataDir();
      writeFileSync(join(dataDir, 'model_prices.json'), JSON.stringify(PRICES));
      env = store.env();
      server = await startServer({ dataDir, env });
    });
    afterAll(async () => {
      await server.stop();
      rmSync(server.dataDir, { recursive: true, force: true });
      if (env.AI_MONITOR_DATABASE_SCHEMA) await dropSchema(env.AI_MONITOR_DATABASE_SCHEMA);
    });

    const byId = async (): Promise<Map<string, Row>> => {
      const r = await gql<{ interactions: { edges: { node: Row }[] } }>(server, ALL);
      expect(r.errors).toBeUndefined();
      return new Map(r.data!.interactions.edges.map((e) => [e.node.id, e.node]));
    };

    it('GraphQL: computes the cost from the table and marks it; keeps a sent cost; no price or no tokens stays null', async () => {
      const inputs = [
        input({ id: 'c-claude', model: 'claude-3-5-sonnet-20241022', inputTokens: 1000, outputTokens: 2000, metadata: { channel: 'web' } }),
        input({ id: 'c-user', model: 'openai/GPT-4o-2024-08-06', inputTokens: 1_000_000, outputTokens: 500_000, success: false, errorType: 'timeout' }),
        input({ id: 'c-sent', model: 'qwen-max', inputTokens: 10, outputTokens: 10, costUsd: 0.5 }),
        input({ id: 'c-unpriced', model: 'my-local-llama', inputTokens: 500, outputTokens: 500, responseTimeMs: 900 }),
        input({ id: 'c-notokens', model: 'gpt-4o' }),
        input({ id: 'c-nomodel', inputTokens: 40, outputTokens: 2 }),
        input({ id: 'c-lone', model: 'my-local-llama', inputTokens: 1, outputTokens: 1, timestamp: new Date(LONE).toISOString() }),
      ];
      const r = await gql<{ recordInteractions: { acceptedCount: number } }>(server, RECORD_MANY, { inputs });
      expect(r.errors).toBeUndefined();
      expect(r.data!.recordInteractions.acceptedCount).toBe(inputs.length);
      const rows = await byId();
      const expected = calcPrice({ input_tokens: 1000, output_tokens: 2000 }, 'claude-3-5-sonnet-20241022', { timestamp: new Date(T) })!.total_price;
      expect(rows.get('c-claude')!.costUsd).toBeCloseTo(expected, 12);
      expect(rows.get('c-claude')!.metadata).toEqual({ channel: 'web', cost_source: 'price_table', cost_price: 'anthropic/claude-3-5-sonnet' });
      // The user file's gpt-4o wins over the package, matched through prefix, case and date.
      expect(rows.get('c-user')!.costUsd).toBeCloseTo(2 + 4, 12);
      expect(rows.get('c-user')!.metadata).toEqual({ cost_source: 'price_table', cost_price: 'model_prices.json/gpt-4o' });
      expect(rows.get('c-sent')).toMatchObject({ costUsd: 0.5, metadata: null });
      expect(rows.get('c-unpriced')).toMatchObject({ costUsd: null, metadata: null });
      expect(rows.get('c-notokens')).toMatchObject({ costUsd: null, metadata: null });
      expect(rows.get('c-nomodel')).toMatchObject({ costUsd: null, metadata: null });
    });

    it('seed socket: the same computation on the seed protocol', async () => {
      const c = await SeedClient.connect(`${server.wsUrl}/`);
      const data = [
        seedRecord({ id: 's-qwen', timestamp: T, model: 'qwen-max', input_tokens: 2000, output_tokens: 1000 }),
        seedRecord({ id: 's-local-1', timestamp: T, model: 'my-local-llama', input_tokens: 3, output_tokens: 4 }),
        seedRecord({ id: 's-local-2', timestamp: T, model: 'my-local-llama', input_tokens: 5, output_tokens: 6, success: false, error_type: 'oom' }),
      ];
      const ack = await c.request({ type: 'metrics_batch', data });
      expect(ack).toMatchObject({ type: 'ack', accepted: 3 });
      await c.close();
      const rows = await byId();
      expect(rows.get('s-qwen')!.costUsd).toBeCloseTo((2000 * 1.6 + 1000 * 6.4) / 1e6, 12);
      expect(rows.get('s-qwen')!.metadata).toEqual({ cost_source: 'price_table', cost_price: 'model_prices.json/qwen-max' });
      expect(rows.get('s-local-1')!.costUsd).toBeNull();
    });

    it('metrics, time series and the model breakdown equal the sums of the stored rows; unpriced models are counted', async () => {
      const rows = [...(await byId()).values()].filter((r) => r.id !== 'c-lone');
      const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
      const costed = rows.filter((r) => r.costUsd !== null);
      const q = await gql<{
        metrics: Record<string, number | null>;
        timeseries: Record<string, number | null>[];
        modelBreakdown: Record<string, unknown>[];
        unpricedModels: { model: string; interactions: number; priced: boolean }[];
      }>(
        server,
        `{ metrics(window: "1h") { count totalInputTokens totalOutputTokens totalCostUsd costPerInteraction costedInteractions unpricedInteractions }
           timeseries(window: "1h", bucket: "1m") { count totalInputTokens totalOutputTokens totalCostUsd costedInteractions unpricedInteractions }
           modelBreakdown(window: "1h") { model count errors errorRate p95 inputTokens outputTokens totalCostUsd costPerInteraction costedInteractions unpricedInteractions priced }
           unpricedModels(window: "1h") { model interactions priced } }`,
      );
      expect(q.errors).toBeUndefined();
      const m = q.data!.metrics;
      expect(m.count).toBe(rows.length);
      expect(m.totalInputTokens).toBe(sum(rows.map((r) => r.inputTokens ?? 0)));
      expect(m.totalOutputTokens).toBe(sum(rows.map((r) => r.outputTokens ?? 0)));
      expect(m.totalCostUsd).toBeCloseTo(sum(costed.map((r) => r.costUsd!)), 9);
      expect(m.costedInteractions).toBe(costed.length);
      expect(m.costPerInteraction).toBeCloseTo(sum(costed.map((r) => r.costUsd!)) / costed.length, 9);
      expect(m.unpricedInteractions).toBe(rows.filter((r) => r.model !== null && r.costUsd === null).length);

      const ts = q.data!.timeseries;
      expect(sum(ts.map((b) => b.count!))).toBe(rows.length);
      expect(sum(ts.map((b) => b.totalInputTokens!))).toBe(m.totalInputTokens);
      expect(sum(ts.map((b) => b.totalCostUsd ?? 0))).toBeCloseTo(m.totalCostUsd!, 9);

      const models = new Map<string, Row[]>();
      for (const r of rows) if (r.model !== null) models.set(r.model, [...(models.get(r.model) ?? []), r]);
      const breakdown = q.data!.modelBreakdown;
      expect(breakdown.map((b) => b.model).sort()).toEqual([...models.keys()].sort());
      for (const b of breakdown) {
        const list = models.get(b.model as string)!;
        const withCost = list.filter((r) => r.costUsd !== null);
        expect(b).toMatchObject({
          count: list.length,
          errors: list.filter((r) => !r.success).length,
          inputTokens: sum(list.map((r) => r.inputTokens ?? 0)),
          outputTokens: sum(list.map((r) => r.outputTokens ?? 0)),
          costedInteractions: withCost.length,
          unpricedInteractions: list.length - withCost.length,
        });
        if (withCost.length === 0) expect(b.totalCostUsd).toBeNull();
        else expect(b.totalCostUsd as number).toBeCloseTo(sum(withCost.map((r) => r.costUsd!)), 9);
        expect(b.p95).toEqual(expect.any(Number));
      }
      // Most interactions first: my-local-llama has three.
      expect(breakdown[0]).toMatchObject({ model: 'my-local-llama', count: 3, priced: false, totalCostUsd: null, costPerInteraction: null });
      expect(q.data!.unpricedModels).toEqual([
        { model: 'my-local-llama', interactions: 3, priced: false },
        { model: 'gpt-4o', interactions: 1, priced: true },
      ]);
    });

    it('a range whose only interaction has no price reports no cost (null), not $0', async () => {
      const from = new Date(LONE - 60_000).toISOString();
      const to = new Date(LONE + 60_000).toISOString();
      const q = await gql<{ metrics: Record<string, unknown>; unpricedModels: unknown[] }>(
        server,
        `query ($from: DateTime, $to: DateTime) { metrics(from: $from, to: $to) { count totalCostUsd costPerInteraction unpricedInteractions }
          unpricedModels(from: $from, to: $to) { model interactions priced } }`,
        { from, to },
      );
      expect(q.errors).toBeUndefined();
      expect(q.data!.metrics).toEqual({ count: 1, totalCostUsd: null, costPerInteraction: null, unpricedInteractions: 1 });
      expect(q.data!.unpricedModels).toEqual([{ model: 'my-local-llama', interactions: 1, priced: false }]);
    });
  });
}

describe('a bad model price file stops the start, naming the entry', () => {
  it.each<[string, string, RegExp]>([
    ['a negative price', JSON.stringify({ models: { 'glm-4.5': { input_per_million: -1, output_per_million: 1 } } }), /model_prices\.json: models\."glm-4\.5"\.input_per_million: must be 0 or more/],
    ['broken JSON', '{"models": ', /model_prices\.json: not valid JSON/],
    ['an array', '[]', /model_prices\.json: expected an object \{"models": \{\.\.\.\}\}, got an array/],
  ])('%s', async (_what, text, message) => {
    const dataDir = makeDataDir();
    writeFileSync(join(dataDir, 'model_prices.json'), text);
    await expect(startServer({ dataDir })).rejects.toThrow(message);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('AI_MONITOR_MODEL_PRICES names a file that must exist', async () => {
    const dataDir = makeDataDir();
    await expect(startServer({ dataDir, env: { AI_MONITOR_MODEL_PRICES: join(dataDir, 'prices.json') } })).rejects.toThrow(
      /prices\.json: the model price file does not exist \(AI_MONITOR_MODEL_PRICES\)/,
    );
    writeFileSync(join(dataDir, 'prices.json'), JSON.stringify(PRICES));
    const server = await startServer({ dataDir, env: { AI_MONITOR_MODEL_PRICES: join(dataDir, 'prices.json') } });
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
});
