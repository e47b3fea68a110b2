/** Guardrails: every tenant marked `regulated: true` in the policy data has a response policy attached. */
import { fail, listed, pass, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

const ID = 'guardrails.regulated';
const TITLE = 'every regulated tenant has a response policy';

interface TenantData {
  regulated?: unknown;
  packs?: { finance?: Record<string, unknown> };
  pii?: { response_redact?: unknown[] };
}

export function checkGuardrails(inputs: ReadinessInputs): CheckResult {
  if (!inputs.config.policy.enabled) return fail(ID, TITLE, 'the policy is disabled: no response policy applies to anyone', 'enable the policy (policy.enabled: true)');
  if (inputs.data === undefined) return fail(ID, TITLE, `the policy data could not be loaded: ${inputs.loadProblems.join('; ')}`, 'fix the policies folder (policy.dir)');
  const tenants = ((inputs.data as { data?: { tenants?: Record<string, TenantData> } } | undefined)?.data?.tenants) ?? {};
  const regulated = Object.entries(tenants).filter(([, t]) => t.regulated === true);
  if (regulated.length === 0) return pass(ID, TITLE, 'no tenant is marked regulated (set regulated: true on those that are)');
  const bare = regulated.filter(([, t]) => {
    const finance = Object.values(t.packs?.finance ?? {}).some((on) => on === true);
    const redacts = Array.isArray(t.pii?.response_redact) && t.pii!.response_redact.length > 0;
    return !finance && !redacts;
  }).map(([name]) => name);
  if (bare.length > 0) return fail(ID, TITLE, `regulated without a response policy: ${listed(bare)}`, 'turn on a response pack (packs.finance) or pii.response_redact for these tenants (docs/policies.md, "The packs")');
  return pass(ID, TITLE, `${regulated.length} regulated tenant(s), each with a response policy`);
}
