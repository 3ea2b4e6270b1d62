/**
 * The user's price file (default `<dataDir>/model_prices.json`): prices for models the package
 * does not know, or overrides of its prices. Format:
 *
 *   { "models": { "qwen-max": { "input_per_million": 1.6, "output_per_million": 6.4 } } }
 *
 * Prices are USD per million tokens. A bad file stops the start with a message naming the entry.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { normalizeModelName } from './normalize.js';

export class PriceFileError extends Error {
  override name = 'PriceFileError';
}

/** A price for one model, USD per million tokens. */
export interface UserPrice {
  /** The name as written in the file. */
  name: string;
  inputPerMillion: number;
  outputPerMillion: number;
}

/** Bounds that keep a hostile or mistaken file from costing memory or time. */
export const PRICE_FILE_LIMITS = { maxBytes: 1024 * 1024, maxModels: 10_000, maxNameLength: 200, maxPerMillion: 1_000_000 } as const;

const price = z
  .number({ error: (i) => `expected a number of USD per million tokens, got ${describe(i.input)}` })
  .min(0, 'must be 0 or more')
  .max(PRICE_FILE_LIMITS.maxPerMillion, `must be at most ${PRICE_FILE_LIMITS.maxPerMillion} (USD per million tokens)`);

const entrySchema = z.strictObject(
  { input_per_million: price, output_per_million: price },
  { error: (i) => (i.code === 'unrecognized_keys' ? `unknown field ${i.keys.map((k) => JSON.stringify(k)).join(', ')}; use input_per_million and output_per_million` : `expected an object with input_per_million and output_per_million, got ${describe(i.input)}`) },
);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v === undefined) return 'nothing';
  if (typeof v === 'number') return `number ${String(v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

/** Validates the parsed file; `label` names it in errors. */
export function parseUserPrices(raw: unknown, label: string): UserPrice[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PriceFileError(`${label}: expected an object {"models": {...}}, got ${describe(raw)}`);
  }
  const unknown = Object.keys(raw).filter((k) => k !== 'models');
  if (unknown.length > 0) throw new PriceFileError(`${label}: unknown key ${JSON.stringify(unknown[0])}; the file holds one key, "models"`);
  const models = (raw as { models?: unknown }).models;
  if (models === undefined) return [];
  if (typeof models !== 'object' || models === null || Array.isArray(models)) {
    throw new PriceFileError(`${label}: models: expected an object of model name → prices, got ${describe(models)}`);
  }
  const entries = Object.entries(models);
  if (entries.length > PRICE_FILE_LIMITS.maxModels) {
    throw new PriceFileError(`${label}: models: ${entries.length} entries, more than the limit of ${PRICE_FILE_LIMITS.maxModels}`);
  }
  const seen = new Map<string, string>();
  return entries.map(([name, value]) => {
    const where = `${label}: models.${JSON.stringify(name)}`;
    if (name.trim().length === 0) throw new PriceFileError(`${where}: the model name must not be empty`);
    if (name.length > PRICE_FILE_LIMITS.maxNameLength) throw new PriceFileError(`${where.slice(0, 120)}…: the model name is longer than ${PRICE_FILE_LIMITS.maxNameLength} characters`);
    const parsed = entrySchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
      throw new PriceFileError(`${where}${path}: ${issue.message}`);
    }
    const key = normalizeModelName(name);
    const other = seen.get(key);
    if (other !== undefined && other.trim().toLowerCase() === name.trim().toLowerCase()) {
      throw new PriceFileError(`${where}: the same model as ${JSON.stringify(other)} (names compare ignoring case); keep one`);
    }
    seen.set(key, name);
    return { name, inputPerMillion: parsed.data.input_per_million, outputPerMillion: parsed.data.output_per_million };
  });
}

/** Reads the file; a missing file is an empty list unless `required` (a path the user set). */
export function loadUserPrices(file: string, required: boolean): UserPrice[] {
  if (!existsSync(file)) {
    if (required) throw new PriceFileError(`${file}: the model price file does not exist (AI_MONITOR_MODEL_PRICES)`);
    return [];
  }
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > PRICE_FILE_LIMITS.maxBytes) throw new PriceFileError(`${file}: ${size} bytes, more than the limit of ${PRICE_FILE_LIMITS.maxBytes}`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof PriceFileError) throw err;
    throw new PriceFileError(`${file}: cannot read the model price file: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PriceFileError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  return parseUserPrices(raw, file);
}
