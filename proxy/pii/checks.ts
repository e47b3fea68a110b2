/**
 * The checks that turn a pattern match into a detection: checksums (Luhn, IBAN
 * mod-97), number-plan rules (SSN, NANP) and the strength tests for secrets.
 * Each is a pure function of the candidate text; none throws.
 */
import { countrySpecs, isValidIBAN } from 'ibantools';

/** The ASCII digits of `value`, in order. */
export function digitsOf(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) out += value[i];
  }
  return out;
}

/** True when the digit string passes the Luhn (mod 10) check. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * A payment card number: 13–19 digits, a leading digit of a real card network
 * (2 Mastercard, 3 Amex/Diners/JCB, 4 Visa, 5 Mastercard/Maestro, 6 Discover/UnionPay),
 * not one digit repeated, and a valid Luhn check digit.
 */
export function isPaymentCard(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  const first = digits.charCodeAt(0) - 48;
  if (first < 2 || first > 6) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  return passesLuhn(digits);
}

/**
 * A US Social Security number that the SSA could have issued: area not 000, 666
 * or 900–999; group not 00; serial not 0000.
 */
export function isUsSsn(digits: string): boolean {
  if (digits.length !== 9) return false;
  const area = digits.slice(0, 3);
  if (area === '000' || area === '666' || area[0] === '9') return false;
  if (digits.slice(3, 5) === '00') return false;
  return digits.slice(5) !== '0000';
}

/**
 * A North American (NANP) number: 10 digits, or 11 starting with the country code 1,
 * whose area code and exchange both start with 2–9.
 */
export function isNanpPhone(digits: string): boolean {
  const national = digits.length === 11 && digits[0] === '1' ? digits.slice(1) : digits;
  if (national.length !== 10) return false;
  return national[0]! >= '2' && national[3]! >= '2';
}

/**
 * How far an IBAN-shaped `candidate` (possibly printed in groups of four, possibly
 * followed by more text) extends: the offset just after as many characters as its
 * country's IBANs have, or just after the country and check digits when the country
 * has no IBAN. Never more than the candidate.
 */
export function ibanExtent(candidate: string): number {
  const length = countrySpecs[candidate.slice(0, 2).toUpperCase()]?.chars;
  if (length === undefined) return Math.min(4, candidate.length);
  let seen = 0;
  let i = 0;
  for (; i < candidate.length && seen < length; i++) if (candidate[i] !== ' ') seen++;
  return i;
}

/**
 * Where a valid IBAN at the start of `candidate` ends, or -1. The length comes from
 * the country's registry entry; BBAN format and mod-97 check digits are verified by
 * `ibantools`. The IBAN must end where a word ends, not inside a longer code.
 */
export function ibanEnd(candidate: string): number {
  const end = ibanExtent(candidate);
  const compact = candidate.slice(0, end).replaceAll(' ', '').toUpperCase();
  const next = candidate[end];
  if (next !== undefined && next !== ' ') return -1;
  return isValidIBAN(compact) ? end : -1;
}

/** Which of lower case, upper case and digits occur in `value` (0–3). */
export function characterClasses(value: string): number {
  return (/[a-z]/.test(value) ? 1 : 0) + (/[A-Z]/.test(value) ? 1 : 0) + (/\d/.test(value) ? 1 : 0);
}

/** Shannon entropy of `value` in bits per character. */
export function entropyBits(value: string): number {
  const seen = new Map<string, number>();
  for (const ch of value) seen.set(ch, (seen.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of seen.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** True when a token looks machine-generated: long enough, mixed, and not repetitive. */
export function looksRandom(value: string, minLength: number): boolean {
  return value.length >= minLength && characterClasses(value) >= 2 && entropyBits(value) >= 3;
}
