/**
 * Exact token counts with gpt-tokenizer's o200k_base encoding (GPT-4o/4.1/5
 * family; for other providers within a few percent), where an estimate is not
 * enough: usage no provider reported (an aborted or cut stream, the simulated
 * provider), and a request the estimate puts past a tokens/min limit, counted
 * exactly before it is refused (pipeline/enforce.ts). Loaded on first use: the encoding costs ~30 MB of heap and about
 * 10 µs per request-sized text, which the request path does not pay (its
 * reservations use limits/tokenEstimate.ts). If it cannot be loaded, counts fall
 * back to that estimate (the usage is flagged estimated either way), and the
 * next call tries the import again.
 *
 * BPE merging is quadratic in the length of one pre-token, and a run of
 * letters (or of CJK text without punctuation, or base64) is one pre-token:
 * 200,000 "a"s would take the tokenizer minutes. So a run of more than LONG_RUN
 * characters without whitespace is counted in pieces of at most LONG_RUN
 * characters, cut before the last character in each window that is not a letter,
 * mark or digit (where the tokenizer splits anyway, so the count is unchanged),
 * or, in a window with no such character, at its end (a cut inside one
 * pre-token adds about one token per LONG_RUN characters).
 */
import { estimateTextTokens } from './limits/tokenEstimate.js';
import { log } from './log.js';

export type TokenCounter = (text: string) => number;

/** Runs without whitespace longer than this are counted in pieces of at most this many characters. */
const LONG_RUN = 200;
const WORD_PART = /[\p{L}\p{M}\p{N}]/u;

function isSpace(unit: number): boolean {
  return unit === 0x20 || (unit >= 0x09 && unit <= 0x0d) || unit === 0xa0 || unit === 0x2028 || unit === 0x2029 || unit === 0x3000;
}

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff;
}

/** The exact count of one long run, in pieces (see the module comment); linear in its length. */
function countLongRun(run: string, exact: (text: string) => number): number {
  let total = 0;
  let start = 0;
  while (run.length - start > LONG_RUN) {
    let cut = start + LONG_RUN;
    for (let i = cut; i > start + 1; i--) {
      const unit = run.charCodeAt(i);
      if (!isSurrogate(unit) && !WORD_PART.test(run[i] as string)) {
        cut = i;
        break;
      }
    }
    if (cut === start + LONG_RUN && isSurrogate(run.charCodeAt(cut)) && run.charCodeAt(cut) >= 0xdc00) cut--;
    total += exact(run.slice(start, cut));
    start = cut;
  }
  return total + exact(run.slice(start));
}

/** Counts `text` exactly, its long runs without whitespace piece by piece; one linear scan. */
function countBounded(text: string, exact: (text: string) => number): number {
  if (text.length <= LONG_RUN) return text.length === 0 ? 0 : exact(text);
  let total = 0;
  let from = 0;
  let runStart = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && !isSpace(text.charCodeAt(i))) continue;
    if (i - runStart > LONG_RUN) {
      if (runStart > from) total += exact(text.slice(from, runStart));
      total += countLongRun(text.slice(runStart, i), exact);
      from = i;
    }
    runStart = i + 1;
  }
  if (from === 0) return exact(text);
  return from < text.length ? total + exact(text.slice(from)) : total;
}

let counter: Promise<TokenCounter> | undefined;

/** The o200k_base counter; special-token text in content counts as plain text. Never rejects. */
export function tokenCounter(): Promise<TokenCounter> {
  counter ??= import('gpt-tokenizer/encoding/o200k_base').then(
    ({ countTokens }) => {
      const plainText = { disallowedSpecial: new Set<string>() };
      const exact = (text: string) => countTokens(text, plainText);
      return (text: string) => countBounded(text, exact);
    },
    (error: unknown) => {
      counter = undefined;
      log.warn('token counter unavailable; counting with the estimate', { error });
      return estimateTextTokens;
    },
  );
  return counter;
}
