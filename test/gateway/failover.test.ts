/**
 * Failover across providers: a 429 with Retry-After on the primary is served by
 * the secondary, every attempt is a child span of the request span, the primary
 * rests until Retry-After has passed, and the retry budget and non-retryable
 * errors are respected.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attemptSpans, openaiClient, spanOf, startTestGateway, type TestGateway } from '../support/gateway.js';
import { anthropicProviderConfig, startMockAnthropic, type MockAnthropic } from '../support/mockAnthropic.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';
import { DEFAULT_WORDS } from '../support/mockUpstream.js';

describe('failover', () => {
  let primary: MockOpenAI;
  let secondary: MockAnthropic;
  let gw: TestGateway;
  beforeAll(async () => {
    [primary, secondary] = await Promise.all([startMockOpenAI(), startMockAnthropic()]);
    gw = await startTestGateway({
      providers: { primary: openaiProviderConfig(primary), secondary: anthropicProviderConfig(secondary) },
      models: {
        chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'secondary', model: 'claude-haiku-4-5' }] },
        budget: { targets: [{ provider: 'primary', model: 'gpt-4o' }, { provider: 'primary', model: 'gpt-4.1' }, { provider: 'secondary', model: 'claude-sonnet-4-5' }] },
      },
      routing: { maxAttempts: 2, maxRetryWaitMs: 0, breaker: { failureThreshold: 100, cooldownMs: 60_000 } },
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

  it('fails over on 429 with Retry-After, records both attempts as child spans, and rests the primary', async () => {
    primary.script({ kind: 'status', status: 429, retryAfter: '1' });
    const client = openaiClient(gw);
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    expect(response.status).toBe(200);
    expect(data.choices[0]?.message.content).toBe(DEFAULT_WORDS.join(' '));
    expect(primary.count()).toBe(1);
    expect(secondary.count()).toBe(1);

    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.attributes).toMatchObject({
      'gatehouse.route.attempts': 2,
      'gatehouse.failover.reason': 'rate_limited',
      'gatehouse.route.target': 'secondary/claude-haiku-4-5',
      'gen_ai.provider.name': 'anthropic',
      'gatehouse.outcome': 'ok',
    });
    const [first, second, ...rest] = attemptSpans(gw, span);
    expect(rest).toEqual([]);
    for (const attempt of [first!, second!]) {
      expect(attempt.kind).toBe(SpanKind.CLIENT);
      expect(attempt.spanContext().traceId).toBe(span.spanContext().traceId);
      expect(attempt.attributes['server.address']).toBe('127.0.0.1');
    }
    expect(first!.attributes).toMatchObject({
      'gatehouse.attempt.number': 1,
      'gatehouse.attempt.outcome': 'failed',
      'gatehouse.attempt.provider': 'primary',
      'gatehouse.failover.reason': 'rate_limited',
      'gatehouse.attempt.retry_after_ms': 1000,
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'http.response.status_code': 429,
      'server.port': Number(new URL(primary.origin).port),
    });
    expect(first!.status.code).toBe(SpanStatusCode.ERROR);
    expect(second!.attributes).toMatchObject({ 'gatehouse.attempt.number': 2, 'gatehouse.attempt.outcome': 'ok', 'gatehouse.attempt.provider': 'secondary', 'gen_ai.request.model': 'claude-haiku-4-5' });
    expect(second!.status.code).not.toBe(SpanStatusCode.ERROR);

    // Within Retry-After, the primary is not called at all, and the span says why it was passed over.
    const during = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'again' }] }).withResponse();
    expect(primary.count()).toBe(1);
    expect(secondary.count()).toBe(2);
    const duringSpan = await spanOf(gw, during.response.headers.get('x-request-id'));
    expect(duringSpan.attributes['gatehouse.route.attempts']).toBe(1);
    expect(duringSpan.events.find((e) => e.name === 'gatehouse.target_skipped')?.attributes).toMatchObject({ 'gatehouse.route.target': 'primary/gpt-4o-mini' });

    // After it, the primary serves again.
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'later' }] });
    expect(primary.count()).toBe(2);
    expect(secondary.count()).toBe(2);
  });

  it('fails over on 500 and 529-style overload, and answers 503 upstream_unavailable when every target fails', async () => {
    primary.script({ kind: 'status', status: 500 });
    secondary.script({ kind: 'status', status: 529 });
    const error = await openaiClient(gw)
      .chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: 'upstream_unavailable' });
    const span = gw.requestSpans().at(-1)!;
    expect(span.attributes).toMatchObject({ 'gatehouse.route.attempts': 2, 'gatehouse.outcome': 'error', 'gatehouse.error.code': 'upstream_unavailable', 'http.response.status_code': 503 });
    expect(String(span.attributes['gatehouse.failover.reason']).split(',').sort()).toEqual(['overloaded', 'server_error']);
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('stops at the per-request attempt budget', async () => {
    primary.always({ kind: 'status', status: 502 });
    const error = await openaiClient(gw)
      .chat.completions.create({ model: 'budget', messages: [{ role: 'user', content: 'hello' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503 });
    expect(primary.count()).toBe(2);
    expect(secondary.count()).toBe(0);
    expect(gw.requestSpans().at(-1)!.attributes['gatehouse.route.attempts']).toBe(2);
  });

  it('answers 503 with Retry-After when every target is rate limited', async () => {
    primary.script({ kind: 'status', status: 429, retryAfter: '1' });
    secondary.script({ kind: 'status', status: 429, retryAfter: '1' });
    const response = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.keys['k-acme']}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect((await response.json()) as unknown).toMatchObject({ error: { code: 'upstream_unavailable' } });
    // Both targets rest now: the next request is refused without calling either.
    const again = await openaiClient(gw).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] }).catch((e: unknown) => e);
    expect(again).toMatchObject({ status: 503, code: 'upstream_unavailable' });
    expect(primary.count() + secondary.count()).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
  });

  it('does not fail over on a client error from the upstream, and passes its status on', async () => {
    primary.script({ kind: 'status', status: 400, message: 'bad things' });
    const error = await openaiClient(gw)
      .chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(secondary.count()).toBe(0);
  });
});
