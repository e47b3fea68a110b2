/**
 * One instantiated policy module with its data, driven through OPA's WASM ABI
 * (version 1.2+: https://www.openpolicyagent.org/docs/wasm) with as little
 * per-call work as the ABI allows.
 *
 * `LoadedPolicy` from @open-policy-agent/opa-wasm creates a TextEncoder or
 * TextDecoder and scans memory byte by byte on every evaluation and on every
 * host builtin call. This class instantiates the module itself and, per call:
 * - writes the input JSON straight into WASM memory with `encodeInto`, where
 *   opa_eval parses it once;
 * - finds a result's terminator with `indexOf` and decodes it with one shared
 *   TextDecoder;
 * - for a host builtin, reuses the decoded value of a short first argument it
 *   saw recently (the pattern of the regex builtins), so a constant pattern is
 *   neither re-parsed from JSON nor re-hashed by the pattern cache.
 * bench/policy.ts measures it against `LoadedPolicy.evaluate`.
 *
 * Host builtins are exactly those passed in (GATEHOUSE_BUILTINS); the SDK's own
 * JavaScript builtins are not wired (see builtins.ts). Not reentrant; JavaScript's
 * single thread makes that a non-issue.
 */
import type { HostBuiltin } from './builtins.js';

const PAGE = 64 * 1024;
/** The SDK's default initial memory (5 pages); it grows on demand. */
const INITIAL_PAGES = 5;
/** Recent first arguments remembered per builtin, and the longest JSON remembered. */
const REMEMBERED_ARGUMENTS = 8;
const REMEMBERED_MAX_JSON = 4096;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The slice of the WebAssembly JS API used here. tsconfig's lib (ES2023, no DOM)
 * does not declare WebAssembly, although Node provides it.
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  instantiate(bytes: Uint8Array, imports: Record<string, Record<string, unknown>>): Promise<{ instance: { exports: unknown } }>;
}

const { WebAssembly: wasmApi } = globalThis as unknown as { WebAssembly: WasmApi };

interface PolicyExports {
  opa_eval(reserved: number, entrypoint: number, data: number, input: number, inputLength: number, heap: number, format: number): number;
  opa_json_dump(address: number): number;
  opa_json_parse(address: number, length: number): number;
  opa_malloc(size: number): number;
  opa_heap_ptr_get(): number;
  opa_heap_ptr_set(address: number): void;
  builtins(): number;
  entrypoints(): number;
  opa_wasm_abi_version?: { value: unknown };
  opa_wasm_abi_minor_version?: { value: unknown };
}

/** A string argument's JSON text and its decoded value. */
type Remembered = [json: string, value: string];

export class WasmInstance {
  private exports!: PolicyExports;
  private bytes: Uint8Array;
  private builtinNames: string[] = [];
  private builtinImpls: (HostBuiltin | undefined)[] = [];
  /** Per builtin id, recently seen string first arguments. */
  private remembered: Remembered[][] = [];
  private baseHeap = 0;
  private dataAddress = 0;
  private dataHeap = 0;
  /** Entrypoint names to their ids, as compiled in (`opa build -e`). */
  entrypoints: Readonly<Record<string, number>> = {};

  private constructor(
    private readonly memory: WasmMemory,
    private readonly builtins: Readonly<Record<string, HostBuiltin>>,
  ) {
    this.bytes = new Uint8Array(memory.buffer);
  }

  /** Instantiates the module; throws when its ABI is not 1.2 or later. */
  static async instantiate(wasm: Uint8Array, builtins: Readonly<Record<string, HostBuiltin>>): Promise<WasmInstance> {
    const memory = new wasmApi.Memory({ initial: INITIAL_PAGES });
    const self = new WasmInstance(memory, builtins);
    const call = (id: number, ...args: number[]): number => self.callBuiltin(id, args);
    const { instance } = await wasmApi.instantiate(wasm, {
      env: {
        memory,
        opa_abort: (address: number) => {
          throw new Error(`policy aborted: ${self.readString(address)}`);
        },
        opa_println: (address: number) => console.log(self.readString(address)),
        opa_builtin0: (id: number) => call(id),
        opa_builtin1: (id: number, _ctx: number, a: number) => call(id, a),
        opa_builtin2: (id: number, _ctx: number, a: number, b: number) => call(id, a, b),
        opa_builtin3: (id: number, _ctx: number, a: number, b: number, c: number) => call(id, a, b, c),
        opa_builtin4: (id: number, _ctx: number, a: number, b: number, c: number, d: number) => call(id, a, b, c, d),
      },
    });
    self.exports = instance.exports as unknown as PolicyExports;
    const major = self.exports.opa_wasm_abi_version?.value as number | undefined;
    const minor = self.exports.opa_wasm_abi_minor_version?.value as number | undefined;
    if (major !== 1 || minor === undefined || minor < 2) {
      throw new Error(`policy.wasm has OPA WASM ABI ${major ?? '?'}.${minor ?? '?'}; 1.2 or later is needed`);
    }
    for (const [name, id] of Object.entries(self.readJson(self.exports.opa_json_dump(self.exports.builtins())) as Record<string, number>)) {
      self.builtinNames[id] = name;
      self.builtinImpls[id] = Object.hasOwn(builtins, name) ? builtins[name] : undefined;
      self.remembered[id] = [];
    }
    self.entrypoints = self.readJson(self.exports.opa_json_dump(self.exports.entrypoints())) as Record<string, number>;
    self.baseHeap = self.exports.opa_heap_ptr_get();
    self.setData({});
    return self;
  }

