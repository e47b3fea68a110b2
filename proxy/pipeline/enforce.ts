/**
 * The request side of policy enforcement, in the design's order:
 * policy(request) → caps and model allow-list → PII redaction → limits. The
 * policy decides; this stage only applies the decision, and records it.
 */
import { textOf, type ChatRequest, type EmbeddingRequest } from '../canonical.js';
import { GatehouseError } from '../errors.js';
import type { LimitStore, ScopeRef, ScopeUsage } from '../limits/types.js';
import { estimateRequestTokens } from '../limits/tokenEstimate.js';
import { limitError } from '../limits/denial.js';
import { rateLimitHeaders } from '../limits/headers.js';
import { log } from '../log.js';
import { classesFound, Pseudonymizer, pseudonymizeChatRequest, redactChatRequest } from '../pii/index.js';
import type { RequestDecision, ScopeKind } from '../policy/decision.js';
import { requestDenial } from '../policy/denial.js';
import type { PolicyEngine } from '../policy/engine.js';
import { requestPolicyInput, type DetectorSignal, type PolicyContext, type PolicyPrincipal, type RequestPolicyInput, type ScopeUsage as PolicyScopeUsage } from '../policy/input.js';
import type { RunBudget } from '../agents/agentSchema.js';
import type { Route } from '../routing/routes.js';
import { A } from '../telemetry/attributes.js';
import { tokenCounter } from '../tokenCount.js';
import type { Principal, RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

/** What enforcement decided for one request, kept on the context for the response side and for settling. */
export interface Enforcement {
  engine: PolicyEngine | undefined;
  decision: RequestDecision | undefined;
  pseudonymizer: Pseudonymizer | undefined;
  policyPrincipal: PolicyPrincipal;
}

/**
 * Applies the request policy and the limits. Returns the request to send upstream
 * (redacted, capped) and the route narrowed to the models policy allows.
 */
export async function enforceRequest(ctx: RequestContext, deps: PipelineDeps, request: ChatRequest, route: Route): Promise<{ request: ChatRequest; route: Route }> {
  const principal = ctx.principal!;
  const policyPrincipal = toPolicyPrincipal(principal);
  const engine = deps.policies?.current;
  const enforcement: Enforcement = { engine, decision: undefined, pseudonymizer: undefined, policyPrincipal };
  ctx.enforcement = enforcement;
  let upstream = request;
  let allowedRoute = route;
  if (engine) {
    const usage = deps.limits ? await snapshot(deps.limits, principal) : {};
    const signals = await detectorSignals(ctx, deps, engine, policyPrincipal, request);
    const decision = evaluateRequestPolicy(ctx, engine, requestPolicyInput({ principal: policyPrincipal, request, usage, context: agentContext(ctx), signals, ...(ctx.prompt?.registry ? { prompt: ctx.prompt.registry } : {}) }));
    enforcement.decision = decision;
    recordDecision(ctx, engine, decision);
    if (!decision.allow) throw requestDenial(decision);
    if (decision.runBudget !== undefined) await admitRun(ctx, deps, decision.runBudget);
    upstream = capMaxTokens(ctx, upstream, decision);
    allowedRoute = narrowRoute(route, decision);
    if (decision.redact.length > 0) {
      if (decision.pseudonymize) {
        const pseudonymizer = new Pseudonymizer();
        enforcement.pseudonymizer = pseudonymizer;
        const masked = pseudonymizeChatRequest(upstream, decision.redact, pseudonymizer);
        upstream = masked.request;
        recordRedaction(ctx, classesFound(masked.counts));
      } else {
        const redacted = redactChatRequest(upstream, decision.redact);
        upstream = redacted.request;
        recordRedaction(ctx, classesFound(redacted.counts));
      }
    }
  }
  if (deps.limits && enforcement.decision) {
    let estimatedTokens = estimateRequestTokens(upstream);
    // The estimate can run ~1.25x high (CJK): a request it puts past a tokens/min limit,
    // which would be refused as never fitting, is counted exactly first (a rare path).
    if (estimatedTokens > smallestTokenLimit(enforcement.decision)) {
      estimatedTokens = estimateRequestTokens(upstream, { countText: await tokenCounter() });
    }
    // Held against USD budgets until settled, so a burst cannot slip past a nearly spent budget.
    // Priced as output (the dearer side): a conservative hold, corrected by settle.
    const held = deps.prices.costOf([allowedRoute.targets[0]?.model], { inputTokens: 0, outputTokens: estimatedTokens, cachedInputTokens: 0, cacheWriteTokens: 0 });
    await reserve(ctx, deps.limits, enforcement.decision, estimatedTokens, held.usd);
  }
  return { request: upstream, route: allowedRoute };
}

/**
 * The scores of the detectors the caller's policy asks for, on the text of the
 * turns the caller controls; recorded on the span (`gatehouse.detectors`: name,
 * ok, score, latency). No detectors asked: nothing is called and nothing waits.
 */
async function detectorSignals(ctx: RequestContext, deps: PipelineDeps, engine: PolicyEngine, principal: PolicyPrincipal, request: ChatRequest): Promise<Record<string, DetectorSignal>> {
  let names: readonly string[];
  try {
    names = engine.callerOf(principal).detectors;
  } catch (error) {
    ctx.annotations[A.policyDecision] = 'error';
    ctx.annotations[A.policyRevision] = engine.revision;
    logPolicyError(ctx, 'request', engine.revision, error);
    throw error;
  }
  if (names.length === 0) return {};
  const text = request.messages.filter((m) => !(m.role === 'system' && m.source === 'registry')).map((m) => textOf(m.content)).join('\n\n');
  const signals = await deps.detectors.score(names, text);
  ctx.annotations[A.detectors] = JSON.stringify(Object.entries(signals).map(([name, s]) => ({
    name, ok: s.ok, ...(s.score !== undefined ? { score: s.score } : {}), ...(s.error ? { error: s.error } : {}), ms: s.latency_ms,
  })));
  return signals;
}

/**
 * Embeddings pass the same policy and limits as chat: the inputs are judged as
 * user messages, and redaction applies to them before they leave.
 */
export async function enforceEmbeddings(ctx: RequestContext, deps: PipelineDeps, request: EmbeddingRequest, route: Route): Promise<{ request: EmbeddingRequest; route: Route }> {
  const asChat: ChatRequest = {
    model: request.model,
    messages: request.input.map((input) => ({ role: 'user', content: [{ type: 'text', text: input }] })),
    stream: false,
    streamUsage: false,
    maxTokens: 0,
  };
  const enforced = await enforceRequest(ctx, deps, asChat, route);
  if (enforced.request === asChat) return { request, route: enforced.route };
  return { request: { ...request, input: enforced.request.messages.map((m) => textOf(m.content)) }, route: enforced.route };
}

/**
 * Counts this call against its run (the trace id, per tenant) and refuses it with
 * 429 `run_budget_exceeded` once the run's calls, tokens or USD are spent. A loop
 * of agents that share a trace stops here even when they pass no baggage.
 */
export async function admitRun(ctx: RequestContext, deps: PipelineDeps, budget: RunBudget): Promise<void> {
  const state = deps.agentState;
  if (state === undefined) return;
  const key = `${ctx.principal!.tenant}/${ctx.span.spanContext().traceId}`;
  let verdict;
  try {
    verdict = await state.admitRun(key, budget);
  } catch (error) {
    if (deps.config.limits.failMode === 'open') return;
    throw new GatehouseError('limits_unavailable', 'the run budget store cannot be reached', { cause: error, retryAfterSeconds: 1 });
  }
  if (!verdict.ok) {
    ctx.annotations[A.limitScope] = 'run';
    throw new GatehouseError('run_budget_exceeded', `this run (trace ${key.slice(key.indexOf('/') + 1)}) has used its ${verdict.dimension} budget: ${verdict.used} of ${verdict.limit}`);
  }
  ctx.runKey = key;
  ctx.annotations[A.runCalls] = verdict.calls;
}

/** The lowest tokens/min any of the decision's limits allows, or Infinity. */
function smallestTokenLimit(decision: RequestDecision): number {
  let smallest = Infinity;
  for (const limit of decision.limits) if (limit.tokensPerMinute !== undefined && limit.tokensPerMinute < smallest) smallest = limit.tokensPerMinute;
  return smallest;
}

/** Reserves the decision's limits and budgets, or throws 429 / 503 with the headers the client needs. */
export async function reserve(ctx: RequestContext, limits: LimitStore, decision: RequestDecision, estimatedTokens: number, estimatedCostUsd = 0): Promise<void> {
  const result = await limits.reserve({ limits: decision.limits, budgets: decision.budgets, estimatedTokens, estimatedCostUsd });
  if (!result.ok) {
    if (result.code !== 'limits_unavailable') ctx.annotations[A.limitScope] = result.scope.scope;
    throw limitError(result);
  }
  ctx.reservation = result.reservation;
  Object.assign(ctx.responseHeaders, rateLimitHeaders(result));
}

/**
 * Settles the reservation with what the request really used (its exact pico-USD
 * cost), or releases it when no provider was reached. The returned promise
 * resolves once the settled spend is durable (the memory store's journal; the
 * Redis store's reply, whose failures the store reports itself), and the
 * response's last bytes wait for it, as they wait for the audit record. A
 * journal that cannot be written rejects it with 503 `limits_unavailable`: the
 * response is not acknowledged as if its spend were counted.
 */
export function settleUsage(ctx: RequestContext, deps: PipelineDeps): Promise<void> | undefined {
  if (ctx.runKey !== undefined && ctx.usage !== undefined) {
    void deps.agentState?.settleRun(ctx.runKey, ctx.usage.inputTokens + ctx.usage.outputTokens, Math.ceil((ctx.cost?.usd ?? 0) * 1e6));
  }
  const reservation = ctx.reservation;
  if (!reservation || !deps.limits) return undefined;
  ctx.reservation = undefined;
  const reached = ctx.attempts.some((attempt) => attempt.outcome !== 'skipped');
  if (!reached) {
    void deps.limits.release(reservation);
    return undefined;
  }
  const usage = ctx.usage;
  return deps.limits.settle(reservation, {
    tokens: usage ? usage.inputTokens + usage.outputTokens : 0,
    costUsd: ctx.cost?.usd ?? 0,
    ...(ctx.cost ? { costPico: ctx.cost.pico } : {}),
  }).catch((error: unknown) => {
    throw new GatehouseError('limits_unavailable', 'the spend of this request could not be recorded durably', { cause: error, retryAfterSeconds: 1 });
  });
}

export function toPolicyPrincipal(principal: Principal): PolicyPrincipal {
  const out: PolicyPrincipal = { tenant: principal.tenant, key_id: principal.keyId };
  if (principal.team !== undefined) out.team = principal.team;
  if (principal.user !== undefined) out.user = principal.user;
  if (principal.agent !== undefined) out.agent = principal.agent;
  if (principal.feature !== undefined) out.feature = principal.feature;
  return out;
}

/**
 * The request decision, failing closed: an evaluation error reaches the client as
 * 503 `policy_error` (counted by the request metrics under that code), is logged
 * with its cause (never the input), and the span records which revision failed.
 */
function evaluateRequestPolicy(ctx: RequestContext, engine: PolicyEngine, input: RequestPolicyInput): RequestDecision {
  try {
    return engine.evaluateRequest(input);
  } catch (error) {
    ctx.annotations[A.policyDecision] = 'error';
    ctx.annotations[A.policyRevision] = engine.revision;
    logPolicyError(ctx, 'request', engine.revision, error);
    throw error;
  }
}

/** Logs a policy evaluation failure: which request, tenant, policy and revision, and why (never the input). */
export function logPolicyError(ctx: RequestContext, policy: 'request' | 'response', revision: string, error: unknown): void {
  log.error(`${policy} policy evaluation failed; the ${policy === 'request' ? 'request' : 'answer'} is refused (fail closed)`, {
    requestId: ctx.id,
    tenant: ctx.principal?.tenant,
    revision,
    cause: causeOf(error),
  });
}

/** The detail behind a policy_error (engine.ts puts it in `cause`), as text for the log. */
function causeOf(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) parts.push(current.message);
  return parts.join(': ');
}

