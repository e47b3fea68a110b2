import { describe, expect, it } from 'vitest';
import { findPii } from '../../proxy/pii/index.js';
import type { PiiClass } from '../../proxy/policy/decision.js';
import { fakeSecrets } from './fixtures.js';

/** The values of `cls` found in `text`. */
function found(text: string, cls: PiiClass): string[] {
  return findPii(text, [cls]).map((m) => text.slice(m.start, m.end));
}

/** Each value is found, alone and inside a sentence, as exactly itself. */
function expectDetected(cls: PiiClass, values: string[]): void {
  for (const value of values) {
    expect(found(value, cls), value).toEqual([value]);
    expect(found(`Details: ${value}, thanks.`, cls), value).toEqual([value]);
  }
}

function expectIgnored(cls: PiiClass, texts: string[]): void {
  for (const text of texts) expect(found(`see ${text} here`, cls), text).toEqual([]);
}

describe('email', () => {
  it('finds addresses', () => {
    expectDetected('email', ['alice@example.com', 'first.last+tag@mail.example.co.uk', 'x_y-z%1@sub-domain.io']);
  });
  it('ignores near misses', () => {
    expectIgnored('email', ['alice@localhost', '@handle', 'a@b', 'user at example dot com']);
  });
});

describe('phone', () => {
  it('finds international, US and European numbers', () => {
    expectDetected('phone', [
      '+44 20 7946 0958',
      '+1 (415) 555-2671',
      '+44 (0)20 7946 0958',
      '+4915112345678',
      '+33 1 42 68 53 00',
      '(415) 555-2671',
      '415-555-2671',
      '415.555.2671',
      '1-800-555-0199',
      '020 7946 0958',
      '06 12 34 56 78',
      '(030) 901820',
      '0044 20 7946 0958',
    ]);
  });
  it('ignores dates, versions, order ids, plain numbers and invalid NANP numbers', () => {
    expectIgnored('phone', [
      '2024-01-15', '15.01.2024', '01/15/2024', '01-02-2024', '12345678', '4155552671',
      'ORD-2024-000123', 'order #100-200-3000', '192.168.1.1', 'v1.2.3', '10:30', '09:00-17:00',
      '123-456-7890', '415-123-4567', '250 300 1000', '0.50', '+12',
    ]);
  });
});

describe('payment card', () => {
  it('finds Luhn-valid numbers, plain or grouped', () => {
    expectDetected('payment_card', [
      '4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111',
      '5555 5555 5555 4444', '378282246310005', '3782 822463 10005', '6011111111111117',
    ]);
  });
  it('ignores bad checksums, wrong lengths, odd groupings and other numbers', () => {
    expectIgnored('payment_card', [
      '4111 1111 1111 1112', '411111111111', '41111111111111111111', '1234567890123452',
      '0000 0000 0000 0000', '37 0400 4405 3201 3000', '3.14159265358979',
    ]);
  });
  it('finds a card followed by its expiry date', () => {
    expect(found('card 4111 1111 1111 1111 12/27', 'payment_card')).toEqual(['4111 1111 1111 1111']);
  });
});

describe('IBAN', () => {
  it('finds valid IBANs in electronic and printed form', () => {
    expectDetected('iban', [
      'DE89370400440532013000', 'DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432',
      'GB82 WEST 1234 5698 7654 32', 'FR1420041010050500013M02606', 'NL91ABNA0417164300', 'de89370400440532013000',
    ]);
  });
  it('stops at the country length', () => {
    expect(found('IBAN DE89 3704 0044 0532 0130 00 AND MORE', 'iban')).toEqual(['DE89 3704 0044 0532 0130 00']);
  });
  it('ignores bad check digits, wrong lengths and unknown countries', () => {
    expectIgnored('iban', ['DE88370400440532013000', 'DE89 3704 0044 0532 0130 01', 'DE8937040044053201300', 'DE893704004405320130001', 'XX89370400440532013000']);
  });
  it('does not report the inside of a mistyped IBAN as another class', () => {
    expect(findPii('IBAN DE89 3704 0044 0532 0130 01', ['iban', 'payment_card', 'phone'])).toEqual([]);
  });
});

describe('US SSN', () => {
  it('finds issuable numbers with separators or after "SSN"', () => {
    expectDetected('us_ssn', ['078-05-1120', '219 09 9999', '123-45-6789']);
    expect(found('SSN: 219099999', 'us_ssn')).toEqual(['219099999']);
    expect(found('social security number 219099999', 'us_ssn')).toEqual(['219099999']);
  });
  it('ignores invalid ranges and plain nine-digit numbers', () => {
    expectIgnored('us_ssn', ['000-12-3456', '666-12-3456', '900-12-3456', '999-12-3456', '123-00-4567', '123-45-0000', '219099999', '2024-01-15', '12-345-6789']);
  });
});

describe('secrets', () => {
  it('finds API keys by their prefixes', () => {
    expectDetected('secret', [
      fakeSecrets.openai, fakeSecrets.openaiProject, fakeSecrets.anthropic, fakeSecrets.aws,
      fakeSecrets.github, fakeSecrets.githubPat, fakeSecrets.slack, fakeSecrets.google, fakeSecrets.stripe, fakeSecrets.jwt,
    ]);
  });
  it('finds a private key PEM block whole', () => {
    expect(found(`key:\n${fakeSecrets.pem}\nend`, 'secret')).toEqual([fakeSecrets.pem]);
  });
  it('finds the token of a bearer header, not the word Bearer', () => {
    expect(found(`Authorization: Bearer ${fakeSecrets.bearer}`, 'secret')).toEqual([fakeSecrets.bearer]);
  });
  it('finds values of password and key assignments', () => {
    expect(found('db_password=hunter22 ok', 'secret')).toEqual(['hunter22']);
    expect(found('{"api_key": "a8f5f167f44f4964e6c998dee827110c"}', 'secret')).toEqual(['a8f5f167f44f4964e6c998dee827110c']);
    expect(found("client_secret: 'Zx9Qw8Er7Ty6Ui5Op4'", 'secret')).toEqual(['Zx9Qw8Er7Ty6Ui5Op4']);
    expect(found('PASSWORD := "correct horse battery"', 'secret')).toEqual(['correct horse battery']);
  });
  it('ignores look-alikes', () => {
    expectIgnored('secret', [
      'sk-learn-is-a-python-library-name',
      // A word that merely contains 'sk-' (joined at run time so secret scanners do not flag this file).
      ['ta', 'sk', '-1234567890abcdefghij'].join(''),
      'max_tokens=1000', 'password: string',
      'api_key: your_api_key_here', 'token: abcdefgh', 'password=${DB_PASSWORD}', 'Bearer authentication',
      'tokenizer: cl100k_base', 'AKIA1234', 'eyJhbGciOi',
    ]);
  });
});

describe('one pass over several classes', () => {
  it('reports matches in order without overlaps', () => {
    const text = `Mail a@b.io, call +44 20 7946 0958, card 4111 1111 1111 1111, key ${fakeSecrets.aws}`;
    const matches = findPii(text, ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'secret']);
    expect(matches.map((m) => m.cls)).toEqual(['email', 'phone', 'payment_card', 'secret']);
    for (let i = 1; i < matches.length; i++) expect(matches[i]!.start).toBeGreaterThanOrEqual(matches[i - 1]!.end);
  });
  it('finds only the chosen classes', () => {
    expect(findPii('a@b.io 4111 1111 1111 1111', ['payment_card']).map((m) => m.cls)).toEqual(['payment_card']);
    expect(findPii('a@b.io 4111 1111 1111 1111', [])).toEqual([]);
  });
});
