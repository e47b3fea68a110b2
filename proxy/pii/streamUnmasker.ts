/**
 * Restores placeholders in a stream of text deltas, where one placeholder may arrive
 * split over several deltas (`<EM` + `AIL_1` + `>`). Only the shortest tail that may
 * still become an issued placeholder is held back; everything else is passed on at
 * once, so the added latency is nil for text without `<`.
 */
import { PLACEHOLDER_PATTERN } from './placeholders.js';

export interface StreamUnmasker {
  /** Feeds one delta; returns the text that is now safe to forward (possibly ''). */
  push(delta: string): string;
  /** Ends the stream; returns whatever was held back. Safe to call twice. */
  flush(): string;
}

/** What a stream unmasker needs from the mapping, without seeing the mapping itself. */
export interface PlaceholderLookup {
  /** The text to put in place of `token`, or undefined when it was never issued. */
  restore(token: string): string | undefined;
  /** True when `tail` is a proper prefix of some issued placeholder (e.g. `<EMAIL_`). */
  isPrefix(tail: string): boolean;
}

/** Replaces every issued placeholder in `text`; unknown placeholder-shaped text stays. */
export function restorePlaceholders(text: string, lookup: PlaceholderLookup): string {
  if (!text.includes('<')) return text;
  return text.replace(PLACEHOLDER_PATTERN, (token) => lookup.restore(token) ?? token);
}

export function createStreamUnmasker(lookup: PlaceholderLookup): StreamUnmasker {
  let held = '';
  return {
    push(delta) {
      if (held === '' && !delta.includes('<')) return delta;
      const buffer = held + delta;
      // A placeholder has one '<', its first character, so a partial one can only
      // start at the last '<' of the buffer.
      const cut = buffer.lastIndexOf('<');
      if (cut >= 0 && lookup.isPrefix(buffer.slice(cut))) {
        held = buffer.slice(cut);
        return restorePlaceholders(buffer.slice(0, cut), lookup);
      }
      held = '';
      return restorePlaceholders(buffer, lookup);
    },
    flush() {
      const rest = held;
      held = '';
      return rest;
    },
  };
}
