/**
 * Bounds on a parsed JSON body that no field check would catch: how deep it
 * nests (a tool schema 10,000 levels deep must be a 400, not a stack overflow
 * somewhere downstream), and strings that are not well-formed Unicode (a lone
 * UTF-16 surrogate from a `\ud800` escape cannot be encoded to UTF-8 for the
 * upstream, the policy or the audit trail, so it is refused where it enters).
 * One iterative walk over the parsed value, without recursion; the path of the
 * offending node is rebuilt only on failure.
 */
import { invalidRequest } from '../errors.js';

/** Deepest nesting of objects and arrays a request body may have. */
export const MAX_JSON_DEPTH = 64;

const SURROGATE = /[\ud800-\udfff]/;

/** True when `s` contains a UTF-16 surrogate that is not part of a pair. */
export function hasLoneSurrogate(s: string): boolean {
  if (!SURROGATE.test(s)) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return true;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

interface Frame { value: unknown; key: string | number | undefined; parent: number }

/** The path of the first string (or key) with a lone surrogate: the slow walk, run only after the fast one failed. */
function pathOfLoneSurrogate(body: unknown): string {
  const frames: Frame[] = [{ value: body, key: undefined, parent: -1 }];
  for (let at = 0; at < frames.length; at++) {
    const { value } = frames[at]!;
    if (typeof value === 'string') {
      if (hasLoneSurrogate(value)) return pathOf(frames, at);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) value.forEach((child, i) => frames.push({ value: child, key: i, parent: at }));
    else for (const key in value) {
      if (hasLoneSurrogate(key)) return pathOf(frames, at);
      frames.push({ value: (value as Record<string, unknown>)[key], key, parent: at });
    }
  }
  return 'body';
}

function pathOf(frames: readonly Frame[], at: number): string {
  const parts: Array<string | number> = [];
  for (let i = at; i > 0; i = frames[i]!.parent) parts.push(frames[i]!.key!);
  let path = '';
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!;
    path += typeof part === 'number' ? `[${part}]` : path === '' ? part : `.${part}`;
  }
  return path || 'body';
}

/**
 * Throws 400 `invalid_request` when `body` nests deeper than MAX_JSON_DEPTH
 * (param `body`), or, with `checkStrings`, holds a lone surrogate in a string or
 * key (param: the field's path, e.g. `messages[0].content`).
 */
export function assertBoundedJson(body: unknown, checkStrings: boolean): void {
  const values: unknown[] = [body];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (typeof value === 'string') {
      if (checkStrings && hasLoneSurrogate(value)) throw invalidRequest(pathOfLoneSurrogate(body), 'contains a lone UTF-16 surrogate (not valid Unicode)');
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_JSON_DEPTH) throw invalidRequest('body', `nests deeper than ${MAX_JSON_DEPTH} levels`);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const child: unknown = value[i];
        if (typeof child === 'object' ? child !== null : typeof child === 'string' && checkStrings) { values.push(child); depths.push(depth + 1); }
      }
    } else {
      for (const key in value) {
        if (checkStrings && hasLoneSurrogate(key)) throw invalidRequest(pathOfLoneSurrogate(body), 'has a key with a lone UTF-16 surrogate (not valid Unicode)');
        const child = (value as Record<string, unknown>)[key];
        if (typeof child === 'object' ? child !== null : typeof child === 'string' && checkStrings) { values.push(child); depths.push(depth + 1); }
      }
    }
  }
}
