/**
 * A loaded policy: the compiled Rego (policy.wasm) plus its data, evaluated
 * in-process. Immutable once loaded; a reload builds a new engine and swaps it in
 * (see store.ts), so an evaluation never sees half of a change.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { GatehouseError } from '../errors.js';
import { GATEHOUSE_BUILTINS, missingBuiltins, type HostBuiltin } from './builtins.js';
import type { RequestDecision, ResponseDecision } from './decision.js';
import { requestDecisionOf, responseDecisionOf } from './decisionShape.js';
import type { RequestPolicyInput, ResponsePolicyInput } from './input.js';
import type { PolicyDocument } from './policyData.js';
import { WasmInstance } from './wasmInstance.js';

export const REQUEST_ENTRYPOINT = 'gatehouse/request/decision';
export const RESPONSE_ENTRYPOINT = 'gatehouse/response/decision';

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
  request: { model: '', messages: [], tools: [], stream: false },
  usage: {},
  time: { now_ns: 0 },
  context: { agent_depth: 0 },
};

export class PolicyEngine {
  private constructor(
    private readonly instance: WasmInstance,
    private readonly requestId: number,
    private readonly responseId: number,
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
      throw new Error(`policy.wasm needs builtins the WASM target and the proxy do not provide: ${missing.join(', ')}`);
    }
    const requestId = instance.entrypoints[REQUEST_ENTRYPOINT];
    const responseId = instance.entrypoints[RESPONSE_ENTRYPOINT];
    if (requestId === undefined || responseId === undefined) {
      throw new Error(`policy.wasm must be built with -e ${REQUEST_ENTRYPOINT} -e ${RESPONSE_ENTRYPOINT}`);
    }
    instance.setData(data);
    const engine = new PolicyEngine(instance, requestId, responseId, policyRevision(wasm, data));
    try {
      engine.evaluateRequest(PROBE_INPUT);
    } catch (error) {
      throw new Error(`the policy fails on a probe request: ${(error as Error).message}`, { cause: error });
    }
    return engine;
  }

  /** The request decision. Throws GatehouseError('policy_error') on any evaluation failure (fail closed). */
  evaluateRequest(input: RequestPolicyInput): RequestDecision {
    const raw = this.evaluate(this.requestId, REQUEST_ENTRYPOINT, input);
    try {
      return requestDecisionOf(raw);
    } catch (error) {
      throw policyError(`${REQUEST_ENTRYPOINT}: malformed decision`, error);
    }
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
