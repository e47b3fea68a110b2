/**
 * Human sign-off on tool calls (docs/approvals.md): holds a call the tool policy
 * answered `approval_required` with, lets approvers decide, and lets the exact
 * approved call through once. Every step is an audit record (records.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Context, Tracer } from '@opentelemetry/api';
import { GatehouseError, type ErrorCode } from '../errors.js';
import { log } from '../log.js';
import type { ApprovalRequirement } from '../policy/decision.js';
import { A } from '../telemetry/attributes.js';
import { approversOf, bindingDigest, effectiveStatus, type Approval, type ApprovalBinding } from './approval.js';
import { recordApproval } from './records.js';
import type { ApprovalStore } from './store.js';
import { decide, expire, use, type Approver, type StepRefusal } from './transitions.js';
import type { ApprovalWebhook } from './webhook.js';

export interface ApprovalSettings {
  /** Live (pending or approved) approvals per tenant, and per key, at most. */
  maxLivePerTenant: number;
  maxLivePerKey: number;
  /** Arguments of a held call at most (bytes of their JSON): approvers read them, and the store keeps them. */
  maxArgumentBytes: number;
  /** How often expired approvals are looked for and recorded. */
  sweepMs: number;
}

/** One tool call that needs approval, as the MCP endpoint sees it. */
export interface HeldCall {
  binding: ApprovalBinding;
  arguments: Record<string, unknown>;
  requirement: ApprovalRequirement;
  /** The key's user and the agent's owner: they may not approve. */
  requesters: string[];
  requestId: string;
  traceId: string;
  /** The approval id the caller presented in `_meta`, if any. */
  presentedId?: string;
  /** The tool call's span context (the approval's records join its trace). */
  parent: Context;
  /** The tool call's record: the approval's id and, once used, its approvers. */
  annotations: Record<string, unknown>;
}

const MAX_REASON = 2_000;

const REFUSALS: Record<StepRefusal, { code: ErrorCode; message: string }> = {
  approval_expired: { code: 'approval_expired', message: 'this approval has expired' },
  approval_denied: { code: 'approval_denied', message: 'this approval was denied' },
  approval_used: { code: 'approval_used', message: 'this approval has been used; a new call needs a new approval' },
  approval_already_decided: { code: 'approval_conflict', message: 'this approval is no longer pending' },
  approval_self: { code: 'forbidden', message: 'a requester cannot approve their own call' },
  approval_duplicate_approver: { code: 'approval_conflict', message: 'you have already decided on this approval; approvers must be distinct people' },
  approval_not_eligible: { code: 'forbidden', message: 'you are not in an approver group this approval needs' },
  approval_mismatch: { code: 'approval_required', message: 'this approval is for another call' },
};

