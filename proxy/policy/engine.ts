/**
 * A loaded policy: the compiled Rego (policy.wasm) plus its data, evaluated
 * in-process. Immutable once loaded; a reload builds a new engine and swaps it in
 * (see store.ts), so an evaluation never sees half of a change.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { GatehouseError } from '../errors.js';
import { GATEHOUSE_BUILTINS, missingBuiltins, type HostBuiltin } from './builtins.js';
import { callerInput, CallerMemo, principalKey } from './callerMemo.js';
import type { RequestDecision, ResponseDecision, ToolDecision } from './decision.js';
import { callerDecisionOf, requestVerdictOf, responseDecisionOf, toolDecisionOf, type CallerDecision, type RequestVerdict } from './decisionShape.js';
import type { PolicyPrincipal, RequestPolicyInput, ResponsePolicyInput, ToolCallInput, ToolsListInput } from './input.js';
import type { PolicyDocument } from './policyData.js';
import { WasmInstance } from './wasmInstance.js';

/**
 * The request decision (`gatehouse/request/decision` in Rego) is compiled as its two
 * parts: what applies to the caller (memoized per principal, see callerMemo.ts) and
 * what this request gets.
 */
export const CALLER_ENTRYPOINT = 'gatehouse/request/caller';
export const VERDICT_ENTRYPOINT = 'gatehouse/request/verdict';
export const RESPONSE_ENTRYPOINT = 'gatehouse/response/decision';
/** The MCP endpoint's tool policy (docs/policies.md, "Tool policy"): list time and call time. */
export const TOOLS_VISIBLE_ENTRYPOINT = 'gatehouse/tools/visible';
export const TOOLS_DECISION_ENTRYPOINT = 'gatehouse/tools/decision';
/** Every entrypoint policy.wasm must be built with (`opa build -e`). */
export const ENTRYPOINTS = [CALLER_ENTRYPOINT, VERDICT_ENTRYPOINT, RESPONSE_ENTRYPOINT, TOOLS_VISIBLE_ENTRYPOINT, TOOLS_DECISION_ENTRYPOINT] as const;

export interface EngineOptions {
  /** Host builtins; defaults to GATEHOUSE_BUILTINS. Tests replace them to provoke errors. */
  builtins?: Readonly<Record<string, HostBuiltin>>;
}

/** sha256 over the wasm bytes and the canonical JSON (RFC 8785) of the data. */
export function policyRevision(wasm: Uint8Array, data: PolicyDocument): string {
  return createHash('sha256')
    .update(wasm)
    .update('\0')
    .update(canonicalize(data) ?? 'null')
    .digest('hex');
}

const PROBE_INPUT: RequestPolicyInput = {
  principal: { tenant: '' },
  request: { model: '', messages: [], tools: [], stream: false, prompt: null },
  usage: {},
  time: { now_ns: 0 },
  context: { agent_chain: [], agent_depth: 0 },
  signals: {},
};

export class PolicyEngine {
  /** Caller decisions of this revision, per principal. */
  private readonly callers = new CallerMemo<CallerDecision>();

  private constructor(
    private readonly instance: WasmInstance,
    private readonly callerId: number,
    private readonly verdictId: number,
    private readonly responseId: number,
    private readonly toolsVisibleId: number,
    private readonly toolsDecisionId: number,
    /** sha256 of the wasm and the data: recorded as `gatehouse.policy.revision`. */
    readonly revision: string,
  ) {}

  /**
   * Instantiates the module, checks that it has both entrypoints and that every
   * host builtin it needs is provided, sets the data and runs one probe
   * evaluation. Throws a plain Error naming what is wrong; never returns a
   * half-working engine.
   */
  static async load(wasm: Uint8Array, data: PolicyDocument, options: EngineOptions = {}): Promise<PolicyEngine> {
    const builtins = options.builtins ?? GATEHOUSE_BUILTINS;
    const instance = await WasmInstance.instantiate(wasm, builtins);
    const missing = missingBuiltins(instance.requiredBuiltins(), builtins);
    if (missing.length > 0) {
      throw new Error(`policy.wasm needs builtins neither the WASM target nor the proxy provides: ${missing.join(', ')}`);
    }
    const [callerId, verdictId, responseId, toolsVisibleId, toolsDecisionId] = ENTRYPOINTS.map((name) => instance.entrypoints[name]);
    if (callerId === undefined || verdictId === undefined || responseId === undefined || toolsVisibleId === undefined || toolsDecisionId === undefined) {
      throw new Error(`policy.wasm must be built with ${ENTRYPOINTS.map((name) => `-e ${name}`).join(' ')}`);
    }
    instance.setData(data);
    const engine = new PolicyEngine(instance, callerId, verdictId, responseId, toolsVisibleId, toolsDecisionId, policyRevision(wasm, data));
    try {
      engine.evaluateRequest(PROBE_INPUT);
    } catch (error) {
      throw new Error(`the policy fails on a probe request: ${(error as Error).message}`, { cause: error });
    }
    return engine;
  }

