/**
 * The text the PII detectors read, with a map back to the original: the
 * guardrails' normalization steps 1 to 3 (docs/policies.md, "Normalization"),
 * one code point at a time so each output character knows its source:
 *
 *  1. default-ignorable and format characters removed (zero-width spaces
 *     inside a card number, soft hyphens, bidi controls);
 *  2. NFKC (full-width digits `４１１１`, the full-width `＠`, ligatures);
 *  3. Latin look-alikes folded to ASCII (accents stripped: `jöhn` → `john`;
 *     TR39 confusables: a Cyrillic `а` → `a`), as normalize.ts folds them.
 *
 * Case and whitespace are left alone (the detectors handle them), so a value
 * found at [s, e) of the folded text is the original's [starts[s], ends[e-1]),
 * which is what gets redacted: the provider never sees the unusual spelling,
 * and the client gets its own spelling back. ASCII text is not copied at all.
 */
import { createRequire } from 'node:module';
import { foldChar } from '../policy/normalize.js';

export interface FoldedText {
  text: string;
  /**
   * For each character of `text`, where its source code point starts and ends in
   * the original; undefined when every fold kept its length (accents, full-width
   * forms, look-alikes: the common case), so positions are the original's.
   */
  starts: Int32Array | undefined;
  ends: Int32Array | undefined;
}

const NON_ASCII = /[^\x00-\x7f]/g;
const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{Cf}]$/u;
const ASCII = /^[\x00-\x7f]*$/;

/** Folded code points remembered, at most (real text uses far fewer distinct ones). */
const MAX_REMEMBERED = 65_536;
const remembered = new Map<string, string>();

/** One non-ASCII code point as the scanner reads it. */
function foldPoint(point: string): string {
  let out = remembered.get(point);
  if (out === undefined) {
    out = foldUncached(point);
    if (remembered.size < MAX_REMEMBERED) remembered.set(point, out);
  }
  return out;
}

const MARK = /^\p{M}$/u;

function foldUncached(point: string): string {
  // A combining mark left alone (decomposed text: "o" + U+0308) goes, as the accent a precomposed letter loses.
  if (IGNORABLE.test(point) || MARK.test(point)) return '';
  const nfkc = point.normalize('NFKC');
  if (ASCII.test(nfkc)) return nfkc;
  let out = '';
  for (const ch of nfkc) out += ch.charCodeAt(0) < 0x80 ? ch : foldChar(ch);
  return out;
}

const NON_ASCII_POINT = /[^\x00-\x7f]/gu;

/**
 * Non-ASCII characters that can change what a detector sees: format and
 * default-ignorable characters, Unicode spaces (a no-break or thin space
 * between digit groups), non-ASCII numbers (full-width, mathematical,
 * circled, superscript digits), the full-width and small-form blocks (`＠`,
 * `．`, `﹫`), and every character whose TR39 prototype is a digit, `@` or `.`
 * (a Cyrillic `З` for a 3), from the same confusables table. Built once, on
 * first use, as a lookup table over the Basic Multilingual Plane (64 KB), so
 * that telling ordinary accented prose apart is one pass of table lookups.
 */
let relevant: { bmp: Uint8Array; astral: RegExp } | undefined;
function relevantCharacters(): { bmp: Uint8Array; astral: RegExp } {
  if (relevant === undefined) {
    const table = createRequire(import.meta.url)('unhomoglyph/data.json') as Record<string, string>;
    const lookAlikes = Object.entries(table)
      .filter(([char, prototype]) => char.codePointAt(0)! > 0x7f && /^[0-9@.]+$/.test(prototype))
      .map(([char]) => char.replace(/[()[\]{}/|&\\^-]/g, '\\$&'))
      .join('');
    // \p{N} without the ASCII digits, as a set difference (the v flag).
    const astral = new RegExp(`^[\\p{Cf}\\p{Default_Ignorable_Code_Point}\\p{Zs}[\\p{N}--[0-9]]\\uff00-\\uffef\\ufe50-\\ufe6f${lookAlikes}]$`, 'v');
    const bmp = new Uint8Array(0x10000);
    for (let code = 0x80; code < 0x10000; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      if (astral.test(String.fromCharCode(code))) bmp[code] = 1;
    }
    relevant = { bmp, astral };
  }
  return relevant;
}

