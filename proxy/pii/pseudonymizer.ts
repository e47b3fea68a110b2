/**
 * Reversible pseudonymization for one request. `mask` replaces each detected value
 * with a numbered placeholder (`<EMAIL_1>`; the same value always gets the same
 * placeholder within the request); `unmask` and the stream unmaskers put the values
 * back in the answer, so the provider never sees them and the user never notices.
 *
 * The mapping lives only in private fields of this object and dies with it. It is
 * never logged: `JSON.stringify`, `String()` and `util.inspect` of a Pseudonymizer
 * show at most how many placeholders it holds.
 *
 * No collisions with user text: placeholder-shaped text already present in the input
 * (a user who literally typed `<EMAIL_1>`) is itself given a fresh placeholder, so
 * every placeholder the provider sees was issued here, and each restores exactly.
 */
import type { PiiClass } from '../policy/decision.js';
import { classOfPlaceholder, placeholderFor } from './placeholders.js';
import type { PiiCounts } from './redact.js';
import { replaceDetections } from './redact.js';
import { scan, type Detection } from './scanner.js';
import { createStreamUnmasker, restorePlaceholders, type PlaceholderLookup, type StreamUnmasker } from './streamUnmasker.js';

export interface TextMode {
  /**
   * The text is JSON (tool call arguments): values are read and restored in their
   * JSON-escaped form, so a value found in JSON comes back byte for byte, and a value
   * found in plain text is escaped when it is restored inside JSON.
   */
  json?: boolean;
}

interface Original {
  /** The value as plain text. */
  text: string;
  /** The value as it must appear inside a JSON string. */
  json: string;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class Pseudonymizer {
  readonly #placeholderByValue = new Map<string, string>();
  readonly #originals = new Map<string, Original>();
  readonly #prefixes = new Set<string>();
  readonly #issued: Partial<Record<PiiClass, number>> = {};
  readonly #counts: PiiCounts = {};

  /**
   * Replaces every value of `classes` in `text` with its placeholder. Returns the same
   * string when nothing was found. With no classes, returns `text` unchanged.
   */
  mask(text: string, classes: readonly PiiClass[], mode: TextMode = {}): string {
    if (classes.length === 0) return text;
    const found = scan(text, classes, true);
    if (found.length === 0) return text;
    if (mode.json === true) trimEscapes(text, found);
    return replaceDetections(text, found, (d, raw) => {
      if (raw === '') return raw;
      if (d.kind === 'placeholder') return this.#placeholder(classOfPlaceholder(raw)!, raw, mode);
      this.#counts[d.kind] = (this.#counts[d.kind] ?? 0) + 1;
      return this.#placeholder(d.kind, raw, mode);
    });
  }

  /** Restores every placeholder this object issued; anything else is left as it is. */
  unmask(text: string, mode: TextMode = {}): string {
    return restorePlaceholders(text, this.#lookup(mode));
  }

  /** A restorer for one stream of text deltas (or, with `json`, of one tool call's argument deltas). */
  createStreamUnmasker(mode: TextMode = {}): StreamUnmasker {
    return createStreamUnmasker(this.#lookup(mode));
  }

  /** Occurrences masked so far, per class. Class names and counts only. */
  counts(): PiiCounts {
    return { ...this.#counts };
  }

  /** How many distinct placeholders were issued. */
  get size(): number {
    return this.#originals.size;
  }

  toJSON(): string {
    return '[Pseudonymizer]';
  }

  toString(): string {
    return '[Pseudonymizer]';
  }

  [INSPECT](): string {
    return `Pseudonymizer { placeholders: ${this.size} }`;
  }

  #placeholder(cls: PiiClass, raw: string, mode: TextMode): string {
    const original = mode.json === true ? fromJson(raw) : { text: raw, json: toJson(raw) };
    const known = this.#placeholderByValue.get(original.text);
    if (known !== undefined) return known;
    const n = (this.#issued[cls] ?? 0) + 1;
    this.#issued[cls] = n;
    const placeholder = placeholderFor(cls, n);
    this.#placeholderByValue.set(original.text, placeholder);
    this.#originals.set(placeholder, original);
    for (let i = 1; i < placeholder.length; i++) this.#prefixes.add(placeholder.slice(0, i));
    return placeholder;
  }

  #lookup(mode: TextMode): PlaceholderLookup {
    const originals = this.#originals;
    const prefixes = this.#prefixes;
    const json = mode.json === true;
    return {
      restore: (token) => {
        const original = originals.get(token);
        return original === undefined ? undefined : json ? original.json : original.text;
      },
      isPrefix: (tail) => prefixes.has(tail),
    };
  }
}

function toJson(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

function fromJson(raw: string): Original {
  if (!raw.includes('\\')) return { text: raw, json: raw };
  try {
    return { text: JSON.parse(`"${raw}"`) as string, json: raw };
  } catch {
    return { text: raw, json: raw };
  }
}

/**
 * In JSON text a detection must not begin inside an escape sequence (the `n` of `\n`
 * before an email) nor end on a lone backslash; either would leave invalid JSON
 * behind. Moves the edges inward; a detection left empty is replaced by itself.
 */
function trimEscapes(text: string, found: Detection[]): void {
  for (const d of found) {
    if (oddBackslashesBefore(text, d.start)) d.start += text[d.start] === 'u' ? 5 : 1;
    if (d.end > d.start && oddBackslashesBefore(text, d.end)) d.end -= 1;
    if (d.start >= d.end) d.start = d.end;
  }
}

function oddBackslashesBefore(text: string, at: number): boolean {
  let n = 0;
  for (let i = at - 1; i >= 0 && text[i] === '\\'; i--) n++;
  return n % 2 === 1;
}
