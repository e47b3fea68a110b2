/**
 * A stream may fail over only before its first byte reached the client. A primary
 * that cuts (or sends garbage) before any event is replaced by the secondary; a
 * cut after the first byte ends the client's stream with the wire's error event,
 * which the official SDKs raise as an error.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicClient, attemptSpans, expectHealthy, openaiClient, spanOf, startTestGateway, waitFor, type TestGateway } from '../support/gateway.js';
import { anthropicProviderConfig, startMockAnthropic, type MockAnthropic } from '../support/mockAnthropic.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';
import { DEFAULT_WORDS } from '../support/mockUpstream.js';

describe('stream failover', () => {
  let primary: MockOpenAI;
  let secondary: MockAnthropic;
  let gw: TestGateway;
  beforeAll(async () => {
    [primary, secondary] = await Promise.all([startMockOpenAI(), startMockAnthropic()]);
    gw = await startTestGateway({
      providers: { primary: openaiProviderConfig(primary), secondary: anthropicProviderConfig(secondary) },
      models: {
        chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'secondary', model: 'claude-haiku-4-5' }] },
        solo: { targets: [{ provider: 'secondary', model: 'claude-haiku-4-5' }] },
      },
      routing: { maxRetryWaitMs: 0, breaker: { failureThreshold: 100, cooldownMs: 60_000 } },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await Promise.all([primary.stop(), secondary.stop()]);
  });
  beforeEach(() => {
    primary.reset();
    secondary.reset();
  });

  async function readAll(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<string> {
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    return text;
  }

  it('fails over when the primary cuts the stream before its first event', async () => {
    primary.script({ kind: 'cut', afterChunks: 0 });
    const { data: stream, response } = await openaiClient(gw).chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(await readAll(stream)).toBe(DEFAULT_WORDS.join(' '));
    expect(primary.count()).toBe(1);
    expect(secondary.count()).toBe(1);
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({ 'gatehouse.outcome': 'ok', 'gatehouse.route.attempts': 2, 'gatehouse.failover.reason': 'stream_cut', 'gatehouse.route.target': 'secondary/claude-haiku-4-5' });
    const [first, second] = attemptSpans(gw, span);
    expect(first?.attributes).toMatchObject({ 'gatehouse.attempt.outcome': 'failed', 'gatehouse.failover.reason': 'stream_cut' });
    expect(second?.attributes).toMatchObject({ 'gatehouse.attempt.outcome': 'ok' });
  });

  it('fails over when the primary streams garbage before its first event', async () => {
    primary.script({ kind: 'garbage' });
    const { data: stream } = await openaiClient(gw).chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(await readAll(stream)).toBe(DEFAULT_WORDS.join(' '));
    expect(gw.requestSpans().at(-1)?.attributes['gatehouse.failover.reason']).toBe('bad_response');
  });

  it('ends an OpenAI stream cut after its first byte with an error the SDK throws', async () => {
    primary.script({ kind: 'cut', afterChunks: 3 });
    const { data: stream, response } = await openaiClient(gw).chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ code: 'upstream_error' });
    expect(text).toBe(DEFAULT_WORDS.slice(0, 2).join(' '));
    expect(secondary.count()).toBe(0);
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({ 'gatehouse.outcome': 'error', 'gatehouse.error.code': 'upstream_error', 'gatehouse.route.attempts': 1, 'gatehouse.usage.estimated': true });
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThanOrEqual(2);
    await expectHealthy(gw, 'chat');
  });

  it('ends an Anthropic stream cut after its first byte with an error event the SDK throws', async () => {
    secondary.script({ kind: 'cut', afterChunks: 5 });
    const stream = anthropicClient(gw).messages.stream({ model: 'solo', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({ errorCode: 'upstream_error', type: 'api_error' });
    expect(text.length).toBeGreaterThan(0);
    const span = await waitFor(() => gw.requestSpans().find((s) => s.attributes['gatehouse.error.code'] === 'upstream_error' && s.attributes['gatehouse.client.wire'] === 'anthropic'));
    expect(span.attributes['gatehouse.outcome']).toBe('error');
    await expectHealthy(gw, 'solo');
  });

  it('retries the only target within the attempt budget, then answers 502 upstream_error', async () => {
    secondary.always({ kind: 'cut', afterChunks: 0 });
    const error = await openaiClient(gw)
      .chat.completions.create({ model: 'solo', stream: true, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(secondary.count()).toBe(3);
    expect(gw.requestSpans().at(-1)?.attributes['gatehouse.route.attempts']).toBe(3);
  });
});