/** Whether a non-ASCII character in `text` can change a detection (see relevantCharacters). */
function hasRelevant(text: string, from: number): boolean {
  const { bmp, astral } = relevantCharacters();
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code >= 0xd800 && code <= 0xdbff) {
      const point = text.codePointAt(i)!;
      if (astral.test(String.fromCodePoint(point))) return true;
      i++;
      continue;
    }
    if (bmp[code] === 1) return true;
  }
  return false;
}

/** An `@` whose whitespace-delimited token holds a non-ASCII character (an internationalized or look-alike address); one pass. */
function nonAsciiAddress(text: string): boolean {
  if (!text.includes('@')) return false;
  let at = false;
  let nonAscii = false;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0x20;
    if (code <= 0x20) {
      if (at && nonAscii) return true;
      at = false;
      nonAscii = false;
    } else if (code === 0x40) at = true;
    else if (code > 0x7f) nonAscii = true;
  }
  return false;
}

/**
 * The folded text and its map, or undefined when nothing non-ASCII in `text`
 * can change a detection (ASCII text, and prose whose accents are not inside an
 * address or a number): scan it as it is.
 */
export function foldForScan(text: string): FoldedText | undefined {
  // UTF-8 length equals the length only for ASCII: one native pass.
  if (Buffer.byteLength(text, 'utf8') === text.length) return undefined;
  if (!nonAsciiAddress(text) && !hasRelevant(text, 0)) return undefined;
  // One native pass; only when a fold changed a length (a removed zero-width space, a ligature) is the map built.
  let sameLength = true;
  const folded = text.replace(NON_ASCII_POINT, (point) => {
    const out = foldPoint(point);
    // Same length is not enough for a surrogate pair that became two characters: a match could end between them.
    if (out.length !== point.length || (point.length === 2 && out !== point)) sameLength = false;
    return out;
  });
  if (sameLength) return { text: folded, starts: undefined, ends: undefined };
  return mapped(text);
}

function mapped(text: string): FoldedText {
  let starts = new Int32Array(text.length + 16);
  let ends = new Int32Array(text.length + 16);
  let out = '';
  let n = 0;
  const room = (extra: number) => {
    if (n + extra <= starts.length) return;
    const size = Math.max(starts.length * 2, n + extra);
    const s = new Int32Array(size);
    const e = new Int32Array(size);
    s.set(starts);
    e.set(ends);
    starts = s;
    ends = e;
  };
  let from = 0;
  NON_ASCII.lastIndex = 0;
  for (let m = NON_ASCII.exec(text); m !== null; m = NON_ASCII.exec(text)) {
    const at = m.index;
    // The ASCII run before it, mapped one to one.
    room(at - from);
    for (let i = from; i < at; i++, n++) {
      starts[n] = i;
      ends[n] = i + 1;
    }
    out += text.slice(from, at);
    const code = text.codePointAt(at)!;
    const width = code > 0xffff ? 2 : 1;
    const folded = foldPoint(text.slice(at, at + width));
    room(folded.length);
    for (let k = 0; k < folded.length; k++, n++) {
      starts[n] = at;
      ends[n] = at + width;
    }
    out += folded;
    from = at + width;
    NON_ASCII.lastIndex = from;
  }
  room(text.length - from);
  for (let i = from; i < text.length; i++, n++) {
    starts[n] = i;
    ends[n] = i + 1;
  }
  out += text.slice(from);
  return { text: out, starts: starts.subarray(0, n), ends: ends.subarray(0, n) };
}