  /** Names of the builtins the module expects the host to implement. */
  requiredBuiltins(): string[] {
    return this.builtinNames.filter((name) => name !== undefined);
  }

  /** Replaces the module's data document. */
  setData(data: unknown): void {
    this.exports.opa_heap_ptr_set(this.baseHeap);
    this.dataAddress = this.load(data);
    this.dataHeap = this.exports.opa_heap_ptr_get();
  }

  /**
   * Evaluates one entrypoint and returns OPA's result set (`[{ result }]`, or `[]`
   * when the entrypoint is undefined for this input). Throws on serialisation or
   * evaluation errors (an abort inside the module, a failing host builtin).
   */
  evaluate(entrypoint: number, input: unknown): unknown {
    const json = JSON.stringify(input);
    const address = this.dataHeap;
    const bytes = this.room(address + json.length * 3);
    const { written } = encoder.encodeInto(json, bytes.subarray(address));
    const result = this.exports.opa_eval(0, entrypoint, this.dataAddress, address, written, address + written, 0);
    return this.readJson(result);
  }

  /** The memory view, grown first so that it reaches `end`. */
  private room(end: number): Uint8Array {
    const missing = end - this.memory.buffer.byteLength;
    if (missing > 0) this.memory.grow(Math.ceil(missing / PAGE));
    return this.view();
  }

  private view(): Uint8Array {
    if (this.bytes.buffer !== this.memory.buffer) this.bytes = new Uint8Array(this.memory.buffer);
    return this.bytes;
  }

  private readString(address: number): string {
    const bytes = this.view();
    return decoder.decode(bytes.subarray(address, bytes.indexOf(0, address)));
  }

  private readJson(address: number): unknown {
    return JSON.parse(this.readString(address));
  }

  /** Parses a JSON-encodable value into the module's heap; returns its address. */
  private load(value: unknown): number {
    const json = JSON.stringify(value) ?? 'null';
    const size = json.length * 3;
    const address = this.exports.opa_malloc(size);
    const { written } = encoder.encodeInto(json, this.view().subarray(address, address + size));
    const parsed = this.exports.opa_json_parse(address, written);
    if (parsed === 0) throw new Error('policy: a value could not be loaded into the module');
    return parsed;
  }

  private callBuiltin(id: number, addresses: number[]): number {
    const impl = this.builtinImpls[id];
    if (impl === undefined) throw new Error(`policy: builtin ${this.builtinNames[id] ?? id} is not provided by the proxy`);
    const args = new Array<unknown>(addresses.length);
    for (let i = 0; i < addresses.length; i++) {
      const json = this.readString(this.exports.opa_json_dump(addresses[i]!));
      args[i] = i === 0 ? this.firstArgument(id, json) : JSON.parse(json);
    }
    const result = impl(...args);
    // As in the SDK: a builtin returning undefined makes the call undefined in Rego.
    return result === undefined ? 0 : this.load(result);
  }

  /** A first argument from its JSON; a short string is remembered, since it is usually a constant. */
  private firstArgument(id: number, json: string): unknown {
    if (json.charCodeAt(0) !== 34 /* " */ || json.length > REMEMBERED_MAX_JSON) return JSON.parse(json);
    const seen = this.remembered[id]!;
    for (const entry of seen) if (entry[0] === json) return entry[1];
    const value = JSON.parse(json) as string;
    if (seen.length >= REMEMBERED_ARGUMENTS) seen.pop();
    seen.unshift([json, value]);
    return value;
  }
}
