/**
 * The gateway's own provider key refused upstream (401) is the gateway's fault,
 * not the caller's: another target serves, or the caller gets 502
 * `upstream_error`, never a 401 that blames their key. And an unknown caller is
 * refused before the gateway reads their body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spanOf, startTestGateway, type TestGateway } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';

describe('upstream authentication', () => {
  let upstream: MockOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await startMockOpenAI();
    gw = await startTestGateway({
      providers: {
        misconfigured: { ...openaiProviderConfig(upstream), apiKey: 'sk-wrong-provider-key-000000000000' },
        good: openaiProviderConfig(upstream),
        sim: { type: 'simulated' },
      },
      models: {
        'only-bad': { targets: [{ provider: 'misconfigured', model: 'gpt-4o-mini' }] },
        'bad-then-good': { targets: [{ provider: 'misconfigured', model: 'gpt-4o-mini' }, { provider: 'good', model: 'gpt-4o-mini' }] },
      },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.stop();
  });

  const post = (model: string, key = gw.keys['k-acme']!, body?: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body ?? JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('answers 502 upstream_error when the only target refuses the provider key', async () => {
    const response = await post('only-bad');
    expect(response.status).toBe(502);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('upstream_error');
    expect(body.error.message).not.toContain('sk-wrong-provider-key');
  });

  it('fails over to the next target when the first refuses the provider key', async () => {
    const response = await post('bad-then-good');
    expect(response.status).toBe(200);
    const span = await spanOf(gw, response.headers.get('x-request-id')!);
    expect(span.attributes['gatehouse.route.attempts']).toBe(2);
    expect(span.attributes['gatehouse.failover.reason']).toBe('upstream_auth');
  });

  it('refuses an unknown key with 401 before reading a malformed body', async () => {
    const response = await post('only-bad', 'not-a-key', '{"model": ');
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });
});
