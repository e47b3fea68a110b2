/**
 * Micro-benchmark of PII scanning: `node --import tsx bench/pii.ts [--baseline DIR]`.
 * Prints the median time to redact 10 KB texts with all classes enabled, and to
 * pseudonymize and restore a realistic prompt. With `--baseline DIR` (another
 * checkout, e.g. `git worktree add /tmp/old <commit>` plus a node_modules
 * symlink), the same cases run against that checkout's proxy/pii in the same
 * process, interleaved round by round, and each row gets the ratio.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { PiiClass } from '../proxy/policy/decision.js';
import { interleaved } from './lib/interleaved.js';

const { values } = parseArgs({ options: { baseline: { type: 'string' } } });
type PiiModule = typeof import('../proxy/pii/index.js');
const current = (await import('../proxy/pii/index.js')) as PiiModule;
const baseline = values.baseline === undefined ? undefined : (await import(pathToFileURL(join(values.baseline, 'proxy', 'pii', 'index.ts')).href)) as PiiModule;

const ALL: PiiClass[] = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'secret'];

function repeatTo(bytes: number, paragraph: string): string {
  return paragraph.repeat(Math.ceil(bytes / paragraph.length)).slice(0, bytes);
}

const prose = repeatTo(10_240, 'The quarterly review covers revenue, churn and the roadmap for the platform team, and what security expects. ');
const numbers = repeatTo(10_240, 'In Q3 we shipped 14 features; p95 fell from 240 ms to 180 ms on 2024-09-30 (order #A-10293, v2.4.1). ');
const pii = repeatTo(10_240, 'Contact alice@example.com or +44 20 7946 0958, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00. ');
// Non-ASCII text: accents alone are scanned as they are; digits in other forms and non-ASCII addresses take the folded path.
const accented = repeatTo(10_240, 'Le comité a révisé le budget de l’équipe; die Prüfung für Zürich ist fällig, señor Muñoz — déjà vu. ');
const spellings = repeatTo(10_240, 'Karte ４１１１ １１１１ １１１１ １１１１, mail jöhn.döe@exämple.com, card 4111.1111.1111.1111, ssn is 123456789. ');
const prompt = 'Please email alice@example.com the statement for DE89 3704 0044 0532 0130 00 and call +1 (415) 555-2671.';

const cases: Array<[string, (m: PiiModule) => unknown]> = [
  ['redact 10 KB prose, no PII', (m) => m.redact(prose, ALL)],
  ['redact 10 KB with numbers, no PII', (m) => m.redact(numbers, ALL)],
  ['redact 10 KB dense PII', (m) => m.redact(pii, ALL)],
  ['redact 10 KB accented prose, no PII', (m) => m.redact(accented, ALL)],
  ['redact 10 KB unusual spellings (folded)', (m) => m.redact(spellings, ALL)],
  ['pseudonymize + unmask a prompt', (m) => {
    const p = new m.Pseudonymizer();
    return p.unmask(p.mask(prompt, ALL));
  }],
];

for (const [name, run] of cases) {
  const runs = baseline ? [() => run(baseline), () => run(current)] : [() => run(current)];
  const [first, second] = await interleaved(runs, 6_000, 5);
  if (baseline) console.log(`${name.padEnd(42)} baseline p50 ${first!.toFixed(1)} µs  now ${second!.toFixed(1)} µs  (${(second! / first!).toFixed(2)}x)`);
  else console.log(`${name.padEnd(42)} p50 ${first!.toFixed(1)} µs`);
}
