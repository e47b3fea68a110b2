/**
 * Issue 18: PII in unusual spellings is found on the folded text (no format
 * characters, NFKC, Latin look-alikes) and redacted at its original span; and a
 * must-not-redact corpus (order numbers, dates, versions, amounts, times) is
 * left exactly as it was.
 */
import { describe, expect, it } from 'vitest';
import { redact } from '../../proxy/pii/index.js';
import { scan } from '../../proxy/pii/scanner.js';
import type { PiiClass } from '../../proxy/policy/decision.js';

const ALL: PiiClass[] = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'secret'];

/** [text, the exact original substring that must be found, its class]. */
export const MUST_REDACT: Array<[string, string, PiiClass]> = [
  ['card 4111.1111.1111.1111 on file', '4111.1111.1111.1111', 'payment_card'],
  ['card 4111-1111.1111 1111 (mixed)', '4111-1111.1111 1111', 'payment_card'],
  ['card ４１１１ １１１１ １１１１ １１１１ (full-width)', '４１１１ １１１１ １１１１ １１１１', 'payment_card'],
  ['card ４１１１１１１１１１１１１１１１ (full-width, unseparated)', '４１１１１１１１１１１１１１１１', 'payment_card'],
  ['card 4111\u200b1111\u200b1111\u200b1111 (zero-width spaces)', '4111\u200b1111\u200b1111\u200b1111', 'payment_card'],
  ['card 5500\u00ad0000\u00ad0000\u00ad0004 (soft hyphens)', '5500\u00ad0000\u00ad0000\u00ad0004', 'payment_card'],
  ['amex 3782.822463.10005', '3782.822463.10005', 'payment_card'],
  ['write to jöhn.döe@exämple.com today', 'jöhn.döe@exämple.com', 'email'],
  ['write to j\u0430ne@example.com (Cyrillic a)', 'j\u0430ne@example.com', 'email'],
  ['write to bob＠example.com (full-width at)', 'bob＠example.com', 'email'],
  ['write to ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'email'],
  ['write to ali\u200bce@example.com (zero-width)', 'ali\u200bce@example.com', 'email'],
  ['пишите на иван@пример.рф', 'иван@пример.рф', 'email'],
  ['my ssn is 123456789.', '123456789', 'us_ssn'],
  ['SSN: 123456789', '123456789', 'us_ssn'],
  ['social security number 219099999 on the form', '219099999', 'us_ssn'],
  ['123456789 (SSN)', '123456789', 'us_ssn'],
  ['ssn １２３４５６７８９', '１２３４５６７８９', 'us_ssn'],
  ['plain 4111 1111 1111 1111 still', '4111 1111 1111 1111', 'payment_card'],
  ['plain jane.doe@example.com still', 'jane.doe@example.com', 'email'],
  ['plain 078-05-1120 still', '078-05-1120', 'us_ssn'],
  // A removed zero-width character must not glue a value to a letter and hide it (both readings count).
  ['x\u200b4111 1111 1111 1111', '4111 1111 1111 1111', 'payment_card'],
  ['SSN 123-45-6789\u200bx', '123-45-6789', 'us_ssn'],
  ['ssn\u00ad123-45-6789', '123-45-6789', 'us_ssn'],
  ['415-555-2671\u200bext', '415-555-2671', 'phone'],
  // Unicode spaces between the groups; a look-alike digit outside the Basic Multilingual Plane (the span keeps it whole).
  ['card 4111\u00a01111\u00a01111\u00a01111', '4111\u00a01111\u00a01111\u00a01111', 'payment_card'],
  ['card 4111\u202f1111\u20091111\u30001111', '4111\u202f1111\u20091111\u30001111', 'payment_card'],
  ['card 4111 1111 1111 111\u{1F102} ok', '4111 1111 1111 111\u{1F102}', 'payment_card'],
  // Decomposed accents (macOS text), and a script outside the first list.
  ['write to jo\u0308hn.do\u0308e@exa\u0308mple.com', 'jo\u0308hn.do\u0308e@exa\u0308mple.com', 'email'],
  ['อีเมล ผม@ตัวอย่าง.ไทย', 'ผม@ตัวอย่าง.ไทย', 'email'],
];

/** Texts in which nothing may be redacted. */
export const MUST_NOT_REDACT: string[] = [
  'Order 1234.5678.9012.3456 shipped (not a Luhn number).',
  'Order #A-10293, ticket 55012, invoice INV-2024-000123.',
  'Order 123456789 shipped on 2024-09-30.',
  'Tracking number 1Z999AA10123456784 arrives Friday.',
  'Dates: 2024.01.15, 15.01.2024, 01/15/2024, 2024-01-15T09:30:00Z.',
  'Version 1.2.3.4 and build 2024.11.0.1234 are out.',
  'Amounts: $1,234,567.89, €12.345,67, 4,111.11 USD.',
  'The meeting is at 09:30-10:45, room 101, floor 4.',
  'IP 192.168.100.200 and port 8080.',
  'ISBN 978-3-16-148410-0 is on page 42.',
  'Batch 1111-2222-3333-4444 failed QA.',
  'The ratio was 3.1415.9265.3589 in the log.',
  'Ｔｈｅ ｑｕａｒｔｅｒ ｅｎｄｅｄ ｗｉｔｈ １２３ ｏｒｄｅｒｓ.',
  'Café déjà vu at naïve résumé — no address here.',
  'The 9-digit code 987654321 is a confirmation, not an SSN.',
  'Einwohnerzahl: 123456789 (Stand 2024).',
  'Order 123456789 - see classnames for details.',
  'Batch id 123456789 in Lassnig.',
];

describe('PII in unusual spellings', () => {
  for (const [text, value, cls] of MUST_REDACT) {
    it(`finds ${cls} in ${JSON.stringify(text)}`, () => {
      const found = scan(text, ALL).map((d) => [d.kind, text.slice(d.start, d.end)]);
      expect(found).toContainEqual([cls, value]);
      // Redaction replaces exactly that span of the original.
      const { text: redacted } = redact(text, ALL);
      expect(redacted).not.toContain(value);
      expect(redacted.replace(/\[REDACTED_[A-Z_]+\]/g, '')).toBe(text.replace(value, ''));
    });
  }
});

describe('must not redact', () => {
  for (const text of MUST_NOT_REDACT) {
    it(`leaves ${JSON.stringify(text)} unchanged`, () => {
      expect(scan(text, ALL)).toEqual([]);
      expect(redact(text, ALL).text).toBe(text);
    });
  }
});
