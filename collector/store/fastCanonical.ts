/**
 * Turns DuckDB's `to_json(struct_pack(...sorted hashed columns...))` into the
 * record's canonical JSON (docs/audit-format.md, section 3) without crossing
 * each value into JS: drop `"k":null` members (a quote inside a JSON string is
 * always escaped, so the pattern only matches members), re-print DOUBLEs the
 * ECMAScript way, lowercase the hex of `\u00XX` escapes. Only a fast path: a
 * row whose result does not hash to its stored hash is re-checked exactly.
 */

const NULL_MEMBER = /"[A-Za-z0-9_]+":null,?/g;
const UPPER_ESCAPE = /\\u00([01][0-9A-F])/g;

const doublePatterns = new Map<string, RegExp>();

function doublePattern(doubles: readonly string[]): RegExp {
  const key = doubles.join(',');
  let pattern = doublePatterns.get(key);
  if (pattern === undefined) {
    pattern = new RegExp(`"(${doubles.join('|')})":(-?[0-9][0-9.eE+-]*)`, 'g');
    doublePatterns.set(key, pattern);
  }
  return pattern;
}

export function toCanonical(json: string, doubles: readonly string[]): string {
  let out = json.includes(':null') ? json.replace(NULL_MEMBER, '') : json;
  if (out.endsWith(',}')) out = `${out.slice(0, -2)}}`;
  if (doubles.length > 0) out = out.replace(doublePattern(doubles), (_m, name: string, n: string) => `"${name}":${JSON.stringify(Number(n))}`);
  if (out.includes('\\u00')) out = out.replace(UPPER_ESCAPE, (_m, hex: string) => `\\u00${hex.toLowerCase()}`);
  return out;
}
