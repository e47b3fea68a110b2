/**
 * What the trust hardening costs per request (`npm run bench:trust`), each as a
 * ratio against its baseline measured in the same run:
 *  - body checks: UTF-8 validation + JSON.parse + the nesting / lone-surrogate
 *    walk, against JSON.parse of the same bytes alone (typical 1 KB and 16 KB
 *    chat bodies, and one with a \ud83d\ude00-style escape, which turns the string check on);
 *  - exact cost: BigInt pico-USD and its decimal text, against the float formula;
 *  - collector: one batch of 100 spans through the authenticated receiver and the
 *    one-key-per-record de-duplication, records/s against the same batch before
 *    (measured by `npm run bench` on the collector; see BENCHMARKS.md).
 */
import { isUtf8 } from 'node:buffer';
import { assertBoundedJson } from '../proxy/wire/jsonBounds.js';
import { PriceTable } from '../proxy/cost/priceTable.js';
import { DEFAULT_PRICES } from '../proxy/cost/defaultPrices.js';

function body(messages: number, escape = false): Buffer {
  const content = (i: number) => `${escape ? 'smile \\ud83d\\ude00 ' : ''}Message ${i}: summarise the quarterly allocation for portfolio ${i} in three lines, with the fees.`;
  const text = JSON.stringify({
    model: 'gpt-4o-mini', max_tokens: 512, temperature: 0.2, stream: false,
    messages: Array.from({ length: messages }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'x' })),
    tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { id: { type: 'string' }, depth: { type: 'object', properties: { a: { type: 'integer' } } } } } } }],
  }).replace(/"content":"x"/g, () => `"content":${JSON.stringify('@')}`);
  let i = 0;
  return Buffer.from(text.replace(/"@"/g, () => `"${content(i++)}"`));
}

function measure(name: string, run: () => unknown, iterations = 20_000): number {
  for (let i = 0; i < 2_000; i++) run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  const p50 = times[Math.floor(0.5 * (times.length - 1))]!;
  console.log(`${name.padEnd(58)} p50 ${p50.toFixed(2)} µs  p99 ${times[Math.floor(0.99 * (times.length - 1))]!.toFixed(2)} µs`);
  return p50;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const rows: string[] = [];
for (const [label, bytes] of [['1 KB chat body', body(6)], ['16 KB chat body', body(110)], ['1 KB body with \\ud83d escapes', body(6, true)]] as const) {
  const baseline = measure(`${label}: JSON.parse only (baseline)`, () => JSON.parse(bytes.toString('utf8')));
  const checked = measure(`${label}: isUtf8 + JSON.parse + bounds walk`, () => {
    if (!isUtf8(bytes)) throw new Error('not utf8');
    const text = bytes.toString('utf8');
    const parsed: unknown = JSON.parse(text);
    assertBoundedJson(parsed, SURROGATE_ESCAPE.test(text));
    return parsed;
  });
  rows.push(`| ${label} (${(bytes.length / 1024).toFixed(1)} KB) | ${baseline.toFixed(2)} µs | ${checked.toFixed(2)} µs | ${(checked / baseline).toFixed(2)}x (+${(checked - baseline).toFixed(2)} µs) |`);
}

const price = DEFAULT_PRICES['gpt-4o-mini']!;
const table = new PriceTable();
const usage = { inputTokens: 1_234, outputTokens: 456, cachedInputTokens: 200, cacheWriteTokens: 0 };
const floatCost = measure('cost: float formula (baseline)', () => ((usage.inputTokens - usage.cachedInputTokens) * price.input + usage.cachedInputTokens * (price.cachedInput ?? price.input) + usage.outputTokens * price.output) / 1e6, 200_000);
const exactCost = measure('cost: exact pico-USD + decimal text (PriceTable.costOf)', () => table.costOf(['gpt-4o-mini'], usage), 200_000);
rows.push(`| cost of one call | ${floatCost.toFixed(2)} µs | ${exactCost.toFixed(2)} µs | ${(exactCost / Math.max(floatCost, 0.01)).toFixed(1)}x (+${(exactCost - floatCost).toFixed(2)} µs) |`);

console.log('\n| stage | baseline p50 | with the check p50 | ratio |\n|---|---|---|---|');
for (const row of rows) console.log(row);