export class ApprovalService {
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ApprovalStore,
    private readonly tracer: Tracer,
    private readonly settings: ApprovalSettings,
    private readonly approveUrl: (id: string) => string,
    private readonly webhook: ApprovalWebhook | undefined,
  ) {}

  async start(): Promise<void> {
    await this.store.start();
    this.sweeper = setInterval(() => void this.sweep().catch((error: unknown) => log.warn('approvals: expiry sweep failed', { error: String(error) })), this.settings.sweepMs);
    this.sweeper.unref();
  }

  async shutdown(): Promise<void> {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.webhook?.stop();
    await this.store.shutdown();
  }

  url(id: string): string {
    return this.approveUrl(id);
  }

  /**
   * A call that needs approval: returns its approval, now used, when an approver
   * has approved this exact call; otherwise throws approval_required (pending,
   * merged with an identical pending call), approval_denied, approval_expired or
   * approval_used.
   */
  async gate(call: HeldCall): Promise<Approval> {
    const now = Date.now();
    const sha = bindingDigest(call.binding);
    if (call.presentedId !== undefined) {
      const presented = await this.shared(() => this.store.get(call.presentedId!));
      if (presented === undefined || presented.binding.tenant !== call.binding.tenant) {
        throw new GatehouseError('approval_not_found', `no approval ${call.presentedId} for this tenant`);
      }
      if (presented.binding_sha256 === sha) {
        call.annotations[A.approvalId] = presented.id;
        const status = effectiveStatus(presented, now);
        if (status === 'approved') return this.useOrRequest(presented, call, sha, now);
        if (status === 'pending') throw this.required(presented);
        if (status === 'expired') await this.recordExpiry(presented.id, now);
        throw this.refusal(status === 'used' ? 'approval_used' : status === 'denied' ? 'approval_denied' : 'approval_expired', presented);
      }
      // Another call's approval (other arguments, tool or caller): this call needs its own.
    }
    const current = await this.shared(() => this.store.current(sha));
    if (current !== undefined) {
      const status = effectiveStatus(current, now);
      if (status === 'approved') return this.useOrRequest(current, call, sha, now);
      if (status === 'pending') {
        call.annotations[A.approvalId] = current.id;
        throw this.required(current);
      }
      // A denial stands until the approval's expiry; then the same call may ask again.
      if (status === 'denied' && now < current.expires_at) {
        call.annotations[A.approvalId] = current.id;
        throw this.refusal('approval_denied', current);
      }
      if (status === 'expired') await this.recordExpiry(current.id, now);
    }
    return this.request(call, sha, now);
  }

  private async useOrRequest(approval: Approval, call: HeldCall, sha: string, now: number): Promise<Approval> {
    const step = await this.shared(() => this.store.update(approval.id, (a) => use(a, sha, call.requestId, now)));
    if (step?.ok) {
      call.annotations[A.approvalId] = step.approval.id;
      call.annotations[A.approvalApprovers] = approversOf(step.approval);
      call.annotations[A.approvalRequired] = step.approval.required;
      recordApproval(this.tracer, step.approval, 'used', { keyId: call.binding.key_id, ...(call.binding.user ? { user: call.binding.user } : {}) }, call.parent);
      return step.approval;
    }
    // Used by a concurrent identical call a moment ago: this one asks again.
    return this.request(call, sha, now);
  }

  private async request(call: HeldCall, sha: string, now: number): Promise<never> {
    const argumentBytes = Buffer.byteLength(JSON.stringify(call.arguments));
    if (argumentBytes > this.settings.maxArgumentBytes) {
      throw new GatehouseError('invalid_request', `the arguments are ${argumentBytes} bytes; a call held for approval may have at most ${this.settings.maxArgumentBytes} (approvals.maxArgumentBytes), so that approvers can read what they approve`, { param: 'arguments' });
    }
    const live = await this.shared(() => this.store.live(call.binding.tenant, call.binding.key_id, now));
    if (live.key >= this.settings.maxLivePerKey) {
      throw new GatehouseError('rate_limited', `this key has ${this.settings.maxLivePerKey} approvals waiting already (approvals.maxLivePerKey)`, { retryAfterSeconds: 60 });
    }
    if (live.tenant >= this.settings.maxLivePerTenant) {
      throw new GatehouseError('rate_limited', `tenant ${call.binding.tenant} has ${this.settings.maxLivePerTenant} approvals waiting already (approvals.maxLivePerTenant)`, { retryAfterSeconds: 60 });
    }
    const requirement = call.requirement;
    const candidate: Approval = {
      id: `apr_${randomUUID().replace(/-/g, '')}`,
      status: 'pending',
      binding: call.binding,
      binding_sha256: sha,
      arguments: call.arguments,
      requesters: call.requesters,
      required: requirement.count,
      groups: requirement.groups,
      ...(requirement.approvers !== undefined ? { approvers: requirement.approvers } : {}),
      reason: requirement.reason,
      created_at: now,
      expires_at: now + requirement.expiresInSeconds * 1000,
      decisions: [],
      requested_by_request: call.requestId,
      trace_id: call.traceId,
    };
    const { approval, created } = await this.shared(() => this.store.open(candidate, now));
    call.annotations[A.approvalId] = approval.id;
    if (created) {
      recordApproval(this.tracer, approval, 'requested', { keyId: call.binding.key_id, ...(call.binding.user ? { user: call.binding.user } : {}) }, call.parent);
      this.webhook?.notify(approval);
    }
    throw this.required(approval);
  }

  /**
   * An approver's decision, recorded before it takes effect: it is judged on the
   * current approval, its record made durable (`durable`), and only then applied
   * atomically. If the approval changed meanwhile so that the decision no longer
   * applies, that is recorded too (outcome `error`) and refused.
   */
  async decide(id: string, approver: Approver, decision: 'approve' | 'deny', reason: string, durable: () => Promise<void> = async () => {}): Promise<Approval> {
    if (reason.trim() === '' || reason.length > MAX_REASON) throw new GatehouseError('invalid_request', `reason: expected 1 to ${MAX_REASON} characters saying why`, { param: 'reason' });
    const existing = await this.get(id, approver.tenant);
    const now = Date.now();
    const event = decision === 'approve' ? 'approved' : 'denied';
    const actor = { user: approver.user, keyId: approver.keyId, reason };
    const planned = decide(existing, approver, decision, reason, now);
    if (!planned.ok) {
      if (planned.refusal === 'approval_expired') await this.recordExpiry(id, now);
      throw this.refusal(planned.refusal, existing);
    }
    recordApproval(this.tracer, planned.approval, event, actor);
    await durable();
    const step = await this.shared(() => this.store.update(existing.id, (a) => decide(a, approver, decision, reason, now)));
    if (step === undefined || !step.ok) {
      const refusal = step === undefined ? 'approval_already_decided' : step.refusal;
      recordApproval(this.tracer, existing, event, actor, undefined, REFUSALS[refusal].code);
      throw this.refusal(refusal, existing);
    }
    return step.approval;
  }

  /** One approval of `tenant`, or approval_not_found (another tenant's approvals do not exist for this caller). */
  async get(id: string, tenant: string): Promise<Approval> {
    const approval = await this.shared(() => this.store.get(id));
    if (approval === undefined || approval.binding.tenant !== tenant) throw new GatehouseError('approval_not_found', `no approval ${id}`);
    return approval;
  }

  list(tenant: string, status: Approval['status'] | undefined, limit: number): Promise<Approval[]> {
    return this.shared(() => this.store.list(tenant, status, limit, Date.now()));
  }

  /** Records the expiry of every approval past it (once, whichever replica gets there first). */
  async sweep(now = Date.now()): Promise<void> {
    for (const id of await this.store.due(now)) await this.recordExpiry(id, now);
  }

  private async recordExpiry(id: string, now: number): Promise<void> {
    const step = await this.shared(() => this.store.update(id, (a) => expire(a, now)));
    if (step?.ok) recordApproval(this.tracer, step.approval, 'expired');
  }

  private required(approval: Approval): GatehouseError {
    const approved = approversOf(approval).length;
    return new GatehouseError('approval_required', `${approval.reason} Approval ${approval.id} is pending (${approved} of ${approval.required}); approve at ${this.approveUrl(approval.id)}.`, {
      details: { approval: this.summary(approval) },
    });
  }

  private refusal(refusal: StepRefusal, approval: Approval): GatehouseError {
    const { code, message } = REFUSALS[refusal];
    return new GatehouseError(code, `${message} (${approval.id})`, { details: { approval: this.summary(approval) } });
  }

  /** What a caller is told about an approval (never the arguments or who else is waiting). */
  summary(approval: Approval): Record<string, unknown> {
    return {
      id: approval.id, status: effectiveStatus(approval, Date.now()), required: approval.required, approved: approversOf(approval).length,
      groups: approval.groups, expires_at: new Date(approval.expires_at).toISOString(), url: this.approveUrl(approval.id),
    };
  }

  /** A call to the shared store; an unreachable store is 503 `limits_unavailable`, never a 500 (and never an approval). */
  private async shared<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof GatehouseError) throw error;
      throw new GatehouseError('limits_unavailable', 'the approval store cannot be reached', { cause: error, retryAfterSeconds: 1 });
    }
  }
}
