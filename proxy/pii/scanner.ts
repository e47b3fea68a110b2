/**
 * One pass over a text for the chosen classes. The detectors of those classes are
 * joined into one regex (compiled once per class set, then cached), so the text is
 * walked once whatever the number of classes. Cheap pre-checks drop detectors that
 * cannot match (no `@`, no digit, no `<`), and texts too short to hold anything
 * return at once.
 */
import type { PiiClass } from '../policy/decision.js';
import type { DetectionKind, Detector } from './detector.js';
import { LITERAL_PLACEHOLDER, PII_DETECTORS } from './detectors.js';
import { foldForScan } from './foldedText.js';

/** One detection: a value of `kind` at text[start, end). Matches never overlap. */
export interface Detection {
  kind: DetectionKind;
  start: number;
  end: number;
}

interface CompiledScan {
  readonly combined: RegExp;
  readonly detectors: readonly Detector[];
  /** One sticky regex per detector, to retry the next detectors where one was rejected. */
  readonly sticky: readonly RegExp[];
}

/** Shortest text that can hold any detectable value (`a@b.co`, `<SSN_1>`). */
const MIN_LENGTH = 6;
const DIGIT = /\d/;
const NEEDS_DIGIT: ReadonlySet<DetectionKind> = new Set(['phone', 'payment_card', 'iban', 'us_ssn']);
const cache = new Map<number, CompiledScan | null>();

function compile(mask: number, all: readonly Detector[]): CompiledScan | null {
  const detectors = all.filter((_, i) => (mask & (1 << i)) !== 0);
  if (detectors.length === 0) return null;
  const source = detectors.map((d) => `(?<${d.name}>${d.source})`).join('|');
  return {
    combined: new RegExp(source, 'g'),
    detectors,
    sticky: detectors.map((d) => new RegExp(d.source, 'y')),
  };
}

const ALL: readonly Detector[] = [LITERAL_PLACEHOLDER, ...PII_DETECTORS];

/** Bit i set = ALL[i] may match this text. */
function applicableMask(text: string, classes: readonly PiiClass[], placeholders: boolean): number {
  const hasAt = text.includes('@');
  const hasDigit = DIGIT.test(text);
  const hasAngle = placeholders && text.includes('<');
  let mask = 0;
  for (let i = 0; i < ALL.length; i++) {
    const kind = ALL[i]!.kind;
    if (kind === 'placeholder') {
      if (hasAngle) mask |= 1 << i;
      continue;
    }
    if (!classes.includes(kind)) continue;
    if (kind === 'email' && !hasAt) continue;
    if (NEEDS_DIGIT.has(kind) && !hasDigit) continue;
    mask |= 1 << i;
  }
  return mask;
}

/**
 * Finds every value of the chosen classes in `text`, left to right, without overlaps.
 * With `placeholders`, placeholder-shaped tokens the text already contains (such as a
 * literal `<EMAIL_1>`) are reported too, as kind `placeholder`. Text with non-ASCII
 * characters is scanned in its folded form (foldedText.ts: no format characters,
 * NFKC, Latin look-alikes), and each detection is the span of the original text it
 * came from.
 */
export function scan(text: string, classes: readonly PiiClass[], placeholders = false): Detection[] {
  if (text.length < MIN_LENGTH || classes.length === 0) return [];
  const folded = foldForScan(text);
  if (folded === undefined) return scanAscii(text, classes, placeholders);
  const found = scanAscii(folded.text, classes, placeholders);
  const { starts, ends } = folded;
  if (starts !== undefined && ends !== undefined) {
    for (const d of found) {
      d.end = ends[d.end - 1]!;
      d.start = starts[d.start]!;
    }
  }
  // The text as written too: a removed zero-width character can glue a value to a letter beside it, where the
  // detectors' edge checks then refuse it; what either reading finds is redacted.
  return merge(found, scanAscii(text, classes, placeholders));
}

/** Both lists, in order, without overlaps: where two overlap, the one that starts first (then the longer) stays. */
function merge(a: Detection[], b: Detection[]): Detection[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const all = [...a, ...b].sort((x, y) => x.start - y.start || y.end - x.end);
  const out: Detection[] = [];
  for (const d of all) {
    const last = out[out.length - 1];
    if (last !== undefined && d.start < last.end) continue;
    out.push(d);
  }
  return out;
}

function scanAscii(text: string, classes: readonly PiiClass[], placeholders: boolean): Detection[] {
  if (text.length < MIN_LENGTH) return [];
  const mask = applicableMask(text, classes, placeholders);
  if (mask === 0) return [];
  let compiled = cache.get(mask);
  if (compiled === undefined) {
    compiled = compile(mask, ALL);
    cache.set(mask, compiled);
  }
  if (compiled === null) return [];
  return run(text, compiled);
}

function run(text: string, { combined, detectors, sticky }: CompiledScan): Detection[] {
  const found: Detection[] = [];
  combined.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = combined.exec(text)) !== null) {
    const at = m.index;
    const groups = m.groups!;
    let first = 0;
    while (groups[detectors[first]!.name] === undefined) first++;
    const skip = detectors[first]!.rejectedLength;
    let next = at + (skip === undefined ? 1 : Math.max(skip(m[0]), 1));
    // The first detector that matched here may reject its match (bad checksum, …);
    // later detectors then get their chance at the same position.
    for (let i = first; i < detectors.length; i++) {
      let match: string;
      if (i === first) {
        match = m[0];
      } else {
        const re = sticky[i]!;
        re.lastIndex = at;
        const other = re.exec(text);
        if (other === null) continue;
        match = other[0];
      }
      const detector = detectors[i]!;
      const span = detector.accept === undefined ? ([0, match.length] as const) : detector.accept(match);
      if (span === undefined) continue;
      found.push({ kind: detector.kind, start: at + span[0], end: at + span[1] });
      next = at + Math.max(span[1], 1);
      break;
    }
    combined.lastIndex = next;
  }
  return found;
}
