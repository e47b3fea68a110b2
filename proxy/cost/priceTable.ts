import type { Usage } from '../canonical.js';
import type { Price } from '../config/schema.js';
import { DEFAULT_PRICES } from './defaultPrices.js';

export interface Cost {
  usd: number;
  /** False when no price matched the model: the cost is unknown, not zero. */
  priceKnown: boolean;
}

/**
 * Prices by model name. A model matches its exact name first, then the longest
 * configured name it starts with followed by `-` (so `gpt-4o-2024-08-06` is priced
 * as `gpt-4o`, and `claude-sonnet-4-5-20250929` as `claude-sonnet-4-5`).
 */
export class PriceTable {
  private readonly prices: Map<string, Price>;
  private readonly byLength: string[];
  private readonly resolved = new Map<string, Price | null>();

  constructor(overrides: Readonly<Record<string, Price>> = {}) {
    this.prices = new Map(Object.entries({ ...DEFAULT_PRICES, ...overrides }));
    this.byLength = [...this.prices.keys()].sort((a, b) => b.length - a.length);
  }

  priceOf(model: string): Price | undefined {
    let price = this.resolved.get(model);
    if (price === undefined) {
      price = this.prices.get(model) ?? this.byLength.map((name) => (model.startsWith(`${name}-`) ? this.prices.get(name) : undefined)).find(Boolean) ?? null;
      if (this.resolved.size < 10_000) this.resolved.set(model, price);
    }
    return price ?? undefined;
  }

  /** Cost of one call. `usage.inputTokens` includes cached reads and cache writes. */
  costOf(models: readonly (string | undefined)[], usage: Usage): Cost {
    let price: Price | undefined;
    for (const model of models) if (model && (price = this.priceOf(model))) break;
    if (!price) return { usd: 0, priceKnown: false };
    const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens);
    const micros =
      uncached * price.input +
      usage.cachedInputTokens * (price.cachedInput ?? price.input) +
      usage.cacheWriteTokens * (price.cacheWrite ?? price.input) +
      usage.outputTokens * price.output;
    return { usd: micros / 1_000_000, priceKnown: true };
  }
}
