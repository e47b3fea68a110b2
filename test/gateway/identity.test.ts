/**
 * Virtual keys and tagging: unknown or missing key 401, a model the key may not
 * use 403, tag headers rejected for a key that does not allow them and recorded
 * for one that does; errors in the caller's wire format; the upstream is never
 * called for a refused request.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicClient, openaiClient, spanOf, startTestGateway, type TestGateway, type TestKey } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';

const KEYS: TestKey[] = [
  { id: 'k-acme', tenant: 'acme', team: 'research', user: 'alice', agent: 'helper', feature: 'chat', allowHeaders: ['user', 'feature'] },
  { id: 'k-globex', tenant: 'globex', team: 'ops', models: ['cheap'] },
];

describe('identity', () => {
  let upstream: MockOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await startMockOpenAI();
    gw = await startTestGateway(
      {
        providers: { openai: openaiProviderConfig(upstream) },
        models: { cheap: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }, premium: { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
      },
      KEYS,
    );
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.reset();
  });

  const chat = { messages: [{ role: 'user' as const, content: 'hi' }] };

  it('records who called on the span', async () => {
    const { response } = await openaiClient(gw).chat.completions.create({ model: 'cheap', ...chat }).withResponse();
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gatehouse.key.id': 'k-acme',
      'gatehouse.tenant.id': 'acme',
      'gatehouse.team.id': 'research',
      'gatehouse.user.id': 'alice',
      'gatehouse.agent.id': 'helper',
      'gatehouse.feature': 'chat',
    });
  });

  it('answers an unknown or missing key with 401 invalid_api_key in each wire', async () => {
    const openaiError = await openaiClient(gw, 'not-a-key').chat.completions.create({ model: 'cheap', ...chat }).catch((e: unknown) => e);
    expect(openaiError).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'authentication_error' });
    const anthropicError = await anthropicClient(gw, 'not-a-key')
      .messages.create({ model: 'cheap', max_tokens: 10, ...chat })
      .catch((e: unknown) => e);
    expect(anthropicError).toMatchObject({ status: 401, errorCode: 'invalid_api_key', type: 'authentication_error' });
    const missing = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'cheap', ...chat }) });
    expect(missing.status).toBe(401);
    expect((await missing.json()) as unknown).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(upstream.count()).toBe(0);
    expect(gw.requestSpans().at(-1)?.attributes).toMatchObject({ 'gatehouse.outcome': 'error', 'gatehouse.error.code': 'invalid_api_key', 'http.response.status_code': 401 });
  });

  it('answers a model the key may not use with 403 model_not_allowed in each wire', async () => {
    const openaiError = await openaiClient(gw, 'k-globex').chat.completions.create({ model: 'premium', ...chat }).catch((e: unknown) => e);
    expect(openaiError).toMatchObject({ status: 403, code: 'model_not_allowed', param: 'model' });
    const anthropicError = await anthropicClient(gw, 'k-globex')
      .messages.create({ model: 'premium', max_tokens: 10, ...chat })
      .catch((e: unknown) => e);
    expect(anthropicError).toMatchObject({ status: 403, errorCode: 'model_not_allowed', type: 'permission_error' });
    expect(upstream.count()).toBe(0);
    expect(gw.requestSpans().at(-1)?.attributes).toMatchObject({ 'gatehouse.tenant.id': 'globex', 'gatehouse.outcome': 'denied', 'gatehouse.error.code': 'model_not_allowed' });
    const allowed = await openaiClient(gw, 'k-globex').chat.completions.create({ model: 'cheap', ...chat });
    expect(allowed.choices[0]?.message.content).toBeTruthy();
  });

  it('lists only the models the key may use', async () => {
    const ids = [];
    for await (const model of openaiClient(gw, 'k-globex').models.list()) ids.push(model.id);
    expect(ids).toEqual(['cheap']);
  });

  it('rejects x-gatehouse-user from a key that does not allow it with 403 header_not_allowed', async () => {
    const client = openaiClient(gw, 'k-globex', { headers: { 'x-gatehouse-user': 'mallory' } });
    const error = await client.chat.completions.create({ model: 'cheap', ...chat }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: 'header_not_allowed', param: 'x-gatehouse-user' });
    const anthropicError = await anthropicClient(gw, 'k-globex', { headers: { 'x-gatehouse-feature': 'x' } })
      .messages.create({ model: 'cheap', max_tokens: 10, ...chat })
      .catch((e: unknown) => e);
    expect(anthropicError).toMatchObject({ status: 403, errorCode: 'header_not_allowed' });
    expect(upstream.count()).toBe(0);
  });

  it('attributes an impersonation attempt to the key, tenant and team, with the user it claimed', async () => {
    const { response } = await openaiClient(gw, 'k-globex', { headers: { 'x-gatehouse-user': 'ceo' } })
      .chat.completions.create({ model: 'cheap', ...chat }).withResponse().catch((e: { headers: Headers }) => ({ response: e }));
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gatehouse.key.id': 'k-globex', 'gatehouse.tenant.id': 'globex', 'gatehouse.team.id': 'ops',
      'gatehouse.user.claimed': 'ceo', 'gatehouse.error.code': 'header_not_allowed', 'gatehouse.outcome': 'error',
    });
    expect(span.attributes['gatehouse.user.id']).toBeUndefined();
  });

  it('records x-gatehouse-user and x-gatehouse-feature from a key that allows them', async () => {
    const client = openaiClient(gw, 'k-acme', { headers: { 'x-gatehouse-user': 'bob', 'x-gatehouse-feature': 'summaries' } });
    const { response } = await client.chat.completions.create({ model: 'premium', ...chat }).withResponse();
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({ 'gatehouse.user.id': 'bob', 'gatehouse.feature': 'summaries', 'gatehouse.tenant.id': 'acme' });
    expect(upstream.last().headers['x-gatehouse-user']).toBeUndefined();
  });
});
