/**
 * Fail closed: when the policy cannot decide, or the shared limit store cannot be
 * reached under `failMode: closed`, nothing reaches the provider and the client
 * gets a 503 with a stable code. A policy error is also counted and logged.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { anthropicClient, attemptSpans, openaiClient, spanOf, type TestGateway } from '../support/gateway.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { freePort } from '../support/proxyProcess.js';
import { startEnforcedGateway } from './enforcedGateway.js';

async function failure(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(error)}`);
  return error;
}

const ask = [{ role: 'user' as const, content: 'hello' }];

describe('a policy that cannot decide', () => {
  let fixture: PolicyFixture;
  let gw: TestGateway;
  beforeAll(async () => {
    fixture = await createPolicyFixture({
      tenants: {
        // A data bug: an unknown PII class makes every request decision malformed.
        broken: tenantSettings({ pii: { redact: ['ssn-ish'], pseudonymize: false, response_redact: [] } }),
        // The same bug on the response side only.
        'broken-answers': tenantSettings({ pii: { redact: [], pseudonymize: false, response_redact: ['ssn-ish'] } }),
      },
    });
    gw = await startEnforcedGateway({
      fixture,
      keys: [
        { id: 'broken', tenant: 'broken', user: 'u1' },
        { id: 'broken-answers', tenant: 'broken-answers', user: 'u2' },
      ],
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await fixture?.cleanup();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('refuses the request with 503 policy_error, before the provider, and counts and logs it', async () => {
    const stderr = vi.spyOn(process.stderr, 'write');
    const sim = gw.simulated('sim');
    const callsBefore = sim.calls;
    const error = await failure(openaiClient(gw, 'broken').chat.completions.create({ model: 'gpt-4o-mini', messages: ask }));
    expect(error.status).toBe(503);
    expect(error.code).toBe('policy_error');
    expect(error.message).not.toMatch(/ssn-ish/);
    expect(sim.calls).toBe(callsBefore);

    const span = await spanOf(gw, error.headers?.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gatehouse.error.code': 'policy_error',
      'gatehouse.outcome': 'error',
      'http.response.status_code': 503,
      'gatehouse.policy.decision': 'error',
      'gatehouse.route.attempts': 0,
    });
    expect(span.attributes['gatehouse.policy.revision']).toMatch(/^[0-9a-f]{64}$/);

    const logged = stderr.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('policy evaluation failed'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({ level: 'error', requestId: span.attributes['gatehouse.request.id'], tenant: 'broken' });
    expect(logged[0]).toMatch(/malformed decision/);
    expect(logged[0]).not.toContain('hello');

    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_requests[^\n]*error_code="policy_error"[^\n]* [1-9]/);
  });

  it('renders policy_error in the Anthropic wire too', async () => {
    const error = await anthropicClient(gw, 'broken')
      .messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: ask })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { type: 'api_error', code: 'policy_error' } });
  });

  it('withholds an answer the response policy cannot judge, whole or streamed', async () => {
    const stderr = vi.spyOn(process.stderr, 'write');
    const client = openaiClient(gw, 'broken-answers');
    const whole = await failure(client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask }));
    expect(whole.status).toBe(503);
    expect(whole.code).toBe('policy_error');
    const wholeSpan = await spanOf(gw, whole.headers?.get('x-request-id'));
    expect(wholeSpan.attributes).toMatchObject({ 'gatehouse.error.code': 'policy_error', 'gatehouse.policy.decision': 'allow', 'http.response.status_code': 503 });

    const { data: stream, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask, stream: true }).withResponse();
    let received = '';
    const streamError = await (async () => {
      for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(streamError).toBeInstanceOf(OpenAI.APIError);
    expect((streamError as InstanceType<typeof OpenAI.APIError>).code).toBe('policy_error');
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({ 'gatehouse.error.code': 'policy_error', 'gatehouse.outcome': 'error' });
    // The provider answered fine: a policy failure is not an upstream failure (no breaker strike).
    expect(attemptSpans(gw, span).map((a) => a.attributes['gatehouse.attempt.outcome'])).toEqual(['ok']);
    const logged = stderr.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('response policy evaluation failed'));
    expect(logged.map((line) => (JSON.parse(line) as { requestId: string }).requestId)).toEqual([wholeSpan.attributes['gatehouse.request.id'], span.attributes['gatehouse.request.id']]);
  });
});

describe('the Redis limit store down, failMode closed', () => {
  let fixture: PolicyFixture;
  let gw: TestGateway;
  beforeAll(async () => {
    fixture = await createPolicyFixture({ tenants: { north: tenantSettings() } });
    // Nothing listens on this port: the store can never connect.
    const port = await freePort();
    gw = await startEnforcedGateway({
      fixture,
      keys: [{ id: 'north', tenant: 'north', user: 'u1' }],
      limits: { store: 'redis', redisUrl: `redis://127.0.0.1:${port}`, failMode: 'closed', keyPrefix: 'gatehouse-test:' },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await fixture?.cleanup();
  });

  it('refuses with 503 limits_unavailable and never calls the provider', async () => {
    const sim = gw.simulated('sim');
    const started = performance.now();
    const error = await failure(openaiClient(gw, 'north').chat.completions.create({ model: 'gpt-4o-mini', messages: ask }));
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(error.status).toBe(503);
    expect(error.code).toBe('limits_unavailable');
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(sim.calls).toBe(0);
    const span = await spanOf(gw, error.headers?.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gatehouse.error.code': 'limits_unavailable',
      'gatehouse.outcome': 'error',
      'gatehouse.policy.decision': 'allow',
      'http.response.status_code': 503,
      'gatehouse.route.attempts': 0,
    });
    expect(span.attributes['gatehouse.policy.revision']).toMatch(/^[0-9a-f]{64}$/);
  });
});
