/**
 * Cost on the request span: exact for whole and streamed answers (from the
 * upstream's usage), estimated but still costed for a stream the client aborts
 * (and the upstream request is aborted too), and an unknown price flagged rather
 * than costed at 0 as if known.
 */
import type { Attributes } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Price } from '../../proxy/config/schema.js';
import { DEFAULT_PRICES } from '../../proxy/cost/defaultPrices.js';
import { formatUnitsShort, picoPerToken } from '../../proxy/cost/money.js';
import { anthropicClient, openaiClient, spanOf, startTestGateway, waitFor, type TestGateway } from '../support/gateway.js';
import { anthropicProviderConfig, startMockAnthropic, type MockAnthropic } from '../support/mockAnthropic.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';
import { DEFAULT_WORDS } from '../support/mockUpstream.js';

const CONFIGURED: Price = { input: 3, output: 12, cachedInput: 1.5 };
const LONG = Array.from({ length: 40 }, (_, i) => DEFAULT_WORDS[i % DEFAULT_WORDS.length]!);

/** The price-table formula, from the tokens recorded on the span, as the exact decimal the span must carry. */
function expectedCost(attributes: Attributes, price: Price): string {
  const input = BigInt(Number(attributes['gen_ai.usage.input_tokens']));
  const cached = BigInt(Number(attributes['gen_ai.usage.cache_read.input_tokens'] ?? 0));
  const output = BigInt(Number(attributes['gen_ai.usage.output_tokens']));
  const pico = (input - cached) * picoPerToken(price.input) + cached * picoPerToken(price.cachedInput ?? price.input) + output * picoPerToken(price.output);
  return formatUnitsShort(pico);
}

