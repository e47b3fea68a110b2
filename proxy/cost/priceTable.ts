import type { Usage } from '../canonical.js';
import type { Price } from '../config/schema.js';
import { DEFAULT_PRICES } from './defaultPrices.js';
import { formatUnitsShort, picoPerToken, picoToUsd } from './money.js';

export interface Cost {
  /** The exact cost in pico-USD (1e-12 USD): the ledger's amount. */
  pico: bigint;
  /** The same as a decimal string without trailing zeros (`0.00001575`): what spans and audit records carry. */
  decimal: string;
  /** The same as a JS number, for metrics and budget counters only. */
  usd: number;
  /** False when no price matched the model: the cost is unknown, not zero. */
  priceKnown: boolean;
}

/** A price in pico-USD per token, each rate exact. */
interface TokenPrice { input: bigint; output: bigint; cachedInput: bigint; cacheWrite: bigint }

const UNKNOWN: Cost = Object.freeze({ pico: 0n, decimal: '0', usd: 0, priceKnown: false });

function tokenPrice(price: Price): TokenPrice {
  const input = picoPerToken(price.input);
  return {
    input,
    output: picoPerToken(price.output),
    cachedInput: price.cachedInput === undefined ? input : picoPerToken(price.cachedInput),
    cacheWrite: price.cacheWrite === undefined ? input : picoPerToken(price.cacheWrite),
  };
}

/** The cost of `usage` at `price`, exactly. `usage.inputTokens` includes cached reads and cache writes. */
export function costAt(price: TokenPrice, usage: Usage): Cost {
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens);
  const pico =
    BigInt(uncached) * price.input +
    BigInt(usage.cachedInputTokens) * price.cachedInput +
    BigInt(usage.cacheWriteTokens) * price.cacheWrite +
    BigInt(usage.outputTokens) * price.output;
  return { pico, decimal: formatUnitsShort(pico), usd: picoToUsd(pico), priceKnown: true };
}

/**
 * Prices by model name. A model matches its exact name first, then the longest
 * configured name it starts with followed by `-` (so `gpt-4o-2024-08-06` is priced
 * as `gpt-4o`, and `claude-sonnet-4-5-20250929` as `claude-sonnet-4-5`).
 */
export class PriceTable {
  private readonly prices: Map<string, TokenPrice>;
  private readonly byLength: string[];
  private readonly resolved = new Map<string, TokenPrice | null>();

  constructor(overrides: Readonly<Record<string, Price>> = {}) {
    this.prices = new Map(Object.entries({ ...DEFAULT_PRICES, ...overrides }).map(([model, price]) => [model, tokenPrice(price)]));
    this.byLength = [...this.prices.keys()].sort((a, b) => b.length - a.length);
  }

  private priceOf(model: string): TokenPrice | undefined {
    let price = this.resolved.get(model);
    if (price === undefined) {
      price = this.prices.get(model) ?? this.byLength.map((name) => (model.startsWith(`${name}-`) ? this.prices.get(name) : undefined)).find(Boolean) ?? null;
      if (this.resolved.size < 10_000) this.resolved.set(model, price);
    }
    return price ?? undefined;
  }

  /** Whether some price applies to `model`. */
  knows(model: string): boolean {
    return this.priceOf(model) !== undefined;
  }

  /** Cost of one call, priced by the first of `models` that has a price. */
  costOf(models: readonly (string | undefined)[], usage: Usage): Cost {
    for (const model of models) {
      const price = model ? this.priceOf(model) : undefined;
      if (price) return costAt(price, usage);
    }
    return UNKNOWN;
  }
}
