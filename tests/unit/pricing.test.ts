/**
 * The model price table without a server: name normalisation, the look-up order (user file
 * exact, user file normalised, package as sent, package normalised), costs equal to the
 * package's own calculation, and the user file's validation messages.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calcPrice } from '@pydantic/genai-prices';
import { normalizeModelName } from '../../apps/api/src/pricing/normalize.js';
import { PriceTable } from '../../apps/api/src/pricing/table.js';
import { PRICE_FILE_LIMITS, PriceFileError, loadUserPrices, parseUserPrices } from '../../apps/api/src/pricing/user-file.js';

const AT = Date.UTC(2026, 5, 1, 12, 0, 0);

describe('normalizeModelName', () => {
  it.each([
    ['gpt-4o', 'gpt-4o'],
    ['GPT-4o', 'gpt-4o'],
    ['  openai/gpt-4o ', 'gpt-4o'],
    ['openrouter/anthropic/claude-3-5-sonnet', 'claude-3-5-sonnet'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['claude-3-5-sonnet-20241022', 'claude-3-5-sonnet'],
    ['claude-3-5-sonnet@20241022', 'claude-3-5-sonnet'],
    ['qwen-max', 'qwen-max'],
    ['glm-4.5', 'glm-4.5'],
    // Not dates: kept.
    ['gpt-4-0613', 'gpt-4-0613'],
    ['model-12345678', 'model-12345678'],
  ])('%s → %s', (name, expected) => {
    expect(normalizeModelName(name)).toBe(expected);
  });
});

describe('PriceTable look-up', () => {
  const table = new PriceTable(
    [
      { name: 'qwen-max', inputPerMillion: 1.6, outputPerMillion: 6.4 },
      { name: 'gpt-4o', inputPerMillion: 1, outputPerMillion: 2 },
      { name: 'My-Model-2025-01-01', inputPerMillion: 3, outputPerMillion: 4 },
    ],
    'model_prices.json',
  );
  const pkg = new PriceTable();

  it('prices common providers from the package', () => {
    for (const m of ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet-20241022', 'gemini-2.5-pro', 'deepseek-chat', 'moonshot-v1-8k']) {
      expect(pkg.isPriced(m), m).toBe(true);
    }
    expect(pkg.isPriced('my-local-llama')).toBe(false);
    expect(pkg.isPriced('')).toBe(false);
  });

  it('matches the package by case, date suffix and provider prefix', () => {
    const base = pkg.cost('gpt-4o', 1000, 500, AT)!;
    expect(base.priceId).toBe('openai/gpt-4o');
    for (const m of ['GPT-4o', 'gpt-4o-2024-08-06', 'openai/gpt-4o', 'openai/GPT-4o-2024-08-06']) {
      expect(pkg.cost(m, 1000, 500, AT), m).toEqual(base);
    }
  });

  it('the user file wins over the package, exactly or normalised', () => {
    expect(table.cost('gpt-4o', 1_000_000, 1_000_000, AT)).toEqual({ costUsd: 3, priceId: 'model_prices.json/gpt-4o' });
    expect(table.cost('openai/gpt-4o-2024-08-06', 1_000_000, 0, AT)).toEqual({ costUsd: 1, priceId: 'model_prices.json/gpt-4o' });
    expect(table.cost('qwen-max', 2000, 1000, AT)!.costUsd).toBeCloseTo((2000 * 1.6 + 1000 * 6.4) / 1e6, 15);
    expect(table.cost('dashscope/Qwen-Max', 1_000_000, 0, AT)!.costUsd).toBeCloseTo(1.6, 12);
    // A user name with a date is found as written and by its normalised form.
    expect(table.cost('My-Model-2025-01-01', 1_000_000, 0, AT)!.costUsd).toBe(3);
    expect(table.cost('my-model', 1_000_000, 0, AT)!.costUsd).toBe(3);
    // Models the user did not list still come from the package.
    expect(table.cost('claude-3-5-sonnet-20241022', 10, 10, AT)!.priceId).toBe('anthropic/claude-3-5-sonnet');
    expect(table.cost('my-local-llama', 10, 10, AT)).toBeNull();
  });

  it('computes what the package computes, for every input and output token count (seeded)', () => {
    const models = ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet', 'claude-sonnet-4-5', 'gemini-2.5-pro', 'gemini-1.5-pro', 'deepseek-chat', 'deepseek-reasoner', 'moonshot-v1-8k', 'kimi-k2', 'o3-mini'];
    fc.assert(
      fc.property(
        fc.constantFrom(...models),
        fc.integer({ min: 0, max: 2_000_000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2026, 11, 31) }),
        (model, input, output, at) => {
          const expected = calcPrice({ input_tokens: input, output_tokens: output }, model, { timestamp: new Date(at) });
          const got = pkg.cost(model, input, output, at);
          if (expected === null) return got === null;
          expect(got).not.toBeNull();
          expect(got!.costUsd).toBeCloseTo(expected.total_price, 9);
          return true;
        },
      ),
      { seed: 1405, numRuns: 400 },
    );
  });
});

describe('the user price file', () => {
  const parse = (raw: unknown): unknown => parseUserPrices(raw, 'model_prices.json');

  it('reads models with prices per million tokens; an empty or models-less file prices nothing', () => {
    expect(parse({ models: { 'qwen-max': { input_per_million: 1.6, output_per_million: 6.4 } } })).toEqual([
      { name: 'qwen-max', inputPerMillion: 1.6, outputPerMillion: 6.4 },
    ]);
    expect(parse({})).toEqual([]);
    expect(parse({ models: {} })).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', [1, 2], /model_prices\.json: expected an object \{"models": \{\.\.\.\}\}, got an array/],
    ['an unknown top-level key', { model: {} }, /unknown key "model"; the file holds one key, "models"/],
    ['models not an object', { models: [] }, /models: expected an object of model name → prices, got an array/],
    ['a price as text', { models: { 'qwen-max': { input_per_million: '1.6', output_per_million: 6.4 } } }, /models\."qwen-max"\.input_per_million: expected a number of USD per million tokens, got string "1\.6"/],
    ['a negative price', { models: { 'glm-4.5': { input_per_million: -1, output_per_million: 2 } } }, /models\."glm-4\.5"\.input_per_million: must be 0 or more/],
    ['a missing price', { models: { 'glm-4.5': { input_per_million: 1 } } }, /models\."glm-4\.5"\.output_per_million: expected a number of USD per million tokens, got nothing/],
    ['an unknown field', { models: { x: { input_per_million: 1, output_per_million: 2, currency: 'EUR' } } }, /models\."x": unknown field "currency"/],
    ['an infinite price', { models: { x: { input_per_million: 1e400, output_per_million: 2 } } }, /models\."x"\.input_per_million: expected a number of USD per million tokens, got number Infinity/],
    ['a huge price', { models: { x: { input_per_million: 1e7, output_per_million: 2 } } }, /models\."x"\.input_per_million: must be at most 1000000/],
    ['an entry that is not an object', { models: { x: 3 } }, /models\."x": expected an object with input_per_million and output_per_million, got number 3/],
    ['an empty name', { models: { ' ': { input_per_million: 1, output_per_million: 2 } } }, /models\." ": the model name must not be empty/],
    ['a name too long', { models: { ['m'.repeat(500)]: { input_per_million: 1, output_per_million: 2 } } }, /the model name is longer than 200 characters/],
    ['names differing only in case', { models: { 'GLM-4': { input_per_million: 1, output_per_million: 2 }, 'glm-4': { input_per_million: 1, output_per_million: 2 } } }, /models\."glm-4": the same model as "GLM-4"/],
  ])('refuses %s, naming the entry', (_what, raw, message) => {
    expect(() => parse(raw)).toThrow(PriceFileError);
    expect(() => parse(raw)).toThrow(message);
  });

  it('refuses more models than the limit', () => {
    const models = Object.fromEntries(Array.from({ length: PRICE_FILE_LIMITS.maxModels + 1 }, (_, i) => [`m${i}`, { input_per_million: 1, output_per_million: 1 }]));
    expect(() => parse({ models })).toThrow(/10001 entries, more than the limit of 10000/);
  });

  it('takes names such as __proto__ as plain model names, without touching any prototype', () => {
    const raw = JSON.parse('{"models":{"__proto__":{"input_per_million":1,"output_per_million":2},"constructor":{"input_per_million":3,"output_per_million":4}}}') as unknown;
    const prices = parseUserPrices(raw, 'f');
    expect(prices.map((p) => p.name)).toEqual(['__proto__', 'constructor']);
    const table = new PriceTable(prices);
    expect(table.cost('__proto__', 1_000_000, 0, AT)!.costUsd).toBe(1);
    expect(table.cost('constructor', 1_000_000, 0, AT)!.costUsd).toBe(3);
    expect(table.isPriced('toString')).toBe(false);
    expect(({} as Record<string, unknown>).input_per_million).toBeUndefined();
  });

  it('files: a missing default file is empty, a missing configured file, bad JSON and oversized files are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ai-monitor-prices-'));
    expect(loadUserPrices(join(dir, 'none.json'), false)).toEqual([]);
    expect(() => loadUserPrices(join(dir, 'none.json'), true)).toThrow(/none\.json: the model price file does not exist \(AI_MONITOR_MODEL_PRICES\)/);
    writeFileSync(join(dir, 'bad.json'), '{"models": {');
    expect(() => loadUserPrices(join(dir, 'bad.json'), false)).toThrow(/bad\.json: not valid JSON/);
    writeFileSync(join(dir, 'big.json'), `{"models":{}, "pad": "${'x'.repeat(PRICE_FILE_LIMITS.maxBytes)}"}`);
    expect(() => loadUserPrices(join(dir, 'big.json'), false)).toThrow(/big\.json: \d+ bytes, more than the limit of 1048576/);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ models: { 'glm-4.5': { input_per_million: 0.6, output_per_million: 2.2 } } }));
    expect(loadUserPrices(join(dir, 'ok.json'), true)).toHaveLength(1);
  });

  it('never throws anything but PriceFileError on arbitrary JSON (seeded)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 3 }), (top, entry) => {
        for (const raw of [top, { models: top }, { models: { m: entry } }]) {
          try {
            parse(raw);
          } catch (err) {
            if (!(err instanceof PriceFileError)) throw err;
          }
        }
      }),
      { seed: 77, numRuns: 300 },
    );
  });
});
