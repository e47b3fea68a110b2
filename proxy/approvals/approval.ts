/**
 * A held tool call and its sign-offs (docs/approvals.md). An approval is bound to
 * the exact call: tenant, key, user, agent, server, tool, the SHA-256 of the
 * canonical arguments and the policy revision. Its `binding` digest is what a
 * later call must match to use it.
 *
 *   pending ──approve (count reached)──▶ approved ──call──▶ used
 *      │  └──deny──▶ denied                 │
 *      └──expiry──▶ expired ◀──expiry───────┘
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'used';

export interface ApprovalBinding {
  tenant: string;
  key_id: string;
  user?: string;
  agent?: string;
  server: string;
  tool: string;
  arguments_sha256: string;
  policy_revision: string;
}

export interface ApprovalDecisionEntry {
  decision: 'approve' | 'deny';
  /** The approver's user id (from their approver key). */
  approver: string;
  key_id: string;
  /** RFC 3339. */
  at: string;
  reason: string;
}

export interface Approval {
  id: string;
  status: ApprovalStatus;
  binding: ApprovalBinding;
  /** sha256 of the RFC 8785 JSON of `binding`. */
  binding_sha256: string;
  /** The call's arguments, shown to approvers: they approve what they can see. */
  arguments: Record<string, unknown>;
  /** People who may not approve: the key's user and the agent's owner. */
  requesters: string[];
  required: number;
  groups: string[];
  /** User ids that may approve; absent: any approver of the tenant. */
  approvers?: string[];
  reason: string;
  /** ms since the epoch. */
  created_at: number;
  expires_at: number;
  decisions: ApprovalDecisionEntry[];
  used_at?: number;
  /** The request id of the tool call that asked for it, and of the one that used it. */
  requested_by_request: string;
  used_by_request?: string;
  trace_id: string;
}

export function bindingDigest(binding: ApprovalBinding): string {
  return createHash('sha256').update(canonicalize(binding) ?? '').digest('hex');
}

/** Approved people so far, in order. */
export function approversOf(approval: Approval): string[] {
  return approval.decisions.filter((d) => d.decision === 'approve').map((d) => d.approver);
}

/** The status as of `now`: a pending or approved approval past its expiry is expired. */
export function effectiveStatus(approval: Approval, now: number): ApprovalStatus {
  if ((approval.status === 'pending' || approval.status === 'approved') && now >= approval.expires_at) return 'expired';
  return approval.status;
}
