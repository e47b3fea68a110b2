import { describe, expect, it } from 'vitest';
import { Pseudonymizer, redact } from '../../proxy/pii/index.js';
import type { PiiClass } from '../../proxy/policy/decision.js';

const ALL: PiiClass[] = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'secret'];
const PROSE =
  'The quarterly review covers revenue, churn and the roadmap for the platform team. We discussed how the gateway ' +
  'enforces limits per tenant, why budgets matter, and what the security group expects before launch. ';
const WITH_NUMBERS =
  'In Q3 we shipped 14 features across 3 teams; p95 latency fell from 240 ms to 180 ms on 2024-09-30, ' +
  'release 2.4.1 fixed 27 bugs (order #A-10293, ticket 55012), and 1,250 users joined at 09:30. ';

function tenKilobytes(paragraph: string): string {
  return paragraph.repeat(Math.ceil(10_240 / paragraph.length)).slice(0, 10_240);
}

/** Median microseconds of `run` over `n` calls, after a warm-up. */
function medianMicros(run: () => void, n = 300, warmUp = 200): number {
  for (let i = 0; i < warmUp; i++) run();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

describe('performance sanity', () => {
  for (const [name, paragraph] of [['prose', PROSE], ['prose with numbers and dates', WITH_NUMBERS]] as const) {
    it(`scans 10 KB of ${name} without PII in well under a millisecond`, () => {
      const text = tenKilobytes(paragraph);
      expect(redact(text, ALL).counts).toEqual({});
      const micros = medianMicros(() => redact(text, ALL));
      console.log(`pii: 10 KB ${name}, all classes: median ${micros.toFixed(1)} µs`);
      expect(micros).toBeLessThan(1000);
    });
  }

  it('stays linear on inputs built to make regexes backtrack', () => {
    const hostile = [
      ('+' + '1'.repeat(40) + ' ').repeat(250),
      '+1 2 3 4 5 6 7 8 9 '.repeat(500),
      '1 '.repeat(5120),
      '01 23 45 67 89 '.repeat(680),
      'a.b-c@d-e.f-g.h-i.'.repeat(560),
      'DE89 3704 0044 0532 0130 0'.repeat(400),
      ('sk-' + 'a'.repeat(40) + ' ').repeat(230),
      '-----BEGIN RSA PRIVATE KEY-----'.repeat(330),
    ];
    for (const text of hostile) {
      const micros = medianMicros(() => redact(text, ALL), 5, 2);
      expect(micros, text.slice(0, 30)).toBeLessThan(20_000);
    }
  });

  it('passes stream deltas without "<" through at negligible cost', () => {
    const p = new Pseudonymizer();
    p.mask('alice@example.com', ALL);
    const unmasker = p.createStreamUnmasker();
    const micros = medianMicros(() => unmasker.push('a typical token delta '), 2000);
    expect(micros).toBeLessThan(50);
  });
});
