/**
 * Every detector, in precedence order: when two could start at the same position,
 * the earlier one wins. Secrets come first (keys contain digits that would otherwise
 * look like numbers), then email, IBAN, card, SSN and phone; the literal-placeholder
 * detector, used only when pseudonymizing, comes before all.
 */
import { countrySpecs } from 'ibantools';
import { caseless, whole, type Detector, type ValueSpan } from './detector.js';
import { digitsOf, ibanEnd, ibanExtent, isNanpPhone, isPaymentCard, isUsSsn } from './checks.js';
import { PLACEHOLDER_SOURCE } from './placeholders.js';
import { SECRET_DETECTORS } from './secrets.js';

/**
 * Letters of addresses in other scripts (RFC 6531 internationalized email), for
 * what the fold (foldedText.ts) leaves non-ASCII: Latin with accents and
 * look-alikes arrive folded to ASCII; the scripts from Greek to Latin Extended
 * Additional (U+0370-U+1FFF: Cyrillic, Armenian, Hebrew, Arabic, the Indic
 * scripts, Thai, Georgian, Ethiopic, …), kana, Han and Hangul stay as they are.
 */
const INTL = '\\u00c0-\\u024f\\u0370-\\u1fff\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uac00-\\ud7af';
const LETTER = `A-Za-z0-9${INTL}`;

const EMAIL: Detector = {
  name: 'email',
  kind: 'email',
  source:
    `(?<![${LETTER}._%+-])[${LETTER}][${LETTER}._%+-]{0,63}@` +
    `(?:[${LETTER}](?:[${LETTER}-]{0,61}[${LETTER}])?\\.)+[A-Za-z${INTL}]{2,24}(?![${LETTER}-])`,
};

/** Countries that issue IBANs, upper or lower case: `(?:AD|ad|AE|ae|…)`. */
const IBAN_COUNTRY = `(?:${Object.entries(countrySpecs)
  .filter(([, spec]) => spec.chars !== undefined)
  .flatMap(([code]) => [code, code.toLowerCase()])
  .join('|')})`;

const IBAN: Detector = {
  name: 'iban',
  kind: 'iban',
  // Country, check digits, then BBAN characters, optionally grouped by single spaces.
  source: `(?<![A-Za-z0-9])${IBAN_COUNTRY}\\d{2}(?: ?[A-Za-z0-9]){11,30}`,
  accept: (match) => {
    const end = ibanEnd(match);
    return end < 0 ? undefined : [0, end];
  },
  rejectedLength: ibanExtent,
};

const CARD: Detector = {
  name: 'payment_card',
  kind: 'payment_card',
  // Unseparated, or in the layouts cards are printed in: 4-4-4-4(-3), 4-4-4-3, 4-6-5, 4-6-4, each gap
  // a space, dash or dot (mixed too); full-width digits and zero-width spaces arrive folded (foldedText.ts).
  // Luhn-checked, so order numbers and dates in the same layouts are left alone.
  source:
    '(?<![\\w.,+-])(?:\\d{13,19}|\\d{4}[ .-]\\d{4}[ .-]\\d{4}[ .-]\\d{3,4}(?:[ .-]\\d{3})?|\\d{4}[ .-]\\d{6}[ .-]\\d{4,5})(?!\\d|[.,]\\d)',
  accept: acceptCard,
};

/** The card number the match starts with; a 16-digit card may be followed by a 3-digit group that is not part of it. */
function acceptCard(match: string): ValueSpan | undefined {
  if (isPaymentCard(digitsOf(match))) return [0, match.length];
  const shorter = match.length - 4;
  if (match.length === 23 && isPaymentCard(digitsOf(match.slice(0, shorter)))) return [0, shorter];
  return undefined;
}

