/**
 * Issue 11, "Done means": a suspension made while requests are flowing applies on
 * the next request, across two proxy processes sharing one real redis-server.
 * The suspension goes to replica A; every request replica B starts after A
 * answered is refused with agent_suspended, in both wires.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConfigInput } from '../../proxy/config/schema.js';
import { hashKey } from '../../proxy/identity/keyHash.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxyProcess.js';
import { describeWithRedis, startRedis, type RunningRedis } from '../support/redis.js';
import { agentSpec, createRegistry, type TestRegistry } from './agentRegistry.js';

const AGENT_KEY = `sk-gh-agent-${Math.random().toString(36).slice(2)}`;
const ADMIN_KEY = `sk-gh-admin-${Math.random().toString(36).slice(2)}`;

describeWithRedis('an agent suspension across two replicas on one Redis', () => {
  let redis: RunningRedis;
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  const replicas: ProxyProcess[] = [];

  beforeAll(async () => {
    [redis, fixture, registry] = await Promise.all([
      startRedis(),
      createPolicyFixture({ tenants: { acme: tenantSettings() } }),
      createRegistry([agentSpec('rebalancer', { models: ['gpt-4o-mini', 'claude-haiku-4-5'] })]),
    ]);
    const config = (): ConfigInput => ({
      providers: { sim: { type: 'simulated', latencyMs: 2, outputTokens: 4 } },
      models: {
        'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] },
        'claude-haiku-4-5': { targets: [{ provider: 'sim', model: 'claude-haiku-4-5' }] },
      },
      keys: [
        { id: 'rebalancer-key', hash: hashKey(AGENT_KEY), tenant: 'acme', agent: 'rebalancer' },
        { id: 'ops-admin', hash: hashKey(ADMIN_KEY), tenant: 'acme', user: 'oncall', roles: ['agents:admin'] },
      ],
      policy: { enabled: true, dir: fixture.dir, watch: false },
      agents: { dir: registry.dir, watch: false },
      limits: { store: 'redis', redisUrl: redis.url, keyPrefix: `gatehouse-agents-${process.pid}:`, failMode: 'closed' },
      audit: { enabled: false },
      collector: { embedded: false },
    });
    replicas.push(...(await Promise.all([startProxyProcess(config()), startProxyProcess(config())])));
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await Promise.allSettled([redis?.stop(), fixture?.cleanup(), registry?.remove()]);
  });

  const openai = (url: string) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'rebalance' }] }),
    }).then(async (r) => ({ status: r.status, code: ((await r.json()) as { error?: { code?: string } }).error?.code }));
  const anthropic = (url: string) =>
    fetch(`${url}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': AGENT_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'rebalance' }] }),
    }).then(async (r) => ({ status: r.status, code: ((await r.json()) as { error?: { code?: string } }).error?.code }));

  it('requests flowing on replica B are refused from the first one started after replica A answered the suspension', async () => {
    const [a, b] = replicas as [ProxyProcess, ProxyProcess];
    const results: Array<{ started: number; status: number; code: string | undefined }> = [];
    let flowing = true;
    const flow = (async () => {
      while (flowing) {
        const started = performance.now();
        const result = await openai(b.url);
        results.push({ started, ...result });
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const suspend = await fetch(`${a.url}/v1/gatehouse/agents/rebalancer/suspend`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'runaway rebalancing' }),
    });
    const suspendedAt = performance.now();
    expect(suspend.status, a.output()).toBe(200);
    // Flow on until a few requests started after the suspension (a loaded machine is slow), 10 s at most.
    for (const deadline = performance.now() + 10_000; performance.now() < deadline;) {
      if (results.filter((r) => r.started >= suspendedAt).length >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    flowing = false;
    await flow;

    const before = results.filter((r) => r.started < suspendedAt);
    const after = results.filter((r) => r.started >= suspendedAt);
    expect(before.length).toBeGreaterThan(0);
    expect(before.some((r) => r.status === 200)).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    for (const r of after) expect(r).toMatchObject({ status: 403, code: 'agent_suspended' });
    // Both wires, both replicas.
    for (const replica of replicas) {
      expect(await openai(replica.url)).toEqual({ status: 403, code: 'agent_suspended' });
      expect(await anthropic(replica.url)).toEqual({ status: 403, code: 'agent_suspended' });
    }
    // Resumed through replica B, served again on A.
    const resume = await fetch(`${b.url}/v1/gatehouse/agents/rebalancer/resume`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'fixed' }),
    });
    expect(resume.status).toBe(200);
    expect((await openai(a.url)).status).toBe(200);
  });
});
