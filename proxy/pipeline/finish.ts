/**
 * How every request ends: facts → span (the audit record) → durable spool and
 * settled spend → the response's last bytes. No acknowledged request without its
 * audit record, nor without its spend counted against its budgets.
 */
import { asGatehouseError, type GatehouseError } from '../errors.js';
import type { Outcome } from '../telemetry/attributes.js';
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { emitTelemetry } from './emit.js';
import { settleUsage } from './enforce.js';
import type { ResponseSink } from './sink.js';

/** Ends the request's telemetry and waits until its audit record and its settled spend are durable. */
export async function finishRequest(ctx: RequestContext, deps: PipelineDeps): Promise<void> {
  const settled = settleUsage(ctx, deps);
  emitTelemetry(ctx, deps.emit);
  // Both awaited together: a failure of either is the request's, and neither is left unhandled.
  await Promise.all([deps.audit?.durable(), settled]);
}

export function outcomeOf(error: GatehouseError): Outcome {
  switch (error.code) {
    case 'cancelled':
      return 'cancelled';
    case 'rate_limited':
    case 'budget_exceeded':
    case 'run_budget_exceeded':
      return 'rate_limited';
    case 'policy_denied':
    case 'approval_required':
    case 'approval_denied':
    case 'approval_expired':
    case 'approval_used':
    case 'approval_not_found':
    case 'model_not_allowed':
    case 'agent_not_registered':
    case 'agent_suspended':
    case 'delegation_depth_exceeded':
    case 'delegation_loop':
      return 'denied';
    default:
      return 'error';
  }
}

/** Renders a failure in the caller's wire format, after its audit record is durable. */
export async function failRequest(ctx: RequestContext, deps: PipelineDeps, sink: ResponseSink, thrown: unknown): Promise<void> {
  const error = asGatehouseError(thrown);
  ctx.error = error;
  ctx.status = error.status;
  ctx.outcome = outcomeOf(error);
  const rendered = ctx.wire.renderError(error);
  const headers: Record<string, string> = { ...ctx.responseHeaders, ...error.headers, 'content-type': 'application/json' };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  try {
    await finishRequest(ctx, deps);
  } catch (auditError) {
    const unavailable = asGatehouseError(auditError);
    if (!sink.started) sink.send(unavailable.status, { ...ctx.responseHeaders, 'content-type': 'application/json' }, JSON.stringify(ctx.wire.renderError(unavailable).body));
    return;
  }
  if (!sink.started) sink.send(rendered.status, headers, JSON.stringify(rendered.body));
}