function recordDecision(ctx: RequestContext, engine: PolicyEngine, decision: RequestDecision): void {
  const a = ctx.annotations;
  a[A.policyDecision] = decision.allow ? 'allow' : 'deny';
  a[A.policyRevision] = engine.revision;
  if (decision.code !== undefined) a[A.policyCode] = decision.code;
  if (decision.reasons.length > 0) a[A.policyReasons] = decision.reasons;
  for (const [key, value] of Object.entries(decision.annotations)) a[`gatehouse.policy.annotation.${key}`] = value;
}

function recordRedaction(ctx: RequestContext, classes: string[]): void {
  if (classes.length > 0) ctx.annotations[A.redactedClasses] = classes;
}

function capMaxTokens(ctx: RequestContext, request: ChatRequest, decision: RequestDecision): ChatRequest {
  const cap = decision.maxTokens;
  if (cap === undefined || (request.maxTokens !== undefined && request.maxTokens <= cap)) return request;
  ctx.annotations['gatehouse.policy.max_tokens_cap'] = cap;
  return { ...request, maxTokens: cap };
}

/** Keeps the targets whose alias or provider model policy allows; 403 when none is left. */
function narrowRoute(route: Route, decision: RequestDecision): Route {
  const allowed = decision.allowedModels;
  if (!allowed || allowed.includes('*') || allowed.includes(route.alias)) return route;
  const targets = route.targets.filter((target) => allowed.includes(target.model));
  if (targets.length === 0) {
    throw new GatehouseError('model_not_allowed', `policy does not allow model '${route.alias}' for this caller`, { param: 'model' });
  }
  return { ...route, targets };
}

