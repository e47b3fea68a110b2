/**
 * The client's W3C trace context is continued, not replaced: the request span
 * joins the client's trace as a child of the client's span, attempt spans join
 * the same trace, and a malformed traceparent starts a fresh trace instead of
 * failing the request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicClient, attemptSpans, openaiClient, spanOf, startTestGateway, type TestGateway } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

describe('trace context', () => {
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

  it('continues the traceparent and baggage an OpenAI client sends', async () => {
    const client = openaiClient(gw, 'k-acme', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`, baggage: 'gatehouse.agent.parent=planner,session=abc' } });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(span.parentSpanContext?.isRemote).toBe(true);
    const attempts = attemptSpans(gw, span);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.spanContext().traceId).toBe(TRACE_ID);
  });

  it('continues the trace of an Anthropic client too', async () => {
    const client = anthropicClient(gw, 'k-acme', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` } });
    const { response } = await client.messages.create({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
  });

  it('starts a new trace for a request without trace context, or with a malformed one', async () => {
    const variants: Array<Record<string, string>> = [{}, { traceparent: 'not-a-traceparent' }, { baggage: '%%%' }];
    for (const headers of variants) {
      const { response } = await openaiClient(gw, 'k-acme', { headers }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(response.status).toBe(200);
      const span = await spanOf(gw, response.headers.get('x-request-id'));
      expect(span.spanContext().traceId).not.toBe(TRACE_ID);
      expect(span.parentSpanContext).toBeUndefined();
    }
  });
});
