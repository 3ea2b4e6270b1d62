/**
 * The model price table: the prices of `@pydantic/genai-prices` (a maintained list covering
 * OpenAI, Anthropic, Google, DeepSeek, Mistral, Moonshot, xAI and more, with date-bounded and
 * time-of-day prices and long-context tiers) extended and overridden by the user's price file.
 *
 * A model name is looked up, first match wins:
 *   1. the user file, the name exactly as sent;
 *   2. the user file, the normalised name (see normalize.ts; the first entry listed wins);
 *   3. the package, the name as sent (its own matching: case-insensitive, its model patterns,
 *      dates written `20240806` or `2024-08-06`);
 *   4. the package, the normalised name.
 * The resolution of each distinct name is cached; prices are evaluated per record, at the
 * record's timestamp, for the input and output tokens only.
 */
import { createRequire } from 'node:module';
import type * as GenaiPrices from '@pydantic/genai-prices';
import type { ModelInfo, ModelPrice, Provider } from '@pydantic/genai-prices';
import { normalizeModelName } from './normalize.js';
import type { UserPrice } from './user-file.js';

/** Where a model's price comes from. */
export type PriceSource =
  | { kind: 'user'; name: string; inputPerMillion: number; outputPerMillion: number }
  | { kind: 'package'; provider: Provider; model: ModelInfo };

export interface ComputedCost {
  costUsd: number;
  /** The price entry used, e.g. `openai/gpt-4o` (package) or `model_prices.json/qwen-max` (user file). */
  priceId: string;
}

/** Distinct names whose resolution is remembered; beyond it the cache starts over (bounded memory). */
const CACHE_LIMIT = 10_000;

interface TieredPrice {
  base: number;
  tiers: { start: number; price: number }[];
}

export class PriceTable {
  private readonly exact = new Map<string, UserPrice>();
  private readonly normalized = new Map<string, UserPrice>();
  private readonly cache = new Map<string, PriceSource | null>();

  constructor(
    userPrices: readonly UserPrice[] = [],
    /** Names the user file in price ids. */
    private readonly userLabel = 'model_prices.json',
  ) {
    for (const p of userPrices) {
      this.exact.set(p.name, p);
      const key = normalizeModelName(p.name);
      if (!this.normalized.has(key)) this.normalized.set(key, p);
    }
  }

  /** The price source of a model name, or null when the model is not priced. */
  resolve(model: string): PriceSource | null {
    const cached = this.cache.get(model);
    if (cached !== undefined) return cached;
    const found = this.lookup(model);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(model, found);
    return found;
  }

  isPriced(model: string): boolean {
    return this.resolve(model) !== null;
  }

  /**
   * The cost of one call, or null when the model is not priced. Missing token counts count 0;
   * `at` (epoch ms) picks the price in force then.
   */
  cost(model: string, inputTokens: number, outputTokens: number, at: number): ComputedCost | null {
    const source = this.resolve(model);
    if (!source) return null;
    if (source.kind === 'user') {
      return {
        costUsd: (inputTokens * source.inputPerMillion + outputTokens * source.outputPerMillion) / 1e6,
        priceId: `${this.userLabel}/${source.name}`,
      };
    }
    const price = activePrice(source.model, at);
    return {
      costUsd: tokenPrice(price.input_mtok, inputTokens, inputTokens) + tokenPrice(price.output_mtok, outputTokens, inputTokens) + requestPrice(price),
      priceId: `${source.provider.id}/${source.model.id}`,
    };
  }

  private lookup(model: string): PriceSource | null {
    const user = this.exact.get(model) ?? this.normalized.get(normalizeModelName(model));
    if (user) return { kind: 'user', name: user.name, inputPerMillion: user.inputPerMillion, outputPerMillion: user.outputPerMillion };
    return packageLookup(model) ?? packageLookup(normalizeModelName(model));
  }
}

const requireCjs = createRequire(import.meta.url);
let genai: typeof GenaiPrices | null = null;