const SCOPES: ReadonlyArray<[ScopeKind, keyof Principal]> = [
  ['tenant', 'tenant'],
  ['team', 'team'],
  ['user', 'user'],
  ['agent', 'agent'],
  ['key', 'keyId'],
  ['feature', 'feature'],
];

/** The caller's counters, under the same tenant-qualified keys the policies use (policies/gatehouse/tenant.rego). */
async function snapshot(limits: LimitStore, principal: Principal): Promise<Partial<Record<ScopeKind, PolicyScopeUsage>>> {
  const refs: ScopeRef[] = [];
  for (const [scope, field] of SCOPES) {
    const id = principal[field];
    if (id) refs.push({ scope, key: scope === 'tenant' ? id : `${principal.tenant}/${id}` });
  }
  const out: Partial<Record<ScopeKind, PolicyScopeUsage>> = {};
  for (const usage of await limits.usage(refs)) out[usage.scope] = toPolicyUsage(usage);
  return out;
}

function toPolicyUsage(usage: ScopeUsage): PolicyScopeUsage {
  return {
    key: usage.key,
    requestsThisMinute: usage.requestsLastMinute,
    tokensThisMinute: usage.tokensLastMinute,
    usdToday: usage.day.usd,
    usdThisMonth: usage.month.usd,
    tokensToday: usage.day.tokens,
    tokensThisMonth: usage.month.tokens,
  };
}

/** The delegation context (agents/delegation.ts) as the policy sees it. */
function agentContext(ctx: RequestContext): PolicyContext {
  const chain = ctx.delegation?.chain ?? [];
  const out: PolicyContext = { trace_id: ctx.span.spanContext().traceId, agent_chain: chain, agent_depth: ctx.delegation?.depth ?? 0 };
  const parent = chain[chain.length - 1];
  if (parent !== undefined) out.parent_agent = parent;
  return out;
}
