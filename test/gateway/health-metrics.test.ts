/**
 * Operator endpoints: /healthz (liveness), /readyz (readiness), and /metrics in
 * the Prometheus text format with requests, durations, time to first token,
 * tokens, cost and upstream attempts labelled by tenant and model, and no
 * unbounded labels such as user ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiClient, startTestGateway, type TestGateway, type TestKey } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';

const KEYS: TestKey[] = [
  { id: 'k-acme', tenant: 'acme', user: 'alice-user-id' },
  { id: 'k-globex', tenant: 'globex', user: 'bob-user-id' },
];

/** The value of the first sample of `metric` whose labels include all of `labels`. */
function sample(text: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    if (Object.entries(labels).every(([name, value]) => line.includes(`${name}="${value}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('health and metrics endpoints', () => {
  let primary: MockOpenAI;
  let secondary: MockOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    [primary, secondary] = await Promise.all([startMockOpenAI(), startMockOpenAI()]);
    gw = await startTestGateway(
      {
        providers: { primary: openaiProviderConfig(primary), secondary: openaiProviderConfig(secondary) },
        models: { 'gpt-4o-mini': { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'secondary', model: 'gpt-4o-mini' }] } },
        routing: { maxRetryWaitMs: 0 },
      },
      KEYS,
    );
  });
  afterAll(async () => {
    await gw.stop();
    await Promise.all([primary.stop(), secondary.stop()]);
  });

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${gw.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await health.json()) as unknown).toEqual({ status: 'ok' });
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()) as unknown).toEqual({ status: 'ready' });
  });

  it('exports request, latency, token, cost and attempt metrics by tenant and model for Prometheus', async () => {
    const messages = [{ role: 'user' as const, content: 'hi' }];
    await openaiClient(gw, 'k-acme').chat.completions.create({ model: 'gpt-4o-mini', messages });
    primary.script({ kind: 'status', status: 429, retryAfter: '0' });
    await openaiClient(gw, 'k-globex').chat.completions.create({ model: 'gpt-4o-mini', messages });
    const stream = await openaiClient(gw, 'k-globex').chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages });
    for await (const chunk of stream) void chunk;
    await openaiClient(gw, 'k-acme').chat.completions.create({ model: 'client-chosen-model-name', messages }).catch(() => undefined);

    const response = await fetch(`${gw.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const model = { gen_ai_request_model: 'gpt-4o-mini' };
    expect(sample(text, 'gatehouse_requests_total', { gatehouse_tenant_id: 'acme', ...model, gatehouse_outcome: 'ok' })).toBe(1);
    expect(sample(text, 'gatehouse_requests_total', { gatehouse_tenant_id: 'globex', ...model, gatehouse_outcome: 'ok' })).toBe(2);
    expect(sample(text, 'gatehouse_requests_total', { gatehouse_tenant_id: 'acme', gatehouse_error_code: 'model_not_found' })).toBe(1);
    expect(sample(text, 'gen_ai_server_request_duration_count', { gatehouse_tenant_id: 'globex', ...model })).toBe(2);
    expect(sample(text, 'gen_ai_server_time_to_first_token_count', { gatehouse_tenant_id: 'globex', ...model })).toBe(1);
    expect(sample(text, 'gatehouse_tokens_total', { gatehouse_tenant_id: 'acme', ...model, gen_ai_token_type: 'output' })).toBeGreaterThan(0);
    expect(sample(text, 'gatehouse_cost_total', { gatehouse_tenant_id: 'globex', ...model })).toBeGreaterThan(0);
    expect(sample(text, 'gatehouse_upstream_attempts_total', { gatehouse_route_target: 'primary/gpt-4o-mini', gatehouse_attempt_outcome: 'failed', gatehouse_failover_reason: 'rate_limited' })).toBe(1);
    // Labels are bounded: a model name the client made up never becomes a series.
    expect(text).not.toContain('client-chosen-model-name');
    expect(text).not.toContain('alice-user-id');
    expect(text).not.toContain('bob-user-id');
  });
});
