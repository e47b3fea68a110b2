/**
 * A client that goes away: the upstream request is aborted (the mock sees its
 * connection closed before it answered), the span's outcome is `cancelled`, and
 * the process stays healthy.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectHealthy, openaiClient, anthropicClient, startTestGateway, waitFor, type TestGateway } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';

describe('client disconnect', () => {
  let upstream: MockOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await startMockOpenAI();
    gw = await startTestGateway({
      providers: { openai: openaiProviderConfig(upstream) },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.reset();
  });
  afterEach(async () => {
    upstream.reset();
    await expectHealthy(gw, 'gpt-4o-mini');
  });

  /** The span of the one cancelled request since `before` spans existed. */
  const cancelledSpan = (before: number) =>
    waitFor(() => gw.requestSpans().slice(before).find((span) => span.attributes['gatehouse.outcome'] === 'cancelled'), 3_000, 'a cancelled span');

  it('aborts the upstream request of a whole answer when the client leaves while waiting', async () => {
    upstream.script({ kind: 'answer', delayMs: 5_000 });
    const before = gw.requestSpans().length;
    const controller = new AbortController();
    const pending = openaiClient(gw)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'slow' }] }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await waitFor(() => upstream.count() === 1);
    const started = Date.now();
    controller.abort();
    await pending;
    expect(await upstream.last().settled).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(1_000);
    const span = await cancelledSpan(before);
    expect(span.attributes).toMatchObject({ 'gatehouse.error.code': 'cancelled', 'gatehouse.route.attempts': 1 });
  });

  it('aborts the upstream request of a stream when the client leaves before the first event', async () => {
    upstream.script({ kind: 'answer', delayMs: 5_000 });
    const before = gw.requestSpans().length;
    const controller = new AbortController();
    const pending = anthropicClient(gw)
      .messages.create({ model: 'gpt-4o-mini', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'slow' }] }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await waitFor(() => upstream.count() === 1);
    controller.abort();
    await pending;
    expect(await upstream.last().settled).toBe('aborted');
    const span = await cancelledSpan(before);
    expect(span.attributes['gatehouse.client.wire']).toBe('anthropic');
  });

  it('aborts the upstream stream when the client leaves mid-stream', async () => {
    upstream.script({ kind: 'answer', chunkDelayMs: 50, answer: { words: Array.from({ length: 30 }, () => 'word') } });
    const before = gw.requestSpans().length;
    const stream = await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'long' }] });
    let read = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content && ++read === 2) break;
    }
    expect(await upstream.last().settled).toBe('aborted');
    const span = await cancelledSpan(before);
    expect(span.attributes['gatehouse.usage.estimated']).toBe(true);
    expect(span.attributes['http.response.status_code']).toBe(200);
  });
});
