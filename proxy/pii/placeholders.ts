/**
 * The text that replaces a detected value: a fixed marker when redacting
 * (`[REDACTED_EMAIL]`), a numbered placeholder when pseudonymizing (`<EMAIL_1>`).
 *
 * Placeholders are short, upper-case, angle-bracketed tags, a shape models copy back
 * verbatim. They contain exactly one `<` (their first character), which is what lets
 * a stream unmasker hold back only the tail that starts at the last `<`.
 */
import type { PiiClass } from '../policy/decision.js';

/** Every PII class, in the order detections take precedence when they overlap. */
export const PII_CLASSES: readonly PiiClass[] = ['secret', 'email', 'iban', 'payment_card', 'us_ssn', 'phone'];

const PLACEHOLDER_NAME: Record<PiiClass, string> = {
  email: 'EMAIL',
  phone: 'PHONE',
  payment_card: 'CARD',
  iban: 'IBAN',
  us_ssn: 'SSN',
  secret: 'SECRET',
};

const REDACTION_MARKER: Record<PiiClass, string> = {
  email: '[REDACTED_EMAIL]',
  phone: '[REDACTED_PHONE]',
  payment_card: '[REDACTED_PAYMENT_CARD]',
  iban: '[REDACTED_IBAN]',
  us_ssn: '[REDACTED_US_SSN]',
  secret: '[REDACTED_SECRET]',
};

/** The marker that replaces a redacted value of `cls`. */
export function redactionMarker(cls: PiiClass): string {
  return REDACTION_MARKER[cls];
}

/** The `n`-th placeholder of `cls`, e.g. `<EMAIL_1>`. */
export function placeholderFor(cls: PiiClass, n: number): string {
  return `<${PLACEHOLDER_NAME[cls]}_${n}>`;
}

const NAMES = Object.values(PLACEHOLDER_NAME).join('|');

/** Regex source of any placeholder shape, issued or not. */
export const PLACEHOLDER_SOURCE = `<(?:${NAMES})_[1-9]\\d{0,8}>`;

/** Matches every placeholder-shaped token in a text (global; reset lastIndex or use with replace). */
export const PLACEHOLDER_PATTERN = new RegExp(PLACEHOLDER_SOURCE, 'g');

const CLASS_BY_NAME = new Map<string, PiiClass>(
  Object.entries(PLACEHOLDER_NAME).map(([cls, name]) => [name, cls as PiiClass]),
);

/** The class a placeholder-shaped token names, e.g. `<CARD_3>` → `payment_card`. */
export function classOfPlaceholder(token: string): PiiClass | undefined {
  return CLASS_BY_NAME.get(token.slice(1, token.lastIndexOf('_')));
}
