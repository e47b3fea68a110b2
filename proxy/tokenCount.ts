/**
 * Exact token counts with gpt-tokenizer's o200k_base encoding (GPT-4o/4.1/5
 * family; for other providers within a few percent), for the places that report
 * usage when no provider did: an aborted or cut stream, and the simulated
 * provider. Loaded on first use: the encoding costs ~30 MB of heap and about
 * 10 µs per request-sized text, which the request path does not pay (its
 * reservations use limits/tokenEstimate.ts).
 */
export type TokenCounter = (text: string) => number;

let counter: Promise<TokenCounter> | undefined;

/** The o200k_base counter; special-token text in content counts as plain text. */
export function tokenCounter(): Promise<TokenCounter> {
  counter ??= import('gpt-tokenizer/encoding/o200k_base').then(({ countTokens }) => {
    const plainText = { disallowedSpecial: new Set<string>() };
    return (text: string) => (text.length === 0 ? 0 : countTokens(text, plainText));
  });
  return counter;
}
