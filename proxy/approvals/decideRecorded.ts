/**
 * An approver's decision, from any surface (the approvers' API, the console):
 * refused while the audit spool cannot take records, and applied only after
 * its audit record is durable.
 */
import { GatehouseError } from '../errors.js';
import type { AuditGate } from '../pipeline/deps.js';
import type { Approval } from './approval.js';
import type { ApprovalService } from './service.js';
import type { Approver } from './transitions.js';

export async function decideRecorded(
  approvals: ApprovalService, audit: AuditGate | undefined, id: string, approver: Approver, decision: 'approve' | 'deny', reason: string,
): Promise<Approval> {
  // An approval that cannot be recorded is not given.
  if (audit && !audit.accepting()) throw new GatehouseError('audit_unavailable', 'the audit spool cannot take records, and a decision must be recorded');
  // The decision's record is durable before the decision applies (audit first).
  return approvals.decide(id, approver, decision, reason, async () => {
    await audit?.durable();
  });
}
