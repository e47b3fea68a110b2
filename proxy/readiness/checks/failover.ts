/** Failover: every chat model alias has two or more targets on different providers, and the circuit breaker is on. */
import { fail, listed, pass, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

const ID = 'failover.targets';
const TITLE = 'every chat model survives one provider\'s outage';

export function checkFailover(inputs: ReadinessInputs): CheckResult {
  const single = Object.entries(inputs.config.models)
    .filter(([, model]) => model.kind !== 'embeddings')
    .filter(([, model]) => new Set(model.targets.map((t) => t.provider)).size < 2)
    .map(([alias, model]) => `${alias} (${[...new Set(model.targets.map((t) => t.provider))].join(', ')})`);
  const breaker = inputs.config.routing.breaker;
  if (single.length > 0) return fail(ID, TITLE, `one provider only: ${listed(single)}`, 'add a second target on another provider to each alias (models.<alias>.targets)');
  return pass(ID, TITLE, `every chat alias has targets on two or more providers; the breaker opens after ${breaker.failureThreshold} failures for ${breaker.cooldownMs} ms`);
}
