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
 */
import { estimateTextTokens } from './limits/tokenEstimate.js';
import { log } from './log.js';

export type TokenCounter = (text: string) => number;

let counter: Promise<TokenCounter> | undefined;

/** The o200k_base counter; special-token text in content counts as plain text. Never rejects. */
export function tokenCounter(): Promise<TokenCounter> {
  counter ??= import('gpt-tokenizer/encoding/o200k_base').then(
    ({ countTokens }) => {
      const plainText = { disallowedSpecial: new Set<string>() };
      return (text: string) => (text.length === 0 ? 0 : countTokens(text, plainText));
    },
    (error: unknown) => {
      counter = undefined;
      log.warn('token counter unavailable; counting with the estimate', { error });
      return estimateTextTokens;
    },
  );
  return counter;
}
