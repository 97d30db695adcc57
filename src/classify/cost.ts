/**
 * Estimated spend from a price table. Prices change: the table is a default the caller overrides
 * from configuration, never something the library fetches. Unknown models (local servers,
 * deployments with custom names not in the table) cost 0 rather than a guess.
 */

export interface ModelPrice {
  /** USD per 1 million input (prompt) tokens. */
  inputPerMillion: number;
  /** USD per 1 million output (completion) tokens. */
  outputPerMillion: number;
}

export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** OpenAI list prices (standard tier) as of 2025. */
export const DEFAULT_PRICES: PriceTable = Object.freeze({
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
});

/** The defaults with the caller's entries on top (an entry replaces the default for that model). */
export function priceTable(overrides: Readonly<Record<string, ModelPrice>> = {}): PriceTable {
  return Object.freeze({ ...DEFAULT_PRICES, ...overrides });
}

/**
 * The price of `model`: an exact entry, else the longest entry that the name starts with followed by
 * "-" (so "gpt-4o-mini-2024-07-18" is priced as "gpt-4o-mini", never as "gpt-4o").
 */
export function findPrice(model: string, prices: PriceTable = DEFAULT_PRICES): ModelPrice | undefined {
  const exact = prices[model];
  if (exact) return exact;
  let best: string | undefined;
  for (const name of Object.keys(prices)) {
    if (model.startsWith(`${name}-`) && (best === undefined || name.length > best.length)) best = name;
  }
  return best === undefined ? undefined : prices[best];
}

export function estimateCost(model: string, inputTokens: number, outputTokens: number, prices: PriceTable = DEFAULT_PRICES): number {
  const price = findPrice(model, prices);
  if (!price) return 0;
  return (inputTokens * price.inputPerMillion + outputTokens * price.outputPerMillion) / 1_000_000;
}
