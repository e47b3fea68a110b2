/**
 * Builtins the compiled policy calls back into the host for.
 *
 * OPA's WASM target implements most builtins natively; for the rest the module asks
 * the host. The proxy drives the WASM ABI itself (wasmInstance.ts), so the host
 * builtins are exactly the ones listed here: the JavaScript ones bundled with
 * `@open-policy-agent/opa-wasm` (sprintf, regex.split, yaml.*, json.is_valid) are
 * not wired. A policy that needs one of those, or any other non-native builtin,
 * gets it here with a test; `missingBuiltins()` lets the engine refuse a module
 * that needs anything else at load time, never at request time.
 */

/** A builtin as opa-wasm calls it: JSON-decoded arguments in, a JSON-encodable result out. */
export type HostBuiltin = (...args: unknown[]) => unknown;

const MAX_CACHED_PATTERNS = 256;
const compiled = new Map<string, RegExp>();

/**
 * Translates an RE2 pattern to a JavaScript RegExp. Supported: the syntax common to
 * both, plus one leading flag group made of i, m and s (`(?i)`). Anything the two
 * engines read differently is rejected with an error rather than silently
 * matching something else.
 */
export function compilePattern(pattern: string): RegExp {
  const cached = compiled.get(pattern);
  if (cached !== undefined) return cached;
  let source = pattern;
  let flags = 'g';
  const lead = /^\(\?([ims]+)\)/.exec(source);
  if (lead !== null) {
    flags += lead[1]!;
    source = source.slice(lead[0].length);
  }
  const unsupported = /\(\?[a-zA-Z-]+[:)]|\\[AzQEpP]|\[\[:/.exec(source);
  if (unsupported !== null) {
    throw new Error(`regex: '${unsupported[0]}' is not supported in the WASM build (see policies/gatehouse/text.rego)`);
  }
  const regex = new RegExp(source, flags);
  if (compiled.size >= MAX_CACHED_PATTERNS) compiled.clear();
  compiled.set(pattern, regex);
  return regex;
}

/** `regex.find_n(pattern, value, n)`: up to n matches (all when n is negative), as OPA defines it. */
function regexFindN(pattern: unknown, value: unknown, n: unknown): string[] {
  if (typeof pattern !== 'string' || typeof value !== 'string' || typeof n !== 'number') {
    throw new TypeError('regex.find_n: expected (string, string, number)');
  }
  if (n === 0) return [];
  const regex = compilePattern(pattern);
  const found: string[] = [];
  regex.lastIndex = 0;
  for (let match = regex.exec(value); match !== null; match = regex.exec(value)) {
    found.push(match[0]);
    if (found.length === n) break;
    if (match[0].length === 0) regex.lastIndex++;
  }
  regex.lastIndex = 0;
  return found;
}

/** The builtins Gatehouse supplies to every policy it loads. */
export const GATEHOUSE_BUILTINS: Readonly<Record<string, HostBuiltin>> = Object.freeze({
  'regex.find_n': regexFindN,
});

/** Names the module needs from the host that `provided` does not implement. */
export function missingBuiltins(required: Iterable<string>, provided: Readonly<Record<string, HostBuiltin>>): string[] {
  const missing: string[] = [];
  for (const name of required) {
    if (!Object.hasOwn(provided, name)) missing.push(name);
  }
  return missing.sort();
}
