/** Agents: every registered agent has an owner, a budget and a delegation depth limit. */
import { fail, listed, pass, warn, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

const ID = 'agents.registry';
const TITLE = 'every agent is registered with an owner, a budget and a depth limit';

export function checkAgents(inputs: ReadinessInputs): CheckResult {
  if (inputs.config.agents.dir === undefined) {
    const named = inputs.config.keys.filter((k) => k.agent !== undefined || k.allowHeaders.includes('agent')).map((k) => k.id);
    if (named.length > 0) return fail(ID, TITLE, `keys act as agents without a registry: ${listed(named)}`, 'set agents.dir and register each agent (docs/agents.md)');
    return pass(ID, TITLE, 'no agents: no key acts as one');
  }
  if (inputs.agents.length === 0 && inputs.loadProblems.some((p) => p.startsWith('agent registry'))) {
    return fail(ID, TITLE, inputs.loadProblems.filter((p) => p.startsWith('agent registry')).join('; '), 'fix the registry files');
  }
  const missing = inputs.agents.filter((a) => a.status === 'active').flatMap((a) => {
    const gaps = [
      a.owner.team && a.owner.contact ? '' : 'owner',
      (a.budgets !== undefined && Object.keys(a.budgets).length > 0) || a.runBudget !== undefined ? '' : 'budget',
    ].filter(Boolean);
    return gaps.length > 0 ? [`${a.id} (${gaps.join(', ')})`] : [];
  });
  if (missing.length > 0) return fail(ID, TITLE, `incomplete: ${listed(missing)}`, 'give each agent owner.team, owner.contact, budgets (or runBudget) and maxDelegationDepth');
  const unregistered = inputs.config.keys.filter((k) => k.agent !== undefined && !inputs.agents.some((a) => a.id === k.agent && a.tenant === k.tenant)).map((k) => `${k.id} (${k.agent})`);
  if (unregistered.length > 0) return warn(ID, TITLE, `keys bound to agents not in the registry (their calls are refused): ${listed(unregistered)}`, 'register those agents, or fix the keys');
  return pass(ID, TITLE, `${inputs.agents.length} agent(s), each with an owner, a budget and maxDelegationDepth`);
}
