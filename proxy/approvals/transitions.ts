/**
 * The approval state machine as pure functions: both stores (memory, Redis) apply
 * exactly these, so their semantics cannot drift. Each returns the next approval,
 * or the stable error code that refuses the step.
 */
import { approversOf, effectiveStatus, type Approval } from './approval.js';

export type StepRefusal =
  | 'approval_expired'
  | 'approval_denied'
  | 'approval_used'
  | 'approval_already_decided'
  | 'approval_self'
  | 'approval_duplicate_approver'
  | 'approval_not_eligible'
  | 'approval_mismatch';

export type Step = { ok: true; approval: Approval } | { ok: false; refusal: StepRefusal };

export interface Approver {
  user: string;
  keyId: string;
  tenant: string;
}

/** A person's id as compared: NFKC, without invisible characters, trimmed, case-folded. */
export function personKey(id: string): string {
  return id.normalize('NFKC').replace(/[\p{Cf}\p{Zs}\u034f\u115f\u1160\u3164\uffa0]/gu, '').toLowerCase();
}

const same = (a: string, b: string) => personKey(a) === personKey(b);

/** An approver's approve or deny. A requester never approves their own call; approvers are distinct people. */
export function decide(approval: Approval, approver: Approver, decision: 'approve' | 'deny', reason: string, now: number): Step {
  const status = effectiveStatus(approval, now);
  if (status === 'expired') return { ok: false, refusal: 'approval_expired' };
  if (status !== 'pending') return { ok: false, refusal: 'approval_already_decided' };
  if (approval.requesters.some((r) => same(r, approver.user))) return { ok: false, refusal: 'approval_self' };
  if (approval.decisions.some((d) => same(d.approver, approver.user))) return { ok: false, refusal: 'approval_duplicate_approver' };
  if (approval.approvers !== undefined && !approval.approvers.some((a) => same(a, approver.user))) return { ok: false, refusal: 'approval_not_eligible' };
  const decisions = [...approval.decisions, { decision, approver: approver.user, key_id: approver.keyId, at: new Date(now).toISOString(), reason }];
  const next: Approval = { ...approval, decisions };
  if (decision === 'deny') next.status = 'denied';
  else if (approversOf(next).length >= approval.required) next.status = 'approved';
  return { ok: true, approval: next };
}

/** The approved call goes through, once: approved → used. */
export function use(approval: Approval, bindingSha256: string, requestId: string, now: number): Step {
  const status = effectiveStatus(approval, now);
  if (approval.binding_sha256 !== bindingSha256) return { ok: false, refusal: 'approval_mismatch' };
  if (status === 'expired') return { ok: false, refusal: 'approval_expired' };
  if (status === 'denied') return { ok: false, refusal: 'approval_denied' };
  if (status === 'used') return { ok: false, refusal: 'approval_used' };
  if (status !== 'approved') return { ok: false, refusal: 'approval_already_decided' };
  return { ok: true, approval: { ...approval, status: 'used', used_at: now, used_by_request: requestId } };
}

/** Past its expiry, a pending or approved approval becomes expired (recorded once). */
export function expire(approval: Approval, now: number): Step {
  if (effectiveStatus(approval, now) !== 'expired' || approval.status === 'expired') return { ok: false, refusal: 'approval_already_decided' };
  return { ok: true, approval: { ...approval, status: 'expired' } };
}
