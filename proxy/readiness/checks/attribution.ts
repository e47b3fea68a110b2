/** Attribution: every key carries a tenant and a team, and its user is bound or named per request. */
import { fail, listed, pass, warn, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

const ID = 'attribution.keys';
const TITLE = 'every key names its tenant and team, and who the user is';

export function checkAttribution(inputs: ReadinessInputs): CheckResult {
  if (inputs.config.keys.length === 0) return warn(ID, TITLE, 'no keys are configured: nothing to attribute yet', 'add keys (gatehouse keys create)');
  const noTeam = inputs.config.keys.filter((k) => k.team === undefined).map((k) => k.id);
  const noUser = inputs.config.keys.filter((k) => k.user === undefined && !k.allowHeaders.includes('user') && k.agent === undefined).map((k) => k.id);
  const problems = [
    noTeam.length > 0 ? `no team: ${listed(noTeam)}` : '',
    noUser.length > 0 ? `no user, no agent, and x-gatehouse-user not allowed: ${listed(noUser)}` : '',
  ].filter(Boolean);
  if (problems.length > 0) return fail(ID, TITLE, problems.join('; '), 'give each key a team, and a user (or allowHeaders: [user] for a shared application key, or an agent)');
  return pass(ID, TITLE, `${inputs.config.keys.length} key(s) attributed`);
}
