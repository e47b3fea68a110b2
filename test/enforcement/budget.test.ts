/**
 * A budget stopping an agent mid-day: the agent's calls are costed from the price
 * table and counted against its USD/day budget; once spending has reached it, the
 * next call gets 429 `budget_exceeded` in the caller's own wire format, and the
 * rest of the tenant is not affected.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicClient, openaiClient, spanOf, type TestGateway } from '../support/gateway.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startEnforcedGateway } from './enforcedGateway.js';

const AGENT_USD_PER_DAY = 0.05;

describe('an agent budget', () => {
  let fixture: PolicyFixture;
  let gw: TestGateway;
  beforeAll(async () => {
    fixture = await createPolicyFixture({
      tenants: {
        'fin-co': tenantSettings({
          agents: { rebalancer: { budgets: { agent: { usdPerDay: AGENT_USD_PER_DAY } } } },
        }),
      },
    });
    gw = await startEnforcedGateway({
      fixture,
      keys: [
        { id: 'rebalancer', tenant: 'fin-co', team: 'ops', agent: 'rebalancer' },
        { id: 'reporter', tenant: 'fin-co', team: 'ops', agent: 'reporter' },
      ],
      // $0.001 per token: each call costs a few cents, so the budget runs out after a few calls.
      prices: { 'gpt-4o-mini': { input: 1000, output: 1000 }, 'claude-haiku-4-5': { input: 1000, output: 1000 } },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await fixture?.cleanup();
  });

  it('admits calls until the spend reaches the budget, then refuses with budget_exceeded', async () => {
    const client = openaiClient(gw, 'rebalancer');
    const costs: number[] = [];
    let refusal: InstanceType<typeof OpenAI.APIError> | undefined;
    for (let call = 0; call < 20 && refusal === undefined; call++) {
      try {
        const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `rebalance step ${call}` }] }).withResponse();
        const span = await spanOf(gw, response.headers.get('x-request-id'));
        costs.push(Number(span.attributes['gatehouse.cost.usd']));
      } catch (error) {
        if (!(error instanceof OpenAI.APIError)) throw error;
        refusal = error;
      }
    }
    expect(refusal, 'the budget never stopped the agent').toBeDefined();
    expect(costs.length).toBeGreaterThanOrEqual(2);
    // Every admitted call started below the budget; the last one crossed it.
    const spent = costs.reduce((sum, cost) => sum + cost, 0);
    expect(spent).toBeGreaterThanOrEqual(AGENT_USD_PER_DAY);
    expect(spent - costs.at(-1)!).toBeLessThan(AGENT_USD_PER_DAY);

    expect(refusal!.status).toBe(429);
    expect(refusal!.code).toBe('budget_exceeded');
    expect(refusal!.type).toBe('insufficient_quota');
    const retryAfter = Number(refusal!.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const span = await spanOf(gw, refusal!.headers?.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gatehouse.agent.id': 'rebalancer',
      'gatehouse.policy.decision': 'allow',
      'gatehouse.limit.scope': 'agent',
      'gatehouse.outcome': 'rate_limited',
      'gatehouse.error.code': 'budget_exceeded',
      'http.response.status_code': 429,
      'gatehouse.route.attempts': 0,
    });
    expect(span.attributes['gatehouse.policy.revision']).toMatch(/^[0-9a-f]{64}$/);
    expect(span.attributes['gatehouse.cost.usd']).toBeUndefined();
  });

  it('refuses the agent on the Anthropic wire too, in its own error shape', async () => {
    const error = await anthropicClient(gw, 'rebalancer')
      .messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'one more step' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const apiError = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(apiError.status).toBe(429);
    expect(apiError.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', code: 'budget_exceeded' } });
    expect(Number(apiError.headers?.get('retry-after'))).toBeGreaterThan(0);
    const span = await spanOf(gw, apiError.headers?.get('x-request-id'));
    expect(span.attributes).toMatchObject({ 'gatehouse.client.wire': 'anthropic', 'gatehouse.error.code': 'budget_exceeded', 'gatehouse.limit.scope': 'agent' });
  });

  it('leaves the tenant\'s other agents running', async () => {
    const completion = await openaiClient(gw, 'reporter').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'daily report' }] });
    expect(completion.choices[0]?.message.content).toBeTruthy();
  });
});
