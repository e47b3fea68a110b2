/**
 * Every step of an approval is an audit record (`record_type = approval`) in the
 * same spool and hash chain as the calls: requested (with the argument digest),
 * approved and denied (who, when, why), used (by which request, with the
 * approvers), expired. A decision is recorded before it applies; one that then
 * could not apply (the approval changed meanwhile) is recorded again with
 * outcome `error` and its code. `gatehouse audit show` on the tool call prints them all.
 */
import { randomUUID } from 'node:crypto';
import { context as otelContext, SpanKind } from '@opentelemetry/api';
import type { Context, Tracer } from '@opentelemetry/api';
import { A } from '../telemetry/attributes.js';
import { approversOf, type Approval } from './approval.js';

export type ApprovalEvent = 'requested' | 'approved' | 'denied' | 'expired' | 'used';

export interface ApprovalActor {
  user?: string;
  keyId?: string;
  reason?: string;
}

/**
 * Emits one approval record. `parent` (the tool call's span context, for
 * requested and used) puts it in the call's trace.
 */
export function recordApproval(tracer: Tracer, approval: Approval, event: ApprovalEvent, actor: ApprovalActor = {}, parent?: Context, failed?: string): void {
  const b = approval.binding;
  const span = tracer.startSpan(`approval ${event}`, { kind: SpanKind.INTERNAL }, parent ?? otelContext.active());
  const requestId = randomUUID();
  span.setAttributes({
    [A.auditRecord]: true,
    [A.recordType]: 'approval',
    [A.requestId]: requestId,
    [A.operation]: `approval.${event}`,
    [A.tenant]: b.tenant,
    [A.keyId]: actor.keyId ?? b.key_id,
    ...(b.user !== undefined ? { [A.user]: b.user } : {}),
    ...(b.agent !== undefined ? { [A.agent]: b.agent } : {}),
    [A.mcpServer]: b.server,
    [A.toolName]: b.tool,
    [A.toolArgumentsSha256]: b.arguments_sha256,
    [A.policyRevision]: b.policy_revision,
    [A.approvalId]: approval.id,
    [A.approvalEvent]: event,
    [A.approvalActor]: actor.user ?? actor.keyId ?? b.user ?? b.key_id,
    ...(actor.reason !== undefined ? { [A.approvalReason]: actor.reason } : {}),
    [A.approvalRequired]: approval.required,
    [A.approvalApprovers]: approversOf(approval),
    [A.approvalExpiresAt]: new Date(approval.expires_at).toISOString(),
    [A.outcome]: failed === undefined ? 'ok' : 'error',
    [A.httpStatus]: failed === undefined ? 200 : 409,
    ...(failed !== undefined ? { [A.errorCode]: failed } : {}),
  });
  span.end();
}
