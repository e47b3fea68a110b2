/**
 * The agent admin API (docs/agents.md, "Suspending an agent"):
 *
 *   POST /v1/gatehouse/agents/{id}/suspend       {"reason": "..."}
 *   POST /v1/gatehouse/agents/{id}/decommission  {"reason": "..."}
 *   POST /v1/gatehouse/agents/{id}/resume        {"reason": "..."}
 *   GET  /v1/gatehouse/agents/{id}
 *
 * Only a key with the role `agents:admin`, for the agent's own tenant. A status
 * change is written to the shared agent state (every replica refuses the agent
 * from its next request) and is itself an audit record (`record_type` =
 * `agent_status`: who, when, why), spooled before the change takes effect; a
 * change that then fails is recorded again with outcome `error`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind } from '@opentelemetry/api';
import { GatehouseError } from '../errors.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { readJsonBody } from '../requestBody.js';
import { A } from '../telemetry/attributes.js';
import { openaiWire } from '../wire/openai/index.js';
import type { Agent } from './agentSchema.js';
import type { StatusOverride } from './agentState.js';

export const AGENTS_ADMIN_PREFIX = '/v1/gatehouse/agents/';
const ACTIONS = ['suspend', 'decommission', 'resume'] as const;
type Action = (typeof ACTIONS)[number];
const MAX_REASON = 2000;

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** Handles a request under AGENTS_ADMIN_PREFIX; errors answer in the OpenAI error shape. */
export async function handleAgentAdmin(req: IncomingMessage, res: ServerResponse, path: string, deps: PipelineDeps): Promise<void> {
  try {
    const [id = '', action, ...rest] = path.slice(AGENTS_ADMIN_PREFIX.length).split('/');
    const method = req.method ?? 'GET';
    if (rest.length > 0 || id === '') throw new GatehouseError('not_found', `no route for ${method} ${path}`);
    if (action !== undefined && !(ACTIONS as readonly string[]).includes(action)) throw new GatehouseError('not_found', `no route for ${method} ${path}`);
    if (action === undefined && method !== 'GET') throw new GatehouseError('method_not_allowed', `${method} is not allowed on ${path}; use GET`);
    if (action !== undefined && method !== 'POST') throw new GatehouseError('method_not_allowed', `${method} is not allowed on ${path}; use POST`);
    const { principal, key } = deps.keys.authenticate(req.headers);
    if (!key.roles.includes('agents:admin')) throw new GatehouseError('forbidden', 'this key does not have the agents:admin role');
    const registry = deps.agents;
    const state = deps.agentState;
    if (registry === undefined || state === undefined) throw new GatehouseError('not_found', 'no agent registry is configured (agents.dir)');
    const agent = registry.current.get(id);
    if (agent === undefined || agent.tenant !== principal.tenant) throw new GatehouseError('agent_not_registered', `agent '${id}' is not in the agent registry for this tenant`);
    const stateKey = `${agent.tenant}/${agent.id}`;
    if (action === undefined) return send(res, 200, view(agent, await shared(() => state.status(stateKey))));
    const body = await readJsonBody(req, 64 * 1024, deps.config.server.bodyTimeoutMs) as { reason?: unknown } | null;
    const reason = body !== null && typeof body === 'object' ? body.reason : undefined;
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_REASON) {
      throw new GatehouseError('invalid_request', `reason: expected 1 to ${MAX_REASON} characters saying why`, { param: 'reason' });
    }
    if (agent.status !== 'active') {
      throw new GatehouseError('invalid_request', `agent '${id}' is ${agent.status} in the registry file; change the file to change its status`);
    }
    if ((await shared(() => state.status(stateKey)))?.status === 'decommissioned') {
      throw new GatehouseError('invalid_request', `agent '${id}' is decommissioned; its status cannot change (register a new agent id)`);
    }
    if (deps.audit && !deps.audit.accepting()) {
      throw new GatehouseError('audit_unavailable', 'the audit spool cannot take records, and a status change must be recorded; edit the registry file instead');
    }
    const by = principal.user === undefined ? `key ${principal.keyId}` : `${principal.user} (key ${principal.keyId})`;
    const at = new Date().toISOString();
    const next: StatusOverride | undefined = action === 'resume' ? undefined : { status: action === 'suspend' ? 'suspended' : 'decommissioned', reason, by, at };
    // Recorded, and durable, before it takes effect: no change without its audit record.
    record(deps, agent, action as Action, reason, principal, by);
    await deps.audit?.durable();
    const outcome = await shared(() => state.changeStatus(stateKey, next)).catch((error: unknown) => {
      record(deps, agent, action as Action, reason, principal, by, 'limits_unavailable');
      throw error;
    });
    if (outcome === 'decommissioned') {
      record(deps, agent, action as Action, reason, principal, by, 'invalid_request');
      throw new GatehouseError('invalid_request', `agent '${id}' was decommissioned meanwhile; its status cannot change`);
    }
    send(res, 200, { ...view(agent, next), by, at, reason });
  } catch (error) {
    const failure = error instanceof GatehouseError ? error : new GatehouseError('internal_error', 'internal error', { cause: error });
    if (!res.headersSent) {
      const rendered = openaiWire.renderError(failure);
      send(res, rendered.status, rendered.body);
    }
  }
}

/** A call to the shared agent state; an unreachable store is 503 `limits_unavailable`, never a 500. */
async function shared<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new GatehouseError('limits_unavailable', 'the agent status store cannot be reached', { cause: error, retryAfterSeconds: 1 });
  }
}

function view(agent: Agent, override: StatusOverride | undefined): Record<string, unknown> {
  const status = agent.status !== 'active' ? agent.status : override?.status ?? 'active';
  return {
    agent: agent.id, tenant: agent.tenant, status, registry_status: agent.status,
    ...(override ? { override } : {}),
  };
}

/** The status change as an audit record. */
function record(deps: PipelineDeps, agent: Agent, action: Action, reason: string, principal: { tenant: string; keyId: string; user?: string }, by: string, failed?: 'limits_unavailable' | 'invalid_request'): void {
  const status = action === 'resume' ? 'active' : action === 'suspend' ? 'suspended' : 'decommissioned';
  const span = deps.emit.tracer.startSpan(`agent ${action}`, { kind: SpanKind.SERVER });
  span.setAttributes({
    [A.auditRecord]: true,
    [A.recordType]: 'agent_status',
    [A.requestId]: randomUUID(),
    [A.operation]: `agent.${action}`,
    [A.tenant]: principal.tenant,
    [A.keyId]: principal.keyId,
    ...(principal.user !== undefined ? { [A.user]: principal.user } : {}),
    [A.agent]: agent.id,
    [A.agentName]: agent.name,
    [A.agentStatus]: status,
    [A.agentStatusReason]: `${reason} (by ${by})`,
    [A.outcome]: failed === undefined ? 'ok' : 'error',
    [A.httpStatus]: failed === undefined ? 200 : failed === 'limits_unavailable' ? 503 : 400,
    ...(failed !== undefined ? { [A.errorCode]: failed } : {}),
  });
  span.end();
}
