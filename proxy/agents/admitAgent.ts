/**
 * The agent stage of admission: which agent a request acts as, whether the
 * registry lets it act at all, and the delegation chain that led to it.
 *
 * The agent comes from the key's binding, or, for a key that allows it
 * (`allowHeaders: [agent]`), from `x-gatehouse-agent` or the baggage member
 * `gatehouse.agent.id`. With a registry configured, the agent must be registered
 * for the key's tenant (`agent_not_registered`) and active in the registry and
 * in the shared status overrides (`agent_suspended`).
 */
import type { KeyConfig } from '../config/schema.js';
import { GatehouseError } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { A } from '../telemetry/attributes.js';
import { AGENT_ID } from './agentSchema.js';
import { AGENT_BAGGAGE, delegationOf } from './delegation.js';

const AGENT_HEADER = 'x-gatehouse-agent';

/** The agent the request claims beyond the key's binding, and where the claim came from. */
function claimedAgent(ctx: RequestContext, key: KeyConfig): string | undefined {
  const header = ctx.headers[AGENT_HEADER];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const claim = fromHeader ?? (key.allowHeaders.includes('agent') ? ctx.baggage?.[AGENT_BAGGAGE] : undefined);
  if (claim === undefined) return undefined;
  const source = fromHeader !== undefined ? AGENT_HEADER : 'baggage';
  if (fromHeader !== undefined && !key.allowHeaders.includes('agent') && claim !== key.agent) {
    throw new GatehouseError('header_not_allowed', `this key may not set ${AGENT_HEADER}`, { param: AGENT_HEADER });
  }
  if (!AGENT_ID.test(claim)) throw new GatehouseError('invalid_request', `${source}: expected an agent id (1 to 64 of a-z 0-9 . _ -)`, { param: source });
  if (key.agent !== undefined && claim !== key.agent) {
    throw new GatehouseError('header_not_allowed', `this key acts as agent '${key.agent}' and may not claim another`, { param: source });
  }
  return claim;
}

/**
 * Resolves the agent and the delegation chain onto the context, and refuses an
 * unregistered or inactive agent. Runs after the key is identified.
 */
export async function admitAgent(ctx: RequestContext, deps: PipelineDeps, key: KeyConfig): Promise<void> {
  const principal = ctx.principal!;
  const claim = claimedAgent(ctx, key);
  if (claim !== undefined) principal.agent = claim;
  const delegation = delegationOf(ctx.baggage, ctx.headers.baggage);
  ctx.delegation = delegation;
  const agentId = principal.agent;
  if (agentId !== undefined || delegation.chain.length > 0) {
    ctx.annotations[A.agentChain] = agentId === undefined ? delegation.chain : [...delegation.chain, agentId];
    ctx.annotations[A.agentDepth] = delegation.depth;
  }
  const registry = deps.agents;
  if (registry === undefined || agentId === undefined) return;
  const agent = registry.current.get(agentId);
  if (agent === undefined || agent.tenant !== principal.tenant) {
    throw new GatehouseError('agent_not_registered', `agent '${agentId}' is not in the agent registry for this tenant`);
  }
  ctx.annotations[A.agentName] = agent.name;
  ctx.annotations[A.genAiAgentId] = agent.id;
  if (agent.status !== 'active') {
    throw new GatehouseError('agent_suspended', `agent '${agentId}' is ${agent.status} in the registry: ${agent.statusReason ?? ''}`.trimEnd());
  }
  let override;
  try {
    override = await deps.agentState?.status(`${principal.tenant}/${agentId}`);
  } catch (error) {
    // The kill switch fails closed whatever limits.failMode says: a suspended agent is never served because Redis is down.
    throw new GatehouseError('limits_unavailable', 'the agent status store cannot be reached', { cause: error, retryAfterSeconds: 1 });
  }
  if (override !== undefined) {
    throw new GatehouseError('agent_suspended', `agent '${agentId}' was ${override.status} at ${override.at}: ${override.reason}`);
  }
}
