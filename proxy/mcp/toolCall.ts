/**
 * `tools/call`, in the design's order: identify the caller and its agent ▸ find
 * the tool (hidden and unknown tools alike are `tool_not_found`) ▸ the tool
 * policy on the caller, the tool and its arguments (`gatehouse/tools/decision`,
 * fail closed) ▸ the run budget ▸ the upstream call, with the trace context and
 * the extended delegation chain in `_meta` ▸ the result's size limit and the
 * response policy (block or redact, as for a model's answer) ▸ the audit record.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { asGatehouseError, GatehouseError, type ErrorCode } from '../errors.js';
import { chainValue, CHAIN_BAGGAGE } from '../agents/delegation.js';
import type { RequestContext } from '../pipeline/context.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { admitRun, toPolicyPrincipal } from '../pipeline/enforce.js';
import { finishRequest, outcomeOf } from '../pipeline/finish.js';
import { redact } from '../pii/index.js';
import { normalizeText } from '../policy/normalize.js';
import { A } from '../telemetry/attributes.js';
import type { ToolCatalog } from './catalog.js';
import { callerOf } from './caller.js';
import { policyToolOf } from './policyTool.js';
import { delegationContext } from './toolList.js';
import { UpstreamBadAnswer, UpstreamUnavailable } from './upstreams.js';
import { holdForApproval } from './approvalHold.js';
import { mcpErrorOf } from './wire.js';

export interface ToolCallLimits {
  callTimeoutMs: number;
  maxResultBytes: number;
}

/** Policy codes that are Gatehouse error codes of their own; every other tool denial is `policy_denied`. */
const OWN_CODES: ReadonlySet<string> = new Set<ErrorCode>(['tool_not_found', 'approval_required', 'delegation_depth_exceeded', 'delegation_loop']);

