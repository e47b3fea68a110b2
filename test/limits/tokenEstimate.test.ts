import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { text, type ChatRequest } from '../../proxy/canonical.js';
import { estimateRequestTokens, estimateTextTokens, estimateTokens } from '../../proxy/limits/tokenEstimate.js';
import { tokenCounter } from '../../proxy/tokenCount.js';

const request: ChatRequest = {
  model: 'gpt-4o',
  stream: false,
  streamUsage: false,
  maxTokens: 256,
  messages: [
    { role: 'system', content: text('You are a careful assistant.') },
    { role: 'user', content: text('What is an index fund?') },
  ],
};

/** `n` deterministic pseudo-random bytes. */
function bytes(n: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < n; i++) blocks.push(createHash('sha256').update(`sample ${i}`).digest());
  return Buffer.concat(blocks).subarray(0, n);
}

function uuidOf(i: number): string {
  const hex = createHash('sha256').update(`uuid ${i}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

describe('token estimate', () => {
  it('estimates text by character class', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('hello world')).toBe(3); // 10 letters / 4.5 + 1 space / 8, rounded up
    expect(estimateTextTokens('Привет')).toBe(2); // 6 Cyrillic / 3
    expect(estimateTextTokens('你好世界')).toBe(4);
    expect(estimateTextTokens('ab日本')).toBe(3); // ceil(2 / 4.5) + 2
    expect(estimateTextTokens('a'.repeat(16 + 17))).toBe(Math.ceil(16 / 4.5 + 17 / 1.7)); // a dense run
  });

  it('stays within 0.5-1.3x of the o200k count on prose, code, data and non-Latin scripts', async () => {
    const count = await tokenCounter();
    const samples = [
      'The nightly export job failed with a timeout at 02:14. What should I check first? Start with the job log, then the database connection pool.',
      'export function add(a: number, b: number): number {\n  return a + b;\n}\nconst total = [1, 2, 3].reduce(add, 0);',
      JSON.stringify({ tenants: { acme: { limits: { user: { requestsPerMinute: 20, tokensPerMinute: 40000 } }, pii: { redact: ['email', 'us_ssn'] } } } }),
      'Die nächtliche Exportaufgabe ist um 02:14 mit einer Zeitüberschreitung fehlgeschlagen. Was sollte ich zuerst überprüfen?',
      'Ночное задание экспорта завершилось ошибкой тайм-аута в 02:14. Что мне следует проверить в первую очередь?',
      '夜间导出任务在02:14因超时而失败。我应该先检查什么？请给我一个简短的回答，列出最重要的故障排除步骤。',
      // Fixed pseudo-random data (the ratio varies with the bytes: UUIDs 0.51-0.64x over 2,000 draws).
      bytes(600).toString('base64'),
      bytes(400).toString('hex'),
      Array.from({ length: 10 }, (_, i) => uuidOf(i)).join(' '),
    ];
    for (const sample of samples) {
      const ratio = estimateTextTokens(sample) / count(sample);
      expect(ratio, sample).toBeGreaterThanOrEqual(0.5);
      expect(ratio, sample).toBeLessThanOrEqual(1.3);
    }
  });

  it('counts exactly with a given counter', async () => {
    const count = await tokenCounter();
    expect(estimateRequestTokens(request, { countText: count })).toBe(count('You are a careful assistant.') + count('What is an index fund?') + 2 * 3 + 3 + 256);
  });

  it('adds chat framing and the expected output tokens', () => {
    const input = estimateTextTokens('You are a careful assistant.') + estimateTextTokens('What is an index fund?');
    expect(estimateRequestTokens(request)).toBe(input + 2 * 3 + 3 + 256);
  });

  it('expects the configured default output when the request sets no max tokens', () => {
    const { maxTokens: _, ...noMax } = request;
    expect(estimateRequestTokens(noMax, { defaultOutputTokens: 500 }) - estimateRequestTokens({ ...noMax, maxTokens: 0 })).toBe(500);
    expect(estimateTokens('abc', undefined) - estimateTokens('abc', 0)).toBe(1024);
  });

  it('counts images, tool calls and tool definitions', () => {
    const withImage: ChatRequest = { ...request, messages: [{ role: 'user', content: [{ type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } }] }] };
    expect(estimateRequestTokens(withImage)).toBeGreaterThan(765);
    const withTools: ChatRequest = { ...request, tools: [{ name: 'get_quote', description: 'Look up a stock quote', parameters: { type: 'object', properties: { symbol: { type: 'string' } } } }] };
    expect(estimateRequestTokens(withTools)).toBeGreaterThan(estimateRequestTokens(request));
  });

  it('counts long runs without whitespace piece by piece: linear in their length, exact where the tokenizer splits anyway', async () => {
    const count = await tokenCounter();
    const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
    // Chinese has no spaces, but its punctuation splits pre-tokens: cutting there changes nothing.
    const chinese = '夜间导出任务在02:14因超时而失败。我应该先检查什么？请给我一个简短的回答，列出最重要的故障排除步骤。'.repeat(20);
    expect(count(chinese)).toBe(countTokens(chinese));
    // One 2,000-letter pre-token: cut every 200 characters, within 2% of the tokenizer's count.
    const letters = 'qwertyuiopasdfghjklzxcvbnm'.repeat(77);
    expect(Math.abs(count(letters) - countTokens(letters)) / countTokens(letters)).toBeLessThan(0.02);
    // 200,000 of them would take the tokenizer minutes; in pieces it is linear.
    const started = performance.now();
    const long = count(`The quick brown fox. ${'a'.repeat(200_000)} jumps.`);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(long).toBeGreaterThan(200_000 / 100);
  });

  it('treats special-token text in user content as plain text', async () => {
    expect(estimateTokens('ignore <|endoftext|> this', 0)).toBeGreaterThan(3);
    expect((await tokenCounter())('ignore <|endoftext|> this')).toBeGreaterThan(3);
  });

  it('counts embedding inputs without chat framing', () => {
    expect(estimateTokens(['hello world', 'hello world'], 0)).toBe(6);
  });
});
