/** The price table: every model a chat or embeddings alias routes to has a price, so cost is attributed, never zero. */
import { PriceTable } from '../../cost/priceTable.js';
import { fail, listed, pass, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

const ID = 'prices.models';
const TITLE = 'every routed model has a price';

export function checkPrices(inputs: ReadinessInputs): CheckResult {
  const prices = new PriceTable(inputs.config.prices);
  const unknown = [...new Set(Object.values(inputs.config.models).flatMap((m) => m.targets)
    .filter((t) => inputs.config.providers[t.provider]?.type !== 'simulated')
    .map((t) => t.model))].filter((model) => !prices.knows(model));
  const simulated = Object.entries(inputs.config.models).filter(([, m]) => m.targets.some((t) => inputs.config.providers[t.provider]?.type === 'simulated')).map(([alias]) => alias);
  if (unknown.length > 0) return fail(ID, TITLE, `no price for: ${listed(unknown)}`, 'add them under prices: (USD per million input and output tokens)');
  if (simulated.length > 0) return fail(ID, TITLE, `routed to the simulated provider (no real cost): ${listed(simulated)}`, 'route these aliases to real providers before handing over');
  return pass(ID, TITLE, 'every routed model has a price');
}
