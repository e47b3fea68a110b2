/**
 * Irreversible redaction: each detected value becomes a fixed marker such as
 * `[REDACTED_EMAIL]`. The counts say what was found, never the values.
 */
import type { PiiClass } from '../policy/decision.js';
import { redactionMarker } from './placeholders.js';
import { scan, type Detection } from './scanner.js';

/** Occurrences per class; classes not found are absent. */
export type PiiCounts = Partial<Record<PiiClass, number>>;

export interface Redaction {
  text: string;
  counts: PiiCounts;
}

/** Finds every value of `classes` in `text`, in order, without overlaps. */
export function findPii(text: string, classes: readonly PiiClass[]): Array<{ cls: PiiClass; start: number; end: number }> {
  const out: Array<{ cls: PiiClass; start: number; end: number }> = [];
  for (const d of scan(text, classes)) if (d.kind !== 'placeholder') out.push({ cls: d.kind, start: d.start, end: d.end });
  return out;
}

/**
 * Replaces every value of `classes` in `text` with its class's marker. Returns the
 * same string (no copy) when nothing was found. `counts` accumulates into an existing
 * record when one is passed.
 */
export function redact(text: string, classes: readonly PiiClass[], counts: PiiCounts = {}): Redaction {
  const found = scan(text, classes);
  if (found.length === 0) return { text, counts };
  return { text: replaceDetections(text, found, (d) => {
    const cls = d.kind as PiiClass;
    counts[cls] = (counts[cls] ?? 0) + 1;
    return redactionMarker(cls);
  }), counts };
}

/** `text` with each detection replaced by what `replacement` returns for it. */
export function replaceDetections(
  text: string,
  found: readonly Detection[],
  replacement: (d: Detection, value: string) => string,
): string {
  let out = '';
  let last = 0;
  for (const d of found) {
    out += text.slice(last, d.start) + replacement(d, text.slice(d.start, d.end));
    last = d.end;
  }
  return out + text.slice(last);
}

/** Adds `more` into `into` and returns `into`. */
export function addCounts(into: PiiCounts, more: PiiCounts): PiiCounts {
  for (const [cls, n] of Object.entries(more) as Array<[PiiClass, number]>) into[cls] = (into[cls] ?? 0) + n;
  return into;
}
