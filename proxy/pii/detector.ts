/**
 * The shape of one detector: a regex source that finds candidates, and a check that
 * confirms them. Detectors of all chosen classes are joined into one regex so that a
 * text is scanned once (see scanner.ts).
 */
import type { PiiClass } from '../policy/decision.js';

/** What a detector finds: a PII class, or a literal placeholder typed by the user. */
export type DetectionKind = PiiClass | 'placeholder';

/** A confirmed value's span inside the match: [start, end). */
export type ValueSpan = readonly [start: number, end: number];

export interface Detector {
  /** Unique, a valid regex group name. */
  readonly name: string;
  readonly kind: DetectionKind;
  /**
   * Regex source, without the `i` flag (spell letters as classes where case does not
   * matter) and without capturing groups: it becomes one alternative of a combined
   * regex. Lookarounds at its edges keep it from starting or ending inside a longer
   * token; it must never match the empty string.
   */
  readonly source: string;
  /** Confirms a match; returns the value's span inside it, or undefined to reject it. */
  readonly accept?: (match: string) => ValueSpan | undefined;
  /**
   * When every detector rejected a match of this one, how much of it to skip rather
   * than rescanning its inside (a mistyped IBAN is not a card or phone number).
   */
  readonly rejectedLength?: (match: string) => number;
}

/** `word` matched case-insensitively, e.g. `key` → `[Kk][Ee][Yy]`. */
export function caseless(word: string): string {
  let out = '';
  for (const ch of word) {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    out += lower === upper ? ch.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&') : `[${lower}${upper}]`;
  }
  return out;
}

/** Accepts the whole match when `test` holds for it. */
export function whole(test: (match: string) => boolean): (match: string) => ValueSpan | undefined {
  return (match) => (test(match) ? [0, match.length] : undefined);
}
