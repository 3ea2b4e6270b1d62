/**
 * Cost at ingest: a record with a model and token counts but no `costUsd` gets the cost from
 * the price table, marked in its metadata so analysts know it was estimated:
 * `cost_source: "price_table"` and `cost_price: "<provider>/<model id>"` (or
 * `model_prices.json/<name>` for the user file). A sent cost is kept as sent; a model without
 * a price keeps a null cost (never $0).
 */
import type { Interaction } from '../model/interaction.js';
import type { PriceTable } from './table.js';

export const COST_SOURCE_KEY = 'cost_source';
export const COST_PRICE_KEY = 'cost_price';
export const COST_SOURCE_PRICE_TABLE = 'price_table';

/** Sets `costUsd` in place when it can be computed; returns whether it did. */
export function applyComputedCost(record: Interaction, table: PriceTable): boolean {
  if (record.costUsd !== null || record.model === null) return false;
  if (record.inputTokens === null && record.outputTokens === null) return false;
  const computed = table.cost(record.model, record.inputTokens ?? 0, record.outputTokens ?? 0, record.timestamp);
  if (!computed || !Number.isFinite(computed.costUsd)) return false;
  record.costUsd = computed.costUsd;
  record.metadata = { ...record.metadata, [COST_SOURCE_KEY]: COST_SOURCE_PRICE_TABLE, [COST_PRICE_KEY]: computed.priceId };
  return true;
}