const SSN_KEYWORD = `(?:${caseless('ssn')}|${caseless('social security')}(?: ${caseless('number')})?)`;
const SSN: Detector = {
  name: 'us_ssn',
  kind: 'us_ssn',
  // Written with dashes or spaces; a bare nine-digit number only when "SSN" or "social security" is
  // within a few words before it ("my SSN is 123456789") or right after it ("123456789 (SSN)").
  source: `(?<![\\w-])(?:\\d{3}-\\d{2}-\\d{4}|\\d{3} \\d{2} \\d{4})(?![\\w-]|[.,]\\d)`
    + `|(?<![A-Za-z])${SSN_KEYWORD}[^\\d\\n]{0,24}\\d{9}(?![\\d-]|[.,]\\d)`
    + `|(?<![\\w.,-])\\d{9}(?![\\d-]|[.,]\\d)(?=[^\\d\\n]{0,12}(?<![A-Za-z])${SSN_KEYWORD}(?![A-Za-z]))`,
  accept: (match) => {
    const digits = match.length === 9 || /^\d/.test(match) ? digitsOf(match) : match.slice(-9);
    if (!isUsSsn(digits)) return undefined;
    return /^\d/.test(match) ? [0, match.length] : [match.length - 9, match.length];
  },
};

const PHONE_START = '(?<![\\w+.,/:-])';
const PHONE_END = '(?![\\w/:]|[.,-]\\d)';
/** dd.mm.yyyy, dd-mm-yy and similar, which national numbers could otherwise resemble. */
const DATE_LIKE = /^\d{1,2}[./ -]\d{1,2}[./ -]\d{2,4}$/;

function acceptPhone(min: number, max: number): (match: string) => ValueSpan | undefined {
  return whole((m) => {
    const n = digitsOf(m).length;
    return n >= min && n <= max && !DATE_LIKE.test(m);
  });
}

const PHONE_INTERNATIONAL: Detector = {
  name: 'phone_intl',
  kind: 'phone',
  // +CC then groups, e.g. +44 20 7946 0958, +1 (415) 555-2671, +44 (0)20 7946 0958, or
  // unseparated +4915112345678. Digit groups need a separator (or a closing parenthesis)
  // between them, so a match can be split into groups in one way only.
  source:
    `${PHONE_START}\\+(?:[1-9]\\d{7,14}|[1-9]\\d{0,3}(?:[ .-]?\\(\\d{1,4}\\)|(?:[ .-]|(?<=\\)))\\d{1,6}){1,6})${PHONE_END}`,
  accept: acceptPhone(8, 15),
};

const PHONE_NANP: Detector = {
  name: 'phone_nanp',
  kind: 'phone',
  // (415) 555-2671, 415-555-2671, 415.555.2671, 1-800-555-0199. Space-only groups are
  // left out: "250 300 1000" is more often a list of numbers than a phone.
  source:
    `${PHONE_START}(?:1[ .-])?(?:\\(\\d{3}\\)[ ]?\\d{3}[ .-]\\d{4}|\\d{3}-\\d{3}-\\d{4}|\\d{3}\\.\\d{3}\\.\\d{4})${PHONE_END}`,
  accept: whole((m) => isNanpPhone(digitsOf(m))),
};

const PHONE_NATIONAL: Detector = {
  name: 'phone_national',
  kind: 'phone',
  // Trunk-prefixed European numbers with at least one separator: 020 7946 0958,
  // 06 12 34 56 78, (030) 901820, 0044 20 7946 0958 (00 = international prefix).
  source:
    `${PHONE_START}(?:0\\d{1,4}(?:[ .-]\\d{2,8}){1,5}|\\(0\\d{1,4}\\)[ ]?\\d{2,8}(?:[ .-]\\d{2,8}){0,4})${PHONE_END}`,
  accept: (match) => {
    const digits = digitsOf(match);
    const international = digits.startsWith('00');
    const [min, max] = international ? [10, 17] : [9, 12];
    if (digits.length < min || digits.length > max || DATE_LIKE.test(match)) return undefined;
    return [0, match.length];
  },
};

/** A placeholder-shaped token already present in the input (see pseudonymizer.ts). */
export const LITERAL_PLACEHOLDER: Detector = { name: 'placeholder', kind: 'placeholder', source: PLACEHOLDER_SOURCE };

/** All PII detectors in precedence order. */
export const PII_DETECTORS: readonly Detector[] = [
  ...SECRET_DETECTORS,
  EMAIL,
  IBAN,
  CARD,
  SSN,
  PHONE_INTERNATIONAL,
  PHONE_NANP,
  PHONE_NATIONAL,
];
