/**
 * A tools/call the tool policy answered `approval_required` with: bound to the
 * exact call (caller, agent, server, tool, argument digest, policy revision) and
 * handed to the approval service (proxy/approvals/). The caller may name the
 * approval it is following up in `_meta["gatehouse/approval_id"]`.
 */
import { context, trace } from '@opentelemetry/api';
import type { ApprovalService } from '../approvals/service.js';
import type { RequestContext } from '../pipeline/context.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import type { ApprovalRequirement } from '../policy/decision.js';
import { A } from '../telemetry/attributes.js';

export const APPROVAL_ID_META = 'gatehouse/approval_id';

export interface CallFacts {
  server: string;
  name: string;
  args: Record<string, unknown>;
  meta: Record<string, unknown> | undefined;
  revision: string;
  /** The user the key itself names (before any x-gatehouse-user override). */
  keyUser: string | undefined;
}

export async function holdForApproval(ctx: RequestContext, deps: PipelineDeps, approvals: ApprovalService, requirement: ApprovalRequirement, call: CallFacts): Promise<void> {
  const principal = ctx.principal!;
  const owner = principal.agent === undefined ? undefined : deps.agents?.current.get(principal.agent)?.owner.contact;
  const presented = call.meta?.[APPROVAL_ID_META];
  // Every name the requester goes by: the key's own user, the user it claims for this call, the agent's owner.
  const requesters = [call.keyUser, principal.user, ctx.claimedUser, owner].filter((r): r is string => typeof r === 'string' && r !== '');
  const span = ctx.span.spanContext();
  await approvals.gate({
    binding: {
      tenant: principal.tenant, key_id: principal.keyId,
      ...(principal.user !== undefined ? { user: principal.user } : {}),
      ...(principal.agent !== undefined ? { agent: principal.agent } : {}),
      server: call.server, tool: call.name, arguments_sha256: String(ctx.annotations[A.toolArgumentsSha256]), policy_revision: call.revision,
    },
    arguments: call.args,
    requirement,
    requesters: [...new Set(requesters)],
    requestId: ctx.id,
    traceId: span.traceId,
    // Anything presented is looked up: a value that cannot be an approval id is simply not found.
    ...(presented !== undefined ? { presentedId: typeof presented === 'string' ? presented.slice(0, 256) : JSON.stringify(presented).slice(0, 256) } : {}),
    parent: trace.setSpan(context.active(), ctx.span),
    annotations: ctx.annotations,
  });
}