describe('cost', () => {
  let openai: MockOpenAI;
  let anthropic: MockAnthropic;
  let gw: TestGateway;
  beforeAll(async () => {
    [openai, anthropic] = await Promise.all([startMockOpenAI(), startMockAnthropic()]);
    gw = await startTestGateway({
      providers: { openai: openaiProviderConfig(openai), anthropic: anthropicProviderConfig(anthropic), local: openaiProviderConfig(openai, 'openai-compatible') },
      models: {
        'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        priced: { targets: [{ provider: 'openai', model: 'house-model' }] },
        claude: { targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
        mystery: { targets: [{ provider: 'local', model: 'mystery-model-7b' }] },
      },
      prices: { 'house-model': CONFIGURED },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await Promise.all([openai.stop(), anthropic.stop()]);
  });
  beforeEach(() => {
    openai.reset();
    anthropic.reset();
  });

  it('costs a whole answer exactly, with cached input at the cached price', async () => {
    openai.answerWith({ inputTokens: 1_200, cachedInputTokens: 200 });
    const { response } = await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 1_200,
      'gen_ai.usage.cache_read.input_tokens': 200,
      'gen_ai.usage.output_tokens': DEFAULT_WORDS.length,
      'gatehouse.usage.estimated': false,
      'gatehouse.cost.price_known': true,
    });
    expect(span.attributes['gatehouse.cost.usd']).toBe(expectedCost(span.attributes, DEFAULT_PRICES['gpt-4o-mini']!));
    expect(Number(span.attributes['gatehouse.cost.usd'])).toBeGreaterThan(0);
  });

  it('uses a price from the config', async () => {
    openai.answerWith({ inputTokens: 500 });
    const { response } = await openaiClient(gw).chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes['gatehouse.cost.usd']).toBe(expectedCost(span.attributes, CONFIGURED));
  });

  it('costs a streamed answer exactly as a whole one', async () => {
    openai.answerWith({ inputTokens: 1_200, cachedInputTokens: 200 });
    const { data: stream, response } = await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    for await (const chunk of stream) void chunk;
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 1_200, 'gen_ai.usage.output_tokens': DEFAULT_WORDS.length, 'gatehouse.usage.estimated': false });
    expect(span.attributes['gatehouse.cost.usd']).toBe(expectedCost(span.attributes, DEFAULT_PRICES['gpt-4o-mini']!));
  });

  it('costs an OpenAI stream the client aborts for the tokens produced, and aborts the upstream request', async () => {
    openai.script({ kind: 'answer', chunkDelayMs: 25, answer: { words: LONG, outputTokens: LONG.length } });
    const { data: stream, response } = await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'tell me a story' }] }).withResponse();
    let read = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) read++;
      if (read === 3) break;
    }
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(await openai.last().settled).toBe('aborted');
    expect(span.attributes).toMatchObject({ 'gatehouse.outcome': 'cancelled', 'gatehouse.usage.estimated': true, 'gatehouse.cost.price_known': true });
    const output = Number(span.attributes['gen_ai.usage.output_tokens']);
    expect(output).toBeGreaterThanOrEqual(read);
    expect(output).toBeLessThan(LONG.length);
    expect(Number(span.attributes['gen_ai.usage.input_tokens'])).toBeGreaterThan(0);
    expect(span.attributes['gatehouse.cost.usd']).toBe(expectedCost(span.attributes, DEFAULT_PRICES['gpt-4o-mini']!));
    expect(openai.last().chunksSent).toBeLessThan(LONG.length);
  });

  it('costs an aborted Anthropic stream with the input tokens from message_start', async () => {
    anthropic.script({ kind: 'answer', chunkDelayMs: 25, answer: { words: LONG, outputTokens: LONG.length, inputTokens: 321 } });
    const stream = anthropicClient(gw).messages.stream({ model: 'claude', max_tokens: 500, messages: [{ role: 'user', content: 'tell me a story' }] });
    let read = 0;
    await new Promise<void>((resolve) => {
      stream.on('text', () => {
        if (++read === 3) {
          stream.abort();
          resolve();
        }
      });
    });
    await stream.done().catch(() => undefined);
    expect(await anthropic.last().settled).toBe('aborted');
    const span = await waitFor(() => gw.requestSpans().find((s) => s.attributes['gatehouse.outcome'] === 'cancelled' && s.attributes['gen_ai.provider.name'] === 'anthropic'));
    expect(span.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 321, 'gatehouse.usage.estimated': true });
    const output = Number(span.attributes['gen_ai.usage.output_tokens']);
    expect(output).toBeGreaterThanOrEqual(read);
    expect(output).toBeLessThan(LONG.length);
    expect(span.attributes['gatehouse.cost.usd']).toBe(expectedCost(span.attributes, DEFAULT_PRICES['claude-haiku-4-5']!));
  });

  it('counts an OpenAI answer without usage with the tokenizer, flags it estimated, and still tells the client', async () => {
    openai.answerWith({ omitUsage: true });
    const { data, response } = await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] }).withResponse();
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({ 'gatehouse.usage.estimated': true, 'gatehouse.route.attempts': 1 });
    expect(Number(span.attributes['gen_ai.usage.output_tokens'])).toBeGreaterThan(0);
    expect(Number(span.attributes['gen_ai.usage.input_tokens'])).toBeGreaterThan(0);
    expect(span.attributes['gatehouse.cost.usd']).toBe(expectedCost(span.attributes, DEFAULT_PRICES['gpt-4o-mini']!));
    expect(data.usage?.completion_tokens).toBe(span.attributes['gen_ai.usage.output_tokens']);
    expect(openai.count()).toBe(1);
  });

  it('never retries an Anthropic answer that lacks usage: one upstream call, 200, usage counted and flagged', async () => {
    anthropic.answerWith({ omitUsage: true });
    const { data, response } = await anthropicClient(gw).messages.create({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hello there' }] }).withResponse();
    expect(response.status).toBe(200);
    expect(anthropic.count()).toBe(1);
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({ 'gatehouse.usage.estimated': true, 'gatehouse.route.attempts': 1, 'gatehouse.outcome': 'ok' });
    expect(data.usage.output_tokens).toBe(span.attributes['gen_ai.usage.output_tokens']);
    expect(Number(data.usage.output_tokens)).toBeGreaterThan(1);
  });

  it('counts an Anthropic stream whose message_delta has no usage, instead of recording 1 output token', async () => {
    anthropic.answerWith({ omitUsage: true });
    const stream = anthropicClient(gw).messages.stream({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hello there' }] });
    const final = await stream.finalMessage();
    const span = await waitFor(() => gw.requestSpans().find((s) => s.attributes['gen_ai.response.id'] === final.id));
    expect(span.attributes['gatehouse.usage.estimated']).toBe(true);
    expect(Number(span.attributes['gen_ai.usage.output_tokens'])).toBeGreaterThanOrEqual(DEFAULT_WORDS.length - 2);
    expect(final.usage.output_tokens).toBe(span.attributes['gen_ai.usage.output_tokens']);
  });

  it('counts an OpenAI stream without a usage chunk and flags it estimated', async () => {
    openai.answerWith({ omitUsage: true });
    const { data: stream, response } = await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    let usage: { completion_tokens: number } | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes['gatehouse.usage.estimated']).toBe(true);
    expect(usage?.completion_tokens).toBe(span.attributes['gen_ai.usage.output_tokens']);
  });

  it('flags a model with no known price instead of costing it at 0 as if known', async () => {
    const { response } = await openaiClient(gw).chat.completions.create({ model: 'mystery', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes['gatehouse.cost.price_known']).toBe(false);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(DEFAULT_WORDS.length);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const costLines = metrics.split('\n').filter((line) => line.startsWith('gatehouse_cost') && line.includes('mystery'));
    expect(costLines).toEqual([]);
  });
});