export async function callTool(
  ctx: RequestContext, deps: PipelineDeps, catalog: ToolCatalog, limits: ToolCallLimits,
  name: string, args: Record<string, unknown>, meta?: Record<string, unknown>,
): Promise<CallToolResult> {
  let reasons: string[] | undefined;
  try {
    const key = await callerOf(ctx, deps);
    ctx.annotations[A.toolName] = name;
    ctx.annotations[A.toolCallId] = String(ctx.annotations[A.jsonrpcRequestId]);
    ctx.annotations[A.toolArgumentsSha256] = createHash('sha256').update(canonicalize(args) ?? '{}').digest('hex');
    if (deps.emit.captureContent) ctx.annotations[A.toolCallArguments] = JSON.stringify(args);
    const engine = deps.policies?.current;
    // A tool of a server that is down now is judged as usual; allowed, its call answers upstream_unavailable.
    const tool = catalog.get(name) ?? catalog.unavailable(name);
    if (engine === undefined) throw new GatehouseError('tool_not_found', `Unknown tool: ${name}`);
    const principal = toPolicyPrincipal(ctx.principal!);
    // A tool not in the catalog is judged like any other, so a hidden tool and a missing one answer alike.
    const policyTool = tool ? policyToolOf(tool) : { name, server: '', tool: name, annotations: {} };
    let decision;
    try {
      decision = engine.evaluateToolCall({ principal, context: delegationContext(ctx), tool: policyTool, arguments: args });
    } catch (error) {
      ctx.annotations[A.policyDecision] = 'error';
      throw error;
    }
    ctx.annotations[A.policyDecision] = decision.allow && tool ? 'allow' : 'deny';
    ctx.annotations[A.policyRevision] = engine.revision;
    if (decision.code !== undefined) ctx.annotations[A.policyCode] = decision.code;
    if (tool === undefined || decision.code === 'tool_not_found') throw new GatehouseError('tool_not_found', `Unknown tool: ${name}`);
    ctx.annotations[A.mcpServer] = tool.server;
    if (!decision.allow) {
      reasons = decision.reasons;
      ctx.annotations[A.policyReasons] = decision.reasons;
      if (decision.approval === undefined || deps.approvals === undefined) {
        const code = decision.code !== undefined && OWN_CODES.has(decision.code) ? (decision.code as ErrorCode) : 'policy_denied';
        throw new GatehouseError(code, decision.reasons.join(' '));
      }
      // The run budget first: a call it would refuse never uses up a human approval.
      await admitRunBudget(ctx, deps, engine, principal);
      // Held for human sign-off: returns once this exact call is approved (and marks the approval used).
      await holdForApproval(ctx, deps, deps.approvals, decision.approval, { server: tool.server, name, args, meta, revision: engine.revision, keyUser: key.user });
      ctx.annotations[A.policyDecision] = 'allow';
    } else {
      await admitRunBudget(ctx, deps, engine, principal);
    }
    ctx.enforcement = { engine, decision: undefined, pseudonymizer: undefined, policyPrincipal: principal };

    const result = await callUpstream(ctx, tool, args, limits);
    const guarded = guardResult(ctx, name, result);
    if (deps.emit.captureContent) ctx.annotations[A.toolCallResult] = JSON.stringify(guarded.content);
    if (guarded.isError === true) ctx.annotations[A.errorType] = 'tool_error';
    ctx.status = 200;
    ctx.outcome = ctx.outcome === 'blocked' ? 'blocked' : guarded.isError === true ? 'error' : 'ok';
    await finishRequest(ctx, deps);
    return guarded;
  } catch (thrown) {
    if (thrown instanceof McpError) {
      // The upstream's own JSON-RPC error: passed on as it is (without the prefix the SDK client adds), and recorded.
      thrown.message = thrown.message.replace(/^MCP error -?\d+: /, '');
      ctx.annotations[A.errorType] = String(thrown.code);
      ctx.error = new GatehouseError('upstream_error', thrown.message);
      ctx.status = 502;
      await finishRequest(ctx, deps).catch(() => undefined);
      throw thrown;
    }
    const error = asGatehouseError(thrown);
    const rpc = mcpErrorOf(error, reasons);
    ctx.error = error;
    ctx.status = error.status;
    ctx.outcome = outcomeOf(error);
    ctx.annotations[A.errorType] = String(rpc.code);
    await finishRequest(ctx, deps).catch(() => undefined);
    throw rpc;
  }
}

async function admitRunBudget(ctx: RequestContext, deps: PipelineDeps, engine: NonNullable<PipelineDeps['policies']>['current'], principal: ReturnType<typeof toPolicyPrincipal>): Promise<void> {
  const caller = engine!.callerOf(principal);
  if (caller.runBudget !== undefined) await admitRun(ctx, deps, caller.runBudget);
}

/** The upstream call with `_meta`: this span as the parent, and the chain extended by the calling agent. */
async function callUpstream(ctx: RequestContext, tool: NonNullable<ReturnType<ToolCatalog['get']>>, args: Record<string, unknown>, limits: ToolCallLimits): Promise<CallToolResult> {
  const span = ctx.span.spanContext();
  const meta: Record<string, unknown> = { traceparent: `00-${span.traceId}-${span.spanId}-0${(span.traceFlags & 1).toString(16)}` };
  const chain = chainValue(ctx.delegation?.chain ?? [], ctx.principal?.agent);
  if (chain !== '') meta.baggage = `${CHAIN_BAGGAGE}=${encodeURIComponent(chain)}`;
  const started = Date.now();
  let result: CallToolResult;
  try {
    result = await tool.upstream.call(tool.tool, args, meta, { timeoutMs: limits.callTimeoutMs, signal: ctx.signal });
  } catch (error) {
    if (error instanceof UpstreamUnavailable) throw new GatehouseError('upstream_unavailable', error.message, { cause: error });
    if (error instanceof UpstreamBadAnswer) throw new GatehouseError('upstream_error', error.message, { cause: error });
    throw error;
  } finally {
    ctx.annotations['gatehouse.mcp.upstream_ms'] = Date.now() - started;
  }
  const bytes = Buffer.byteLength(JSON.stringify(result));
  ctx.annotations[A.toolResultBytes] = bytes;
  if (bytes > limits.maxResultBytes) {
    throw new GatehouseError('tool_result_too_large', `the result of ${tool.name} is ${bytes} bytes; the limit is ${limits.maxResultBytes} (mcp.maxResultBytes)`);
  }
  return result;
}

