/**
 * Per-principal limits: every key's principal, evaluated through the real policy
 * (`gatehouse/request/caller`), gets a request rate limit on a scope narrower
 * than the tenant (user, key, agent or team) and a budget, and that limit is
 * below the global one (the provider account's share): one user cannot exhaust
 * the shared provider limit.
 */
import type { KeyConfig } from '../../config/schema.js';
import type { PolicyPrincipal } from '../../policy/input.js';
import { fail, listed, pass, warn, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

const ID = 'limits.per-principal';
const TITLE = 'every principal has a rate limit and a budget below the shared provider limit';
const NARROW = new Set(['user', 'key', 'agent', 'team']);

export function principalOf(key: KeyConfig): PolicyPrincipal {
  const principal: PolicyPrincipal = { tenant: key.tenant, key_id: key.id };
  if (key.team !== undefined) principal.team = key.team;
  if (key.user !== undefined) principal.user = key.user;
  if (key.agent !== undefined) principal.agent = key.agent;
  if (key.feature !== undefined) principal.feature = key.feature;
  return principal;
}

export function checkLimits(inputs: ReadinessInputs): CheckResult {
  const { engine, config } = inputs;
  if (!config.policy.enabled) return fail(ID, TITLE, 'the policy is disabled (policy.enabled: false): no limit or budget applies to anyone', 'enable the policy');
  if (engine === undefined) return fail(ID, TITLE, `the policy could not be loaded: ${inputs.loadProblems.join('; ')}`, 'fix the policies (opa test policies, npm run policies:build)');
  if (config.keys.length === 0) return warn(ID, TITLE, 'no keys are configured', 'add keys (gatehouse keys create)');
  const unlimited: string[] = [];
  const unbudgeted: string[] = [];
  const aboveGlobal: string[] = [];
  let globalKnown = false;
  for (const key of config.keys) {
    const caller = engine.callerOf(principalOf(key));
    const narrow = caller.limits.filter((l) => NARROW.has(l.scope) && l.requestsPerMinute !== undefined);
    const global = caller.limits.find((l) => l.scope === 'global' && l.requestsPerMinute !== undefined)?.requestsPerMinute;
    if (global !== undefined) globalKnown = true;
    if (narrow.length === 0) unlimited.push(key.id);
    if (caller.budgets.length === 0) unbudgeted.push(key.id);
    const tightest = Math.min(...narrow.map((l) => l.requestsPerMinute!));
    if (global !== undefined && narrow.length > 0 && tightest >= global) aboveGlobal.push(`${key.id} (${tightest}/min, global ${global}/min)`);
  }
  const problems = [
    unlimited.length > 0 ? `no user, key, agent or team rate limit for: ${listed(unlimited)}` : '',
    unbudgeted.length > 0 ? `no budget for: ${listed(unbudgeted)}` : '',
    aboveGlobal.length > 0 ? `a narrowest limit at or above the global one: ${listed(aboveGlobal)}` : '',
  ].filter(Boolean);
  if (problems.length > 0) {
    return fail(ID, TITLE, problems.join('; '), 'set limits.user (or team, agent) and budgets for each tenant in policies/data/tenants.json, below data.global.limits (docs/policies.md, "Data")');
  }
  if (!globalKnown) return warn(ID, TITLE, `${config.keys.length} key(s) limited and budgeted, but no global limit stands for the provider account`, 'set global.limits.requestsPerMinute in policies/data/defaults.json to your provider account\'s limit');
  return pass(ID, TITLE, `${config.keys.length} key(s): each limited below the global limit, each with a budget`);
}