/** Loaded on the first look-up (synchronously, its CommonJS build): about 18 MB of RSS that a server whose records name no model never pays. */
function genaiPrices(): typeof GenaiPrices {
  return (genai ??= requireCjs('@pydantic/genai-prices') as typeof GenaiPrices);
}

function packageLookup(name: string): PriceSource | null {
  if (name.trim().length === 0) return null;
  try {
    const found = genaiPrices().calcPrice({ input_tokens: 0, output_tokens: 0 }, name);
    return found ? { kind: 'package', provider: found.provider, model: found.model } : null;
  } catch {
    // The package refuses some entries it cannot price from input/output tokens alone: unpriced.
    return null;
  }
}

/** A model's prices with their constraints parsed once: a start instant, or a daily window in seconds (UTC). */
type Schedule = { prices: ModelPrice; startMs?: number; window?: [number, number] }[];
const schedules = new WeakMap<ModelInfo, Schedule>();

function scheduleOf(model: ModelInfo): Schedule {
  let s = schedules.get(model);
  if (!s) {
    const list = Array.isArray(model.prices) ? model.prices : [{ prices: model.prices }];
    s = list.map((entry) => {
      const c = 'constraint' in entry ? entry.constraint : undefined;
      if (c?.type === 'start_date') return { prices: entry.prices, startMs: Date.parse(c.start_date) };
      if (c?.type === 'time_of_date') return { prices: entry.prices, window: [timeOfDay(c.start_time), timeOfDay(c.end_time)] as [number, number] };
      return { prices: entry.prices };
    });
    schedules.set(model, s);
  }
  return s;
}

/** The model's price at `at`: the last entry whose start date or time-of-day window holds, as the package picks it. */
function activePrice(model: ModelInfo, at: number): ModelPrice {
  const schedule = scheduleOf(model);
  if (schedule.length === 1 && schedule[0]!.startMs === undefined && schedule[0]!.window === undefined) return schedule[0]!.prices;
  for (let i = schedule.length - 1; i >= 0; i--) {
    const entry = schedule[i]!;
    if (entry.startMs !== undefined) {
      if (at >= entry.startMs) return entry.prices;
    } else if (entry.window !== undefined) {
      const s = secondsOfDay(at);
      const [start, end] = entry.window;
      if (end < start ? s >= start || s < end : s >= start && s < end) return entry.prices;
    } else return entry.prices;
  }
  return schedule[0]!.prices;
}

/** Seconds after midnight UTC. */
function secondsOfDay(at: number): number {
  return (((at % 86_400_000) + 86_400_000) % 86_400_000) / 1000;
}

/** `hh:mm:ss(.fff)(Z|±hh:mm)` → seconds after midnight UTC. */
function timeOfDay(text: string): number {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!m) return 0;
  const offset = m[4] === 'Z' ? 0 : (m[5] === '+' ? 1 : -1) * (Number(m[6]) * 3600 + Number(m[7]) * 60);
  return (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) - offset + 86_400) % 86_400;
}

/** USD for `tokens` at a per-million price; a tiered price takes the tier the call's input tokens reach, as the package does. */
function tokenPrice(price: ModelPrice[string], tokens: number, inputTokens: number): number {
  if (price === undefined || tokens <= 0) return 0;
  if (typeof price === 'number') return (price * tokens) / 1e6;
  const tiered = price as TieredPrice;
  let perMillion = tiered.base;
  let reached = -1;
  for (const t of tiered.tiers) {
    if (inputTokens > t.start && t.start > reached) {
      perMillion = t.price;
      reached = t.start;
    }
  }
  return (perMillion * tokens) / 1e6;
}

/** A per-request price (`requests_kilo`: USD per thousand requests). */
function requestPrice(price: ModelPrice): number {
  const perKilo = price.requests_kilo;
  return typeof perKilo === 'number' ? perKilo / 1000 : 0;
}
