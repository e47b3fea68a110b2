/**
 * The approvers' HTTP API (docs/approvals.md), for the CLI, a chat bot or a
 * ticketing integration. Only keys with the `approver` role, for their own
 * tenant; the approver is the key's `user`, never a name sent in the body.
 *
 *   GET  /v1/gatehouse/approvals?status=pending&limit=100
 *   GET  /v1/gatehouse/approvals/{id}
 *   POST /v1/gatehouse/approvals/{id}/approve   {"reason": "..."}
 *   POST /v1/gatehouse/approvals/{id}/deny      {"reason": "..."}
 *
 * Errors answer in the OpenAI error shape, with a stable `code`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError } from '../errors.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { readJsonBody } from '../requestBody.js';
import { openaiWire } from '../wire/openai/index.js';
import { decideRecorded } from './decideRecorded.js';
import { approversOf, effectiveStatus, type Approval, type ApprovalStatus } from './approval.js';
import { APPROVALS_PATH } from './paths.js';
import type { ApprovalService } from './service.js';

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'used'];
const MAX_LIST = 1_000;

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'cache-control': 'no-store' });
  res.end(payload);
}

export async function handleApprovals(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, deps: PipelineDeps): Promise<void> {
  try {
    const method = req.method ?? 'GET';
    const [id, action, ...rest] = path.slice(APPROVALS_PATH.length + 1).split('/').filter((p, i) => i > 0 || p !== '');
    if (rest.length > 0 || (action !== undefined && action !== 'approve' && action !== 'deny')) throw new GatehouseError('not_found', `no route for ${method} ${path}`);
    if (action === undefined && method !== 'GET') throw new GatehouseError('method_not_allowed', `${method} is not allowed on ${path}; use GET`);
    if (action !== undefined && method !== 'POST') throw new GatehouseError('method_not_allowed', `${method} is not allowed on ${path}; use POST`);
    const { principal, key } = deps.keys.authenticate(req.headers);
    if (!key.roles.includes('approver') || principal.user === undefined) throw new GatehouseError('forbidden', 'this key does not have the approver role');
    const approvals: ApprovalService | undefined = deps.approvals;
    if (approvals === undefined) throw new GatehouseError('not_found', 'approvals are served with the MCP endpoint (mcp.servers or agents.dir)');
    if (id === undefined) {
      const status = query.get('status') ?? undefined;
      if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) throw new GatehouseError('invalid_request', `status: one of ${STATUSES.join(', ')}`, { param: 'status' });
      const limit = Number(query.get('limit') ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) throw new GatehouseError('invalid_request', `limit: an integer from 1 to ${MAX_LIST}`, { param: 'limit' });
      const list = await approvals.list(principal.tenant, status as ApprovalStatus | undefined, limit);
      return send(res, 200, { object: 'list', data: list.map((a) => view(a, approvals)) });
    }
    if (action === undefined) return send(res, 200, view(await approvals.get(id, principal.tenant), approvals));
    const body = await readJsonBody(req, 64 * 1024, deps.config.server.bodyTimeoutMs) as { reason?: unknown } | null;
    const reason = body !== null && typeof body === 'object' && !Array.isArray(body) ? body.reason : undefined;
    if (typeof reason !== 'string') throw new GatehouseError('invalid_request', 'reason: expected a string saying why', { param: 'reason' });
    const decided = await decideRecorded(approvals, deps.audit, id, { user: principal.user, keyId: principal.keyId, tenant: principal.tenant }, action, reason);
    send(res, 200, view(decided, approvals));
  } catch (error) {
    const failure = error instanceof GatehouseError ? error : new GatehouseError('internal_error', 'internal error', { cause: error });
    if (!res.headersSent) {
      const rendered = openaiWire.renderError(failure);
      send(res, rendered.status, rendered.body);
    }
  }
}

/** What approvers see: the whole call, so they approve what they can read. */
export function view(approval: Approval, approvals: ApprovalService): Record<string, unknown> {
  const b = approval.binding;
  return {
    object: 'approval',
    id: approval.id,
    status: effectiveStatus(approval, Date.now()),
    tenant: b.tenant,
    requester: { key_id: b.key_id, user: b.user ?? null, agent: b.agent ?? null },
    server: b.server,
    tool: b.tool,
    arguments: approval.arguments,
    arguments_sha256: b.arguments_sha256,
    policy_revision: b.policy_revision,
    reason: approval.reason,
    required: approval.required,
    groups: approval.groups,
    approvers: approval.approvers ?? null,
    approved_by: approversOf(approval),
    decisions: approval.decisions,
    created_at: new Date(approval.created_at).toISOString(),
    expires_at: new Date(approval.expires_at).toISOString(),
    used_at: approval.used_at === undefined ? null : new Date(approval.used_at).toISOString(),
    url: approvals.url(approval.id),
  };
}
