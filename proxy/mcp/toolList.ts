/**
 * `tools/list`: the catalog filtered by the tool policy (`gatehouse/tools/visible`)
 * for this caller. A tool the policy hides is not listed, and calling it is
 * answered exactly like a tool that does not exist. Fails closed: a policy error
 * is a JSON-RPC error, never the full list.
 */
import type { ListToolsResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { asGatehouseError } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { toPolicyPrincipal } from '../pipeline/enforce.js';
import { finishRequest, outcomeOf } from '../pipeline/finish.js';
import { A } from '../telemetry/attributes.js';
import type { ToolCatalog } from './catalog.js';
import { callerOf } from './caller.js';
import { policyToolOf } from './policyTool.js';
import { mcpErrorOf } from './wire.js';

export async function listTools(ctx: RequestContext, deps: PipelineDeps, catalog: ToolCatalog): Promise<ListToolsResult> {
  try {
    await callerOf(ctx, deps);
    const engine = deps.policies?.current;
    const tools = catalog.tools();
    const visible = new Set(engine
      ? engine.visibleTools({ principal: toPolicyPrincipal(ctx.principal!), context: delegationContext(ctx), tools: tools.map(policyToolOf) })
      : []);
    const listed: Tool[] = tools.filter((t) => visible.has(t.name)).map((t) => ({ ...t.definition, name: t.name }));
    ctx.annotations['gatehouse.mcp.tools_listed'] = listed.length;
    ctx.status = 200;
    ctx.outcome = 'ok';
    await finishRequest(ctx, deps);
    return { tools: listed };
  } catch (thrown) {
    const error = asGatehouseError(thrown);
    ctx.error = error;
    ctx.status = error.status;
    ctx.outcome = outcomeOf(error);
    await finishRequest(ctx, deps).catch(() => undefined);
    throw mcpErrorOf(error);
  }
}

export function delegationContext(ctx: RequestContext): { trace_id: string; agent_chain: string[]; agent_depth: number; parent_agent?: string } {
  const chain = ctx.delegation?.chain ?? [];
  const parent = chain[chain.length - 1];
  return { trace_id: ctx.span.spanContext().traceId, agent_chain: chain, agent_depth: ctx.delegation?.depth ?? 0, ...(parent !== undefined ? { parent_agent: parent } : {}) };
}