/**
 * The response policy on everything in the result a caller can read: text
 * blocks, the text of embedded resources, the names and descriptions of resource
 * links, structured content and `_meta`, judged together, exactly as a model's
 * answer. Blocked, the result becomes an error result with the policy's
 * replacement; redacted, every text is redacted, and structured content and
 * `_meta`, which could carry the same values, are dropped. Images and audio are
 * passed as they are. Fails closed: a policy error is the call's error.
 */
function guardResult(ctx: RequestContext, name: string, result: CallToolResult): CallToolResult {
  const engine = ctx.enforcement?.engine;
  if (engine === undefined) return result;
  const texts: string[] = [];
  for (const block of result.content) {
    texts.push(...readableTexts(block));
    if (block._meta !== undefined) texts.push(JSON.stringify(block._meta));
  }
  if (result.structuredContent !== undefined) texts.push(JSON.stringify(result.structuredContent));
  if (result._meta !== undefined) texts.push(JSON.stringify(result._meta));
  const whole = texts.join('\n');
  const decision = engine.evaluateResponse({
    principal: ctx.enforcement!.policyPrincipal, request: { model: name },
    response: { text: whole, normalized: normalizeText(whole), tool_calls: [] }, final: true,
  });
  ctx.annotations[A.responsePolicyDecision] = decision.action;
  if (decision.action !== 'allow' && decision.code !== undefined) ctx.annotations['gatehouse.policy.response_code'] = decision.code;
  if (decision.action === 'block') {
    ctx.outcome = 'blocked';
    return { content: [{ type: 'text', text: decision.replacement ?? 'This tool result was withheld by policy.' }], isError: true };
  }
  if (decision.action === 'redact' && decision.redact !== undefined && decision.redact.length > 0) {
    const classes = decision.redact;
    const clean = (text: string) => redact(text, classes).text;
    const { structuredContent: _structured, _meta: _dropped, ...rest } = result;
    return { ...rest, content: result.content.map((block) => redactBlock(withoutMeta(block), clean)) };
  }
  return result;
}

type Block = CallToolResult['content'][number];

/** The texts of one content block that a reader sees. */
function readableTexts(block: Block): string[] {
  switch (block.type) {
    case 'text':
      return [block.text];
    case 'resource':
      return 'text' in block.resource && typeof block.resource.text === 'string' ? [block.resource.uri, block.resource.text] : [block.resource.uri];
    case 'resource_link':
      return [block.uri, block.name, block.title ?? '', block.description ?? ''];
    default:
      return [];
  }
}

function withoutMeta(block: Block): Block {
  if (block._meta === undefined) return block;
  const { _meta: _dropped, ...rest } = block;
  return rest as Block;
}

function redactBlock(block: Block, clean: (text: string) => string): Block {
  switch (block.type) {
    case 'text':
      return { ...block, text: clean(block.text) };
    case 'resource':
      return 'text' in block.resource && typeof block.resource.text === 'string'
        ? { ...block, resource: { ...block.resource, uri: clean(block.resource.uri), text: clean(block.resource.text) } }
        : { ...block, resource: { ...block.resource, uri: clean(block.resource.uri) } };
    case 'resource_link': {
      const link = { ...block, uri: clean(block.uri), name: clean(block.name) };
      if (block.title !== undefined) link.title = clean(block.title);
      if (block.description !== undefined) link.description = clean(block.description);
      return link;
    }
    default:
      return block;
  }
}
