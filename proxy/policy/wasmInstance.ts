/**
 * One instantiated policy module with its data, evaluated with as little per-call
 * work as the ABI allows.
 *
 * `LoadedPolicy.evaluate` from @open-policy-agent/opa-wasm allocates a TextEncoder
 * output buffer per call, scans the result byte by byte for its terminator and
 * creates a TextDecoder per call. For ABI ≥ 1.2 this class writes the input JSON
 * straight into WASM memory with `encodeInto`, finds the terminator with
 * `indexOf`, and reuses one encoder and decoder (bench/policy.ts measures both).
 * Not reentrant; JavaScript's single thread makes that a non-issue.
 */
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { HostBuiltin } from './builtins.js';

const PAGE = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface PolicyExports {
  opa_eval(reserved: number, entrypoint: number, data: number, input: number, inputLength: number, heap: number, format: number): number;
  opa_json_dump(address: number): number;
  builtins(): number;
}

export class WasmInstance {
  private constructor(
    private readonly policy: LoadedPolicy,
    private readonly exports: PolicyExports,
    private bytes: Uint8Array,
  ) {}

  static async instantiate(wasm: Uint8Array, builtins: Readonly<Record<string, HostBuiltin>>): Promise<WasmInstance> {
    const policy = await loadPolicy(wasm, undefined, { ...builtins });
    const exports = (policy.wasmInstance as unknown as { exports: PolicyExports }).exports;
    return new WasmInstance(policy, exports, new Uint8Array(policy.mem.buffer));
  }

  /** Entrypoint names to their ids, as compiled in (`opa build -e`). */
  get entrypoints(): Readonly<Record<string, number>> {
    return this.policy.entrypoints as Record<string, number>;
  }

  /** Names of the builtins the module expects the host to implement. */
  requiredBuiltins(): string[] {
    const names = this.readJson(this.exports.opa_json_dump(this.exports.builtins()));
    return Object.keys(names as Record<string, number>);
  }

  /** Replaces the module's data document. */
  setData(data: unknown): void {
    this.policy.setData(data as object);
    this.bytes = new Uint8Array(this.policy.mem.buffer);
  }

  /**
   * Evaluates one entrypoint and returns OPA's result set (`[{ result }]`, or `[]`
   * when the entrypoint is undefined for this input). Throws on serialisation or
   * evaluation errors (an abort inside the module, a failing host builtin).
   */
  evaluate(entrypoint: number, input: unknown): unknown {
    if ((this.policy.minorVersion as number) < 2) return this.policy.evaluate(input, entrypoint);
    const json = JSON.stringify(input);
    const address = this.policy.dataHeapPtr as number;
    const worstCase = address + json.length * 3;
    if (worstCase > this.policy.mem.buffer.byteLength) {
      this.policy.mem.grow(Math.ceil((worstCase - this.policy.mem.buffer.byteLength) / PAGE));
    }
    if (this.bytes.buffer !== this.policy.mem.buffer) this.bytes = new Uint8Array(this.policy.mem.buffer);
    const { written } = encoder.encodeInto(json, this.bytes.subarray(address));
    const result = this.exports.opa_eval(0, entrypoint, this.policy.dataAddr as number, address, written, address + written, 0);
    return this.readJson(result);
  }

  private readJson(address: number): unknown {
    if (this.bytes.buffer !== this.policy.mem.buffer) this.bytes = new Uint8Array(this.policy.mem.buffer);
    const end = this.bytes.indexOf(0, address);
    return JSON.parse(decoder.decode(this.bytes.subarray(address, end)));
  }
}
