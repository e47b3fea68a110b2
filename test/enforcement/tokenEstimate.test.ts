/**
 * The token estimate sizes reservations; it may run high on some scripts (about
 * 1.25x on Chinese). A request the estimate puts past a tokens/min limit is
 * counted exactly before it is refused as one that can never fit: it is admitted
 * when its real size fits, and refused when it does not.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { text } from '../../proxy/canonical.js';
import { estimateRequestTokens } from '../../proxy/limits/tokenEstimate.js';
import { tokenCounter } from '../../proxy/tokenCount.js';
import { openaiClient, type TestGateway } from '../support/gateway.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startEnforcedGateway } from './enforcedGateway.js';

const PROMPT = '夜间导出任务在02:14因超时而失败。我应该先检查什么？请给我一个简短的回答，列出最重要的故障排除步骤。'.repeat(20);
const MAX_TOKENS = 16;

describe('a tokens/min limit near the estimate', () => {
  let fixture: PolicyFixture;
  let gw: TestGateway;
  let estimated: number;
  let exact: number;
  beforeAll(async () => {
    const request = { model: 'gpt-4o-mini', stream: false, streamUsage: false, maxTokens: MAX_TOKENS, messages: [{ role: 'user' as const, content: text(PROMPT) }] };
    estimated = estimateRequestTokens(request);
    exact = estimateRequestTokens(request, { countText: await tokenCounter() });
    // Between the two: the estimate alone would call the request one that never fits.
    const limit = Math.floor((estimated + exact) / 2);
    fixture = await createPolicyFixture({
      tenants: {
        roomy: tenantSettings({ limits: { tenant: { requestsPerMinute: 100, tokensPerMinute: limit } } }),
        tight: tenantSettings({ limits: { tenant: { requestsPerMinute: 100, tokensPerMinute: exact - 1 } } }),
      },
    });
    gw = await startEnforcedGateway({ fixture, keys: [{ id: 'roomy', tenant: 'roomy' }, { id: 'tight', tenant: 'tight' }] });
  });
  afterAll(async () => {
    await gw?.stop();
    await fixture?.cleanup();
  });

  it('runs high on Chinese, so the limit sits between the estimate and the exact count', () => {
    expect(estimated).toBeGreaterThan(exact);
  });

  it('admits a request whose exact count fits, though its estimate does not', async () => {
    const { response } = await openaiClient(gw, 'roomy').chat.completions.create({ model: 'gpt-4o-mini', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: PROMPT }] }).withResponse();
    expect(response.status).toBe(200);
  });

  it('refuses with rate_limited when the exact count does not fit either', async () => {
    const error = await openaiClient(gw, 'tight').chat.completions.create({ model: 'gpt-4o-mini', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: PROMPT }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('rate_limited');
  });
});