  /**
   * The request decision: the caller's part (memoized per principal for this
   * revision; its limits, budgets, redact and allowedModels arrays are frozen and
   * shared between requests) and this request's verdict. Throws
   * GatehouseError('policy_error') on any evaluation failure (fail closed).
   */
  evaluateRequest(input: RequestPolicyInput): RequestDecision {
    const caller = this.callerOf(input.principal);
    const raw = this.evaluate(this.verdictId, VERDICT_ENTRYPOINT, input);
    let verdict: RequestVerdict;
    try {
      verdict = requestVerdictOf(raw);
    } catch (error) {
      throw policyError(`${VERDICT_ENTRYPOINT}: malformed decision`, error);
    }
    // Built field by field: spreading the frozen caller is 100x slower in V8.
    const decision: RequestDecision = {
      allow: verdict.allow,
      reasons: verdict.reasons,
      annotations: verdict.annotations,
      limits: caller.limits,
      budgets: caller.budgets,
      redact: caller.redact,
      pseudonymize: caller.pseudonymize,
      inspectResponses: caller.inspectResponses,
      responseHoldChars: caller.responseHoldChars,
      detectors: caller.detectors,
    };
    if (verdict.code !== undefined) decision.code = verdict.code;
    if (caller.allowedModels !== undefined) decision.allowedModels = caller.allowedModels;
    if (caller.maxTokens !== undefined) decision.maxTokens = caller.maxTokens;
    if (caller.runBudget !== undefined) decision.runBudget = caller.runBudget;
    return decision;
  }

  /** The caller's part of the decision (memoized), e.g. to know which detectors to ask before the verdict. */
  callerOf(principal: PolicyPrincipal): CallerDecision {
    const key = principalKey(principal);
    const memoized = this.callers.get(key);
    if (memoized !== undefined) return memoized;
    const raw = this.evaluate(this.callerId, CALLER_ENTRYPOINT, callerInput(principal));
    let caller: CallerDecision;
    try {
      caller = callerDecisionOf(raw);
    } catch (error) {
      throw policyError(`${CALLER_ENTRYPOINT}: malformed decision`, error);
    }
    this.callers.set(key, caller);
    return caller;
  }

  /** The response decision. Throws GatehouseError('policy_error') on any evaluation failure (fail closed). */
  evaluateResponse(input: ResponsePolicyInput): ResponseDecision {
    const raw = this.evaluate(this.responseId, RESPONSE_ENTRYPOINT, input);
    try {
      return responseDecisionOf(raw);
    } catch (error) {
      throw policyError(`${RESPONSE_ENTRYPOINT}: malformed decision`, error);
    }
  }

  /** List time: the names of `input.tools` the caller may see. Throws policy_error on any failure (fail closed). */
  visibleTools(input: ToolsListInput): string[] {
    const raw = this.evaluate(this.toolsVisibleId, TOOLS_VISIBLE_ENTRYPOINT, input);
    if (!Array.isArray(raw) || raw.some((name) => typeof name !== 'string')) throw policyError(`${TOOLS_VISIBLE_ENTRYPOINT}: expected an array of tool names`);
    return raw as string[];
  }

  /** Call time: allow, or deny with a code and reasons. Throws policy_error on any failure (fail closed). */
  evaluateToolCall(input: ToolCallInput): ToolDecision {
    const raw = this.evaluate(this.toolsDecisionId, TOOLS_DECISION_ENTRYPOINT, input);
    try {
      return toolDecisionOf(raw);
    } catch (error) {
      throw policyError(`${TOOLS_DECISION_ENTRYPOINT}: malformed decision`, error);
    }
  }

  private evaluate(entrypoint: number, name: string, input: unknown): unknown {
    let resultSet: unknown;
    try {
      resultSet = this.instance.evaluate(entrypoint, input);
    } catch (error) {
      throw policyError(`${name}: evaluation failed`, error);
    }
    const first = Array.isArray(resultSet) ? (resultSet[0] as { result?: unknown } | undefined) : undefined;
    if (first === undefined || first.result === undefined) throw policyError(`${name} is undefined for this input`);
    return first.result;
  }
}

/** The client sees only `policy_error`; the detail (never input content) is in `cause` for the logs. */
function policyError(message: string, cause?: unknown): GatehouseError {
  return new GatehouseError('policy_error', 'policy evaluation failed', { cause: new Error(message, { cause }) });
}
