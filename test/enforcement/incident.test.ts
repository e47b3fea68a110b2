/**
 * The incident: one advisor's burst must not take everyone else down. advisor-1 of
 * tenant A is held to its per-user share; other users of tenant A and every user
 * of tenant B see no error and no added latency; the provider sees only what the
 * limits admit.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiClient, spanOf, type TestGateway, type TestKey } from '../support/gateway.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { p50, startEnforcedGateway } from './enforcedGateway.js';

const USER_RPM = 6;
const TENANT_RPM = 40;
const BURST = 20;

const KEYS: TestKey[] = [
  { id: 'a-advisor-1', tenant: 'tenant-a', team: 'advisory', user: 'advisor-1' },
  { id: 'a-advisor-2', tenant: 'tenant-a', team: 'advisory', user: 'advisor-2' },
  { id: 'a-advisor-3', tenant: 'tenant-a', team: 'research', user: 'advisor-3' },
  { id: 'b-user-1', tenant: 'tenant-b', team: 'ops', user: 'b-user-1' },
  { id: 'b-user-2', tenant: 'tenant-b', team: 'ops', user: 'b-user-2' },
  { id: 'warm-up', tenant: 'tenant-c', user: 'warm-up' },
];
const OTHERS = KEYS.slice(1, -1).map((key) => key.id);
/** Calls each other user makes in the baseline, and again during the burst. */
const ROUNDS = 2;

const limits = { tenant: { requestsPerMinute: TENANT_RPM, tokensPerMinute: 10_000_000 }, user: { requestsPerMinute: USER_RPM, tokensPerMinute: 10_000_000 } };

interface Result {
  ok: boolean;
  requestId?: string;
  error?: InstanceType<typeof OpenAI.APIError>;
}

async function call(gw: TestGateway, keyId: string): Promise<Result> {
  try {
    const { response } = await openaiClient(gw, keyId).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Summarise the bond market today.' }] }).withResponse();
    return { ok: true, requestId: response.headers.get('x-request-id') ?? undefined };
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    return { ok: false, error };
  }
}

async function gatewayDurations(gw: TestGateway, results: readonly Result[]): Promise<number[]> {
  const spans = await Promise.all(results.map((r) => spanOf(gw, r.requestId)));
  return spans.map((span) => Number(span.attributes['gatehouse.duration_ms']));
}

describe('the incident: a burst from advisor-1', () => {
  let fixture: PolicyFixture;
  let gw: TestGateway;
  beforeAll(async () => {
    fixture = await createPolicyFixture({ tenants: { 'tenant-a': tenantSettings({ limits }), 'tenant-b': tenantSettings({ limits }), 'tenant-c': tenantSettings() } });
    gw = await startEnforcedGateway({ fixture, keys: KEYS, latencyMs: 25 });
  });
  afterAll(async () => {
    await gw?.stop();
    await fixture?.cleanup();
  });

  it('limits advisor-1 alone: others see no error and no added latency, the provider sees only the admitted calls', async () => {
    const sim = gw.simulated('sim');
    // Warm up (first requests pay for JIT and connection setup), on a tenant of its own.
    for (let i = 0; i < 3; i++) expect((await call(gw, 'warm-up')).ok).toBe(true);
    // Baseline: everyone else, without the burst.
    const everyone = () => OTHERS.flatMap((key) => Array.from({ length: ROUNDS }, () => call(gw, key)));
    const callsAtStart = sim.calls;
    const baseline = await Promise.all(everyone());
    expect(baseline.every((r) => r.ok)).toBe(true);
    const callsBefore = sim.calls;
    expect(callsBefore - callsAtStart).toBe(OTHERS.length * ROUNDS);

    // The burst, with everyone else calling at the same time.
    const burst = Array.from({ length: BURST }, () => call(gw, 'a-advisor-1'));
    const during = everyone();
    const [burstResults, duringResults] = await Promise.all([Promise.all(burst), Promise.all(during)]);

    const admitted = burstResults.filter((r) => r.ok);
    const refused = burstResults.filter((r) => !r.ok);
    expect(admitted).toHaveLength(USER_RPM);
    expect(refused).toHaveLength(BURST - USER_RPM);
    for (const { error } of refused) {
      expect(error?.status).toBe(429);
      expect(error?.code).toBe('rate_limited');
      expect(error?.type).toBe('rate_limit_error');
      expect(Number(error?.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(error?.headers?.get('x-ratelimit-limit-requests')).toBe(String(USER_RPM));
      expect(error?.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(error?.headers?.get('x-ratelimit-reset-requests')).toMatch(/^\d/);
    }

    // Nobody else noticed: no error, and no added latency (generous margin for a shared CI box).
    expect(duringResults.map((r) => r.error?.code)).toEqual(duringResults.map(() => undefined));
    // Latency as the gateway measured it (gatehouse.duration_ms): the client SDK shares this process.
    const before = p50(await gatewayDurations(gw, baseline));
    const after = p50(await gatewayDurations(gw, duringResults));
    expect(after, `p50 before ${before.toFixed(1)} ms, during the burst ${after.toFixed(1)} ms`).toBeLessThan(before * 2 + 100);

    // The provider saw exactly what the limits admitted: advisor-1's share plus the others.
    expect(sim.calls - callsBefore).toBe(USER_RPM + OTHERS.length * ROUNDS);
    const upstreamForA = gw.requestSpans().filter((s) => s.attributes['gatehouse.tenant.id'] === 'tenant-a' && s.attributes['gatehouse.outcome'] === 'ok');
    expect(upstreamForA.length).toBeLessThanOrEqual(TENANT_RPM);
  });

  it('records the refusal on the span and the limits on every answer', async () => {
    const client = openaiClient(gw, 'a-advisor-1');
    const refused = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one more' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const error = refused as InstanceType<typeof OpenAI.RateLimitError>;
    const span = await spanOf(gw, error.headers?.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gatehouse.user.id': 'advisor-1',
      'gatehouse.policy.decision': 'allow',
      'gatehouse.limit.scope': 'user',
      'gatehouse.outcome': 'rate_limited',
      'gatehouse.error.code': 'rate_limited',
      'http.response.status_code': 429,
      'gatehouse.route.attempts': 0,
    });
    expect(span.attributes['gatehouse.policy.revision']).toMatch(/^[0-9a-f]{64}$/);

    // A user of tenant B still gets through, with its own window in the headers.
    const { response, data } = await openaiClient(gw, 'b-user-1').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe(String(USER_RPM));
    expect(Number(response.headers.get('x-ratelimit-remaining-requests'))).toBe(USER_RPM - 2 * ROUNDS - 1);
    const ok = await spanOf(gw, response.headers.get('x-request-id'));
    expect(ok.attributes).toMatchObject({ 'gatehouse.policy.decision': 'allow', 'gatehouse.outcome': 'ok', 'gatehouse.tenant.id': 'tenant-b' });
    expect(ok.attributes['gatehouse.limit.scope']).toBeUndefined();
  });
});
