/**
 * No route bypasses enforcement: /v1/messages, /v1/chat/completions (whole and
 * streamed) and /v1/embeddings all count against the same per-user limit, and
 * each refuses in its own wire format once it is used up.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicClient, openaiClient, spanOf, type TestGateway } from '../support/gateway.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startEnforcedGateway } from './enforcedGateway.js';

const USER_RPM = 4;

describe('every model route counts against the same per-user limit', () => {
  let fixture: PolicyFixture;
  let gw: TestGateway;
  beforeAll(async () => {
    fixture = await createPolicyFixture({
      tenants: { south: tenantSettings({ limits: { tenant: { requestsPerMinute: 1000 }, user: { requestsPerMinute: USER_RPM } } }) },
    });
    gw = await startEnforcedGateway({ fixture, keys: [{ id: 'south', tenant: 'south', user: 'u1' }] });
  });
  afterAll(async () => {
    await gw?.stop();
    await fixture?.cleanup();
  });

  const ask = [{ role: 'user' as const, content: 'hello' }];

  function calls(openai: OpenAI, anthropic: Anthropic): Array<{ route: string; run: () => Promise<unknown> }> {
    return [
      { route: '/v1/messages', run: () => anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: ask }) },
      { route: '/v1/chat/completions', run: () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: ask }) },
      {
        route: '/v1/chat/completions',
        run: async () => {
          const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: ask, stream: true });
          let text = '';
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
          return text;
        },
      },
      { route: '/v1/embeddings', run: () => openai.embeddings.create({ model: 'text-embedding-3-small', input: ['hello'] }) },
    ];
  }

  it('admits one call per route up to the limit, then refuses every route with rate_limited', async () => {
    const openai = openaiClient(gw, 'south');
    const anthropic = anthropicClient(gw, 'south');
    const routes = calls(openai, anthropic);
    expect(routes).toHaveLength(USER_RPM);
    for (const { run } of routes) await expect(run()).resolves.toBeTruthy();
    const sim = gw.simulated('sim');
    const callsBefore = sim.calls;

    for (const { route, run } of routes) {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (route === '/v1/messages') {
        expect(error).toBeInstanceOf(Anthropic.RateLimitError);
        const apiError = error as InstanceType<typeof Anthropic.RateLimitError>;
        expect(apiError.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', code: 'rate_limited' } });
        expect(apiError.headers?.get('x-ratelimit-limit-requests')).toBe(String(USER_RPM));
        expect(Number(apiError.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
        await expectLimitedSpan(gw, apiError.headers?.get('x-request-id'), route);
      } else {
        expect(error).toBeInstanceOf(OpenAI.RateLimitError);
        const apiError = error as InstanceType<typeof OpenAI.RateLimitError>;
        expect(apiError.code).toBe('rate_limited');
        expect(apiError.headers.get('x-ratelimit-limit-requests')).toBe(String(USER_RPM));
        expect(apiError.headers.get('x-ratelimit-remaining-requests')).toBe('0');
        expect(Number(apiError.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        await expectLimitedSpan(gw, apiError.headers.get('x-request-id'), route);
      }
    }
    expect(sim.calls).toBe(callsBefore);
  });
});

async function expectLimitedSpan(gw: TestGateway, requestId: string | null | undefined, route: string): Promise<void> {
  const span = await spanOf(gw, requestId);
  expect(span.attributes).toMatchObject({
    'http.route': route,
    'gatehouse.policy.decision': 'allow',
    'gatehouse.limit.scope': 'user',
    'gatehouse.error.code': 'rate_limited',
    'gatehouse.outcome': 'rate_limited',
    'http.response.status_code': 429,
  });
  expect(span.attributes['gatehouse.policy.revision']).toMatch(/^[0-9a-f]{64}$/);
}
