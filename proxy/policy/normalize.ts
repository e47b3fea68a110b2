/**
 * The text every guardrail rule matches: `normalized` in the policy input
 * (docs/policies.md, "Normalization"). Evasions that change how text looks but
 * not what it says fold away before a rule sees it:
 *
 *  1. default-ignorable and format characters removed (zero-width space and
 *     joiner, soft hyphen, bidi controls, variation selectors: \p{DI} and \p{Cf});
 *  2. Unicode NFKC (fullwidth letters, ligatures, circled and styled forms);
 *  3. each remaining non-ASCII character folded to ASCII where it is a Latin
 *     look-alike: accents stripped ("è" -> "e"), then the Unicode TR39
 *     confusables table (unhomoglyph's copy of confusables.txt: Cyrillic "В" ->
 *     "B", Greek "Ν" -> "N"), kept only when the result is ASCII; ASCII itself is
 *     never remapped ("m" stays "m"), nor are Han, kana and Hangul, so that text
 *     still reads as itself. Only text with non-ASCII characters pays for it;
 *  4. whitespace runs collapsed to one space; ticker-like tokens (2 to 5
 *     capital letters, not a common acronym) marked with `$` (`NVDA` -> `$nvda`),
 *     since case is about to go; then case folded (lower case);
 *  5. encoded payloads of reasonable size decoded and appended, each on its own
 *     line, normalized the same way: base64 runs (24..8192 characters that decode
 *     to mostly printable UTF-8) and URL-encoding (%XX).
 *
 * The original text is kept beside it (`text`), for rules that need case (e.g.
 * tickers) or exact wording. A skeleton is for matching only: never show it.
 */
import { createRequire } from 'node:module';

const IGNORABLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/gu;
const NON_ASCII = /[^\x00-\x7f]/;
/** Whitespace that is not a lone space: what collapsing changes (prose has almost none, so it costs nothing there). */
const WHITESPACE = /[^\S ]+|\s{2,}/g;
const BASE64_MIN = 24;
const BASE64_MAX = 8192;
const URL_ESCAPE = /%[0-9a-fA-F]{2}/;
/** Decoded payloads appended per text, at most. */
const MAX_DECODED = 8;
/** Texts longer than this are normalized in their first MAX_CHARS characters only (a rule's reach is a sentence or two). */
export const MAX_NORMALIZED_CHARS = 262_144;

/** Non-ASCII characters, one code point at a time. */
const NON_ASCII_CHAR = /[^\x00-\x7f]/gu;
const ASCII_ONLY = /^[\x00-\x7f]+$/;
const MARKS = /\p{M}+/gu;
/** Scripts with no Latin look-alikes worth folding: their text stays as it is. */
const OWN_SCRIPTS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** Folded characters remembered, at most (the distinct non-ASCII characters real text uses are far fewer). */
const MAX_FOLDED_CHARS = 65_536;

