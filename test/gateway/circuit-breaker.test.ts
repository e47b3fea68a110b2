/**
 * The circuit breaker per target: it opens after N consecutive failures (the
 * primary is then not called at all), lets one half-open probe through after the
 * cool-down, closes on the probe's success and re-opens on its failure.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiClient, spanOf, startTestGateway, type TestGateway } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';

const COOLDOWN_MS = 300;

describe('circuit breaker', () => {
  let primary: MockOpenAI;
  let secondary: MockOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    [primary, secondary] = await Promise.all([startMockOpenAI('sk-primary-key-0123456789'), startMockOpenAI('sk-secondary-key-0123456789')]);
    gw = await startTestGateway({
      providers: { primary: openaiProviderConfig(primary), secondary: openaiProviderConfig(secondary, 'openai-compatible') },
      models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'secondary', model: 'gpt-4o-mini' }] } },
      routing: { maxAttempts: 3, maxRetryWaitMs: 0, breaker: { failureThreshold: 2, cooldownMs: COOLDOWN_MS } },
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

  const ask = async (): Promise<string | null> => {
    const { response } = await openaiClient(gw).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    expect(response.status).toBe(200);
    return response.headers.get('x-request-id');
  };

  it('opens after N failures, skips the primary without calling it, and recovers through a half-open probe', async () => {
    primary.always({ kind: 'status', status: 500 });
    await ask();
    await ask();
    expect(primary.count()).toBe(2);
    expect(secondary.count()).toBe(2);
    expect(gw.routes.breakers.get('primary/gpt-4o-mini')?.state()).toBe('open');

    // Open: the primary is not called.
    const skippedId = await ask();
    expect(primary.count()).toBe(2);
    expect(secondary.count()).toBe(3);
    const skipped = await spanOf(gw, skippedId);
    expect(skipped.attributes['gatehouse.route.attempts']).toBe(1);
    expect(skipped.attributes['gatehouse.failover.reason']).toBe('circuit_open');
    expect(skipped.events.find((e) => e.name === 'gatehouse.target_skipped')?.attributes).toMatchObject({
      'gatehouse.route.target': 'primary/gpt-4o-mini',
      'gatehouse.failover.reason': 'circuit_open',
    });

    // After the cool-down, one probe reaches the primary; it succeeds, so the breaker closes.
    primary.always({ kind: 'answer' });
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 20));
    expect(gw.routes.breakers.get('primary/gpt-4o-mini')?.state()).toBe('half_open');
    await ask();
    expect(primary.count()).toBe(3);
    expect(secondary.count()).toBe(3);
    expect(gw.routes.breakers.get('primary/gpt-4o-mini')?.state()).toBe('closed');
    await ask();
    expect(primary.count()).toBe(4);
    expect(secondary.count()).toBe(3);
  });

  it('re-opens when the half-open probe fails', async () => {
    primary.always({ kind: 'status', status: 503 });
    await ask();
    await ask();
    expect(gw.routes.breakers.get('primary/gpt-4o-mini')?.state()).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 20));
    await ask(); // the probe fails; the secondary serves
    expect(primary.count()).toBe(3);
    expect(gw.routes.breakers.get('primary/gpt-4o-mini')?.state()).toBe('open');
    await ask();
    expect(primary.count()).toBe(3);
    expect(secondary.count()).toBe(4);
    // Leave the breaker closed for whoever runs next.
    primary.always({ kind: 'answer' });
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 20));
    await ask();
    expect(gw.routes.breakers.get('primary/gpt-4o-mini')?.state()).toBe('closed');
  });
});
