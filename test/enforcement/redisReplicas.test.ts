/**
 * Two proxy processes sharing one real redis-server: a per-user limit of N admits
 * exactly N requests in total, never N per replica, however the burst is split.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConfigInput } from '../../proxy/config/schema.js';
import { hashKey } from '../../proxy/identity/keyHash.js';
import { waitFor } from '../support/gateway.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxyProcess.js';
import { describeWithRedis, startRedis, type RunningRedis } from '../support/redis.js';
import { startSpanSink, type SpanSink } from './spanSink.js';

const LIMIT = 6;
const PER_REPLICA = 8;
const SECRET = `sk-gh-replica-test-${Math.random().toString(36).slice(2)}`;

describeWithRedis('a Redis-backed limit across two proxy processes', () => {
  let redis: RunningRedis;
  let fixture: PolicyFixture;
  let sink: SpanSink;
  const replicas: ProxyProcess[] = [];

  beforeAll(async () => {
    [redis, fixture, sink] = await Promise.all([
      startRedis(),
      createPolicyFixture({ tenants: { shared: tenantSettings({ limits: { tenant: { requestsPerMinute: 1000 }, user: { requestsPerMinute: LIMIT } } }) } }),
      startSpanSink(),
    ]);
    const config = (): ConfigInput => ({
      providers: { sim: { type: 'simulated', latencyMs: 5, outputTokens: 8 } },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
      keys: [{ id: 'replica-user', hash: hashKey(SECRET), tenant: 'shared', user: 'burst-user' }],
      policy: { enabled: true, dir: fixture.dir, watch: false },
      limits: { store: 'redis', redisUrl: redis.url, keyPrefix: `gatehouse-e2e-${process.pid}:`, failMode: 'closed' },
      audit: { enabled: true, mode: 'best-effort', collectorUrl: sink.url },
      collector: { embedded: false },
    });
    replicas.push(...(await Promise.all([startProxyProcess(config()), startProxyProcess(config())])));
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await Promise.allSettled([redis?.stop(), sink?.stop(), fixture?.cleanup()]);
  });

  it(`admits exactly ${LIMIT} of ${2 * PER_REPLICA} requests split across both replicas`, async () => {
    const send = (url: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
      }).then(async (response) => ({ url, status: response.status, headers: response.headers, body: (await response.json()) as { error?: { code?: string } } }));
    const burst = replicas.flatMap((replica) => Array.from({ length: PER_REPLICA }, () => send(replica.url)));
    const results = await Promise.all(burst);

    const admitted = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(admitted, replicas.map((r) => r.output()).join('\n')).toHaveLength(LIMIT);
    expect(refused).toHaveLength(2 * PER_REPLICA - LIMIT);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.body.error?.code).toBe('rate_limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(r.headers.get('x-ratelimit-limit-requests')).toBe(String(LIMIT));
      expect(r.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    }
    for (const r of admitted) expect(Number(r.headers.get('x-ratelimit-remaining-requests'))).toBeLessThan(LIMIT);

    // The audit trail of both processes agrees.
    const spans = await waitFor(() => {
      const received = sink.requestSpans();
      return received.length >= 2 * PER_REPLICA && received;
    }, 10_000, 'both replicas to ship their request spans');
    const outcomes = spans.map((span) => span.attributes.get('gatehouse.outcome'));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(LIMIT);
    expect(outcomes.filter((o) => o === 'rate_limited')).toHaveLength(2 * PER_REPLICA - LIMIT);
    const limited = spans.filter((span) => span.attributes.get('gatehouse.outcome') === 'rate_limited');
    for (const span of limited) {
      expect(span.attributes.get('gatehouse.limit.scope')).toBe('user');
      expect(span.attributes.get('gatehouse.error.code')).toBe('rate_limited');
      expect(span.attributes.get('gatehouse.policy.decision')).toBe('allow');
      expect(span.attributes.get('http.response.status_code')).toBe(429);
    }
    // One policy revision decided on both replicas.
    expect(new Set(spans.map((span) => span.attributes.get('gatehouse.policy.revision'))).size).toBe(1);
  });
});