/** All-caps words that are not tickers: left unmarked. */
const NOT_TICKERS = new Set([
  'AI', 'AM', 'PM', 'OK', 'US', 'USA', 'UK', 'EU', 'UN', 'CEO', 'CFO', 'CTO', 'COO', 'IT', 'HR', 'PR', 'API', 'PDF', 'FAQ', 'FYI',
  'ASAP', 'NOW', 'NEW', 'ALL', 'THE', 'AND', 'NOT', 'NO', 'YES', 'TV', 'PC', 'IRA', 'ID', 'IS', 'OR', 'IN', 'ON', 'AT', 'TO', 'OF',
  'BE', 'DO', 'IF', 'SO', 'UP', 'MY', 'ME', 'WE', 'HE', 'AN', 'AS', 'BY', 'GO', 'VS', 'ETC', 'USD', 'EUR', 'GBP', 'GDP', 'CPI',
  'SEC', 'FED', 'ECB', 'IPO', 'ETF', 'LLC', 'INC', 'LTD', 'PLC', 'SQL', 'URL', 'HTML', 'JSON', 'HTTP', 'CSV', 'NOTE', 'TODO',
  'BUY', 'SELL', 'HOLD', 'LONG', 'SHORT', 'STOCK', 'PUT', 'CALL', 'STOP', 'WARN', 'INFO', 'ERROR',
  'KB', 'MB', 'GB', 'TB', 'GHZ', 'MHZ', 'CPU', 'GPU', 'RAM', 'SSD', 'USB', 'HD', 'UHD', 'LED', 'DIY', 'VAT', 'ROI', 'KPI', 'CRM',
]);
/** 2 to 5 capitals standing alone: not inside markup (`<SYS>`, `[INST]`, `{{X}}`) or a longer word. */
const TICKER_LIKE = /(?<![\w$<[{|/#\\])([A-Z]{2,5})(?![\w>\]}|])/g;

/** TR39 confusable -> prototype, from unhomoglyph's data (every key is one code point). */
let prototypes: Record<string, string> | undefined;
const folded = new Map<string, string>();

/** One non-ASCII character as the ASCII it imitates, or itself (also the PII scanner's fold, proxy/pii/foldedText.ts). */
export function foldChar(char: string): string {
  const known = folded.get(char);
  if (known !== undefined) return known;
  let out = char;
  if (!OWN_SCRIPTS.test(char)) {
    const bare = char.normalize('NFD').replace(MARKS, '');
    if (bare.length > 0 && ASCII_ONLY.test(bare)) out = bare;
    else {
      prototypes ??= createRequire(import.meta.url)('unhomoglyph/data.json') as Record<string, string>;
      const prototype = prototypes[char];
      if (prototype !== undefined && ASCII_ONLY.test(prototype)) out = prototype;
    }
  }
  if (folded.size < MAX_FOLDED_CHARS) folded.set(char, out);
  return out;
}

/** Steps 1 to 4 of the module comment. */
function fold(text: string): string {
  let out = text;
  if (NON_ASCII.test(out)) {
    out = out.replace(IGNORABLE, '').normalize('NFKC');
    if (NON_ASCII.test(out)) out = out.replace(NON_ASCII_CHAR, foldChar);
  }
  out = out.replace(WHITESPACE, ' ').trim();
  if (/[A-Z]{2}/.test(out)) out = out.replace(TICKER_LIKE, (word: string) => (NOT_TICKERS.has(word) ? word : `$${word}`));
  return out.toLowerCase();
}

function isBase64Char(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

/**
 * Runs of 24..8192 base64 characters (with their `=` padding). A run that long
 * has no space in it, so only the space-separated tokens of 24 characters or
 * more are scanned: on prose that is a few indexOf calls per KB (~2 µs), where a
 * regex or a full character scan costs 7-20 µs.
 */
function* base64Runs(text: string): Generator<string> {
  for (let start = 0; start < text.length;) {
    const space = text.indexOf(' ', start);
    const stop = space < 0 ? text.length : space;
    if (stop - start >= BASE64_MIN) yield* runsIn(text, start, stop);
    if (space < 0) break;
    start = space + 1;
  }
}

function* runsIn(text: string, from: number, to: number): Generator<string> {
  let start = -1;
  for (let i = from; i <= to; i++) {
    if (i < to && isBase64Char(text.charCodeAt(i))) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0) {
      let end = i;
      while (end < to && end - i < 2 && text.charCodeAt(end) === 0x3d) end++;
      if (i - start >= BASE64_MIN && i - start <= BASE64_MAX) yield text.slice(start, end);
      start = -1;
    }
  }
}

/** Base64 that decodes to text a model would read: valid UTF-8, mostly printable. */
function decodedBase64(run: string): string | undefined {
  if (run.length % 4 === 1) return undefined;
  const bytes = Buffer.from(run, 'base64');
  if (bytes.length < 12) return undefined;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  let printable = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x20 && c !== 0x7f && c !== 0xfffd) || c === 0x0a || c === 0x0d || c === 0x09) printable++;
  }
  return printable / text.length >= 0.9 ? text : undefined;
}

function decodedUrl(text: string): string | undefined {
  try {
    const decoded = decodeURIComponent(text.replace(/\+/g, ' '));
    return decoded === text ? undefined : decoded;
  } catch {
    // Not all of it is valid %-encoding: decode what is.
    const decoded = text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
      try { return decodeURIComponent(run); } catch { return run; }
    });
    return decoded === text ? undefined : decoded;
  }
}

/**
 * Recently normalized texts. Conversations resend their system prompt and earlier
 * turns on every call, so most texts were seen a moment ago; a hit costs a hash of
 * the string instead of the scan. Bounded by entries and by the size of a text.
 */
const memo = new Map<string, string>();
const MEMO_ENTRIES = 4_096;
const MEMO_MAX_CHARS = 32_768;

/** The normalized form of `text` (see the module comment). */
export function normalizeText(text: string): string {
  if (text.length > MEMO_MAX_CHARS) return normalizeUncached(text);
  const known = memo.get(text);
  if (known !== undefined) return known;
  const normalized = normalizeUncached(text);
  if (memo.size >= MEMO_ENTRIES) memo.delete(memo.keys().next().value as string);
  memo.set(text, normalized);
  return normalized;
}

function normalizeUncached(text: string): string {
  const input = text.length > MAX_NORMALIZED_CHARS ? text.slice(0, MAX_NORMALIZED_CHARS) : text;
  let out = fold(input);
  let decoded = 0;
  if (URL_ESCAPE.test(input)) {
    const url = decodedUrl(input);
    if (url !== undefined) {
      out += `\n${fold(url)}`;
      decoded++;
    }
  }
  for (const run of base64Runs(input)) {
    if (decoded >= MAX_DECODED) break;
    const plain = decodedBase64(run);
    if (plain !== undefined) {
      out += `\n${fold(plain)}`;
      decoded++;
    }
  }
  return out;
}
