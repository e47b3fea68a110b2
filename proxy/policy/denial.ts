/**
 * Turns a denying request decision into the error the client sees. The policy's
 * own code (for example `prompt_injection`) stays on the decision, for the span
 * (`gatehouse.policy.code`) and the audit record; the client gets the stable
 * Gatehouse code it maps to.
 */
import { GatehouseError, type ErrorCode } from '../errors.js';
import type { RequestDecision } from './decision.js';

/** Policy codes that are Gatehouse error codes of their own; every other denial is `policy_denied`. */
const OWN_CODES: ReadonlySet<string> = new Set<ErrorCode>(['model_not_allowed', 'approval_required', 'policy_denied', 'delegation_depth_exceeded', 'delegation_loop']);

export function requestDenial(decision: RequestDecision): GatehouseError {
  const code = decision.code !== undefined && OWN_CODES.has(decision.code) ? (decision.code as ErrorCode) : 'policy_denied';
  return new GatehouseError(code, decision.reasons.join(' '));
}
