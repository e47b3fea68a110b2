/**
 * The finance guardrail, end to end: an upstream that answers with a specific
 * investment recommendation. A whole answer is replaced by the policy's safe
 * message; a streamed answer ends with the wire's error event before the
 * recommendation reaches the client in full.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicClient, openaiClient, spanOf, type TestGateway } from '../support/gateway.js';
import { createPolicyFixture, REPO_ROOT, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEnforcedGateway } from './enforcedGateway.js';
import { receivedText, startScriptedUpstream, type ScriptedUpstream } from './scriptedUpstream.js';

const ADVICE = 'Thanks for asking. Based on your goals, you should buy 500 shares of ACME before the earnings call. It has strong momentum.';
const OFFENDING = 'you should buy 500 shares of ACME';
const BENIGN = 'Bond yields rose this quarter on inflation data. Diversification across maturities reduces rate risk.';
const REPLACEMENT = (JSON.parse(readFileSync(join(REPO_ROOT, 'policies', 'data', 'finance.json'), 'utf8')) as { finance: { replacements: Record<string, string> } }).finance.replacements
  .investment_recommendation;

/** Word-sized chunks, as a model streams them. */
function words(text: string): string[] {
  return text.split(/(?=\s)/);
}

describe('the finance guardrail', () => {
  let fixture: PolicyFixture;
  let upstream: ScriptedUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    fixture = await createPolicyFixture({
      tenants: {
        wealth: tenantSettings({ packs: { finance: { investment_recommendation: true, promissory_statement: true } } }),
        retail: tenantSettings({}),
      },
    });
    upstream = await startScriptedUpstream((body) => words(receivedText(body).includes('what should I buy') ? ADVICE : BENIGN));
    gw = await startEnforcedGateway({ fixture, upstream, keys: [{ id: 'advisor', tenant: 'wealth', team: 'advisory', user: 'advisor-7' }, { id: 'shopper', tenant: 'retail', user: 'shopper-1' }] });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.stop();
    await fixture?.cleanup();
  });

  const ask = [{ role: 'user' as const, content: 'I have $50k, what should I buy?' }];

  it('replaces a whole recommendation with the safe message (OpenAI)', async () => {
    const { data, response } = await openaiClient(gw, 'advisor').chat.completions.create({ model: 'gpt-4o-mini', messages: ask }).withResponse();
    expect(response.status).toBe(200);
    expect(data.choices[0]?.message.content).toBe(REPLACEMENT);
    expect(data.choices[0]?.finish_reason).toBe('content_filter');
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gatehouse.policy.decision': 'allow',
      'gatehouse.policy.response_decision': 'block',
      'gatehouse.policy.response_code': 'investment_recommendation',
      'gatehouse.outcome': 'blocked',
      'http.response.status_code': 200,
    });
    expect(span.attributes['gatehouse.policy.response_reasons']).toEqual([expect.stringMatching(/investment recommendation/)]);
    expect(span.attributes['gatehouse.policy.revision']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('replaces a whole recommendation with the safe message (Anthropic)', async () => {
    const message = await anthropicClient(gw, 'advisor').messages.create({ model: 'gpt-4o-mini', max_tokens: 200, messages: ask });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: REPLACEMENT })]);
    expect(message.stop_reason).toBe('refusal');
  });

  it('ends an OpenAI stream with the error event before the recommendation is out', async () => {
    const stream = await openaiClient(gw, 'advisor').chat.completions.create({ model: 'gpt-4o-mini', messages: ask, stream: true });
    let received = '';
    const error = await (async () => {
      for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('policy_denied');
    expect(received).not.toContain(OFFENDING);
    expect(received).not.toContain('ACME');
    const span = await waitForBlocked(gw);
    expect(span.attributes).toMatchObject({
      'gatehouse.client.wire': 'openai',
      'gen_ai.request.stream': true,
      'gatehouse.policy.response_decision': 'block',
      'gatehouse.policy.response_code': 'investment_recommendation',
      'gatehouse.error.code': 'policy_denied',
      'gatehouse.outcome': 'blocked',
      'gen_ai.response.finish_reasons': ['content_filter'],
      'http.response.status_code': 200,
    });
    expect(span.attributes['gatehouse.policy.response_reasons']).toEqual([expect.stringMatching(/investment recommendation/)]);
  });

  it('ends an Anthropic stream with the error event before the recommendation is out', async () => {
    const stream = anthropicClient(gw, 'advisor').messages.stream({ model: 'gpt-4o-mini', max_tokens: 200, messages: ask });
    let received = '';
    stream.on('text', (delta) => (received += delta));
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(JSON.stringify((error as InstanceType<typeof Anthropic.APIError>).error)).toContain('policy_denied');
    expect(received).not.toContain(OFFENDING);
    const span = await waitForBlocked(gw);
    expect(span.attributes).toMatchObject({ 'gatehouse.client.wire': 'anthropic', 'gatehouse.policy.response_decision': 'block', 'gatehouse.outcome': 'blocked' });
  });

  it('lets a benign answer through, streamed and whole', async () => {
    const client = openaiClient(gw, 'advisor');
    const whole = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How did bonds do?' }] });
    expect(whole.choices[0]?.message.content).toBe(BENIGN);
    let streamed = '';
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How did bonds do?' }], stream: true });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(BENIGN);
    const span = gw.requestSpans().at(-1)!;
    expect(span.attributes).toMatchObject({ 'gatehouse.policy.response_decision': 'allow', 'gatehouse.outcome': 'ok' });
  });

  it('does not evaluate answers for a tenant with no response rule, and records not_inspected', async () => {
    const client = openaiClient(gw, 'shopper');
    const whole = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask });
    expect(whole.choices[0]?.message.content).toBe(ADVICE);
    expect(gw.requestSpans().at(-1)!.attributes).toMatchObject({ 'gatehouse.policy.response_decision': 'not_inspected', 'gatehouse.outcome': 'ok' });
    let streamed = '';
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask, stream: true });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(ADVICE);
    expect(gw.requestSpans().at(-1)!.attributes).toMatchObject({ 'gatehouse.policy.response_decision': 'not_inspected', 'gatehouse.outcome': 'ok', 'gen_ai.request.stream': true });
  });
});

/** The latest request span, once the blocked stream's span has ended. */
async function waitForBlocked(gw: TestGateway) {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const span = gw.requestSpans().at(-1);
    if (span?.attributes['gen_ai.request.stream'] === true && span.attributes['gatehouse.outcome'] === 'blocked') return span;
    if (Date.now() > deadline) throw new Error(`no blocked stream span: ${JSON.stringify(span?.attributes)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
