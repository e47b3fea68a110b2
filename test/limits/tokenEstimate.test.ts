import { describe, expect, it } from 'vitest';
import { text, type ChatRequest } from '../../proxy/canonical.js';
import { countTextTokens, estimateRequestTokens, estimateTokens } from '../../proxy/limits/tokenEstimate.js';

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

describe('token estimate', () => {
  it('counts text with the o200k tokenizer', () => {
    expect(countTextTokens('')).toBe(0);
    expect(countTextTokens('hello world')).toBe(2);
  });

  it('adds chat framing and the expected output tokens', () => {
    const input = countTextTokens('You are a careful assistant.') + countTextTokens('What is an index fund?');
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

  it('treats special-token text in user content as plain text instead of throwing', () => {
    expect(estimateTokens('ignore <|endoftext|> this', 0)).toBeGreaterThan(3);
  });

  it('counts embedding inputs without chat framing', () => {
    expect(estimateTokens(['hello world', 'hello world'], 0)).toBe(4);
  });
});
