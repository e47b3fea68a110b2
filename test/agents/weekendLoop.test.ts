/**
 * Issue 11, "Done means": the weekend loop. Three registered agents call each
 * other through the gateway in one trace. With baggage, the chain reaches the
 * policy and a loop (planner -> researcher -> writer -> planner) is refused;
 * without baggage, the run budget (calls per trace id) cuts the loop at the
 * configured number of calls. The provider sees no call past the limit, and the
 * audit trail (a real collector, a real DuckDB file) shows the chain and the refusal.
 */
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/cli/index.js';
import { startTestCollector, TEST_INGEST, makeTempDir, removeDir } from '../collector/support.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { openaiClient, startTestGateway, type TestGateway } from '../support/gateway.js';
import { agentSpec, createRegistry, type TestRegistry } from './agentRegistry.js';

const RUN_CALLS = 12;
const AGENTS = ['planner', 'researcher', 'writer'] as const;

describe('the weekend loop', () => {
  let upstream: MockOpenAI;
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  let collector: RunningCollector;
  let dataDir: string;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startMockOpenAI();
    fixture = await createPolicyFixture({ tenants: { acme: tenantSettings({ max_agent_depth: 10 }) } });
    registry = await createRegistry([
      agentSpec('planner', { maxDelegationDepth: 3, runBudget: { calls: RUN_CALLS } }),
      agentSpec('researcher', { maxDelegationDepth: 1, runBudget: { calls: RUN_CALLS } }),
      agentSpec('writer', { maxDelegationDepth: 2, runBudget: { calls: RUN_CALLS } }),
    ]);
    dataDir = await makeTempDir();
    collector = await startTestCollector({ dataDir, port: 0, checkpointEvery: 5 });
    gw = await startTestGateway(
      {
        providers: { mock: { type: 'openai-compatible', baseUrl: upstream.baseUrl, apiKey: upstream.apiKey } },
        models: { 'gpt-4o-mini': { targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] } },
        policy: { enabled: true, dir: fixture.dir, watch: false },
        agents: { dir: registry.dir, watch: false },
        routing: { maxAttempts: 1 },
        audit: { collectorUrl: collector.url, collectorToken: TEST_INGEST.token },
      },
      AGENTS.map((agent) => ({ id: `key-${agent}`, tenant: 'acme', team: 'research', agent })),
    );
  });
  afterAll(async () => {
    await gw?.stop();
    await collector?.stop();
    await upstream?.stop();
    await fixture?.cleanup();
    await registry?.remove();
    await removeDir(dataDir);
  });

  /** One model call by `agent` in trace `trace`, with the delegation chain in baggage (or none). */
  function call(agent: string, trace: string, chain?: readonly string[]) {
    const headers: Record<string, string> = { traceparent: `00-${trace}-${randomBytes(8).toString('hex')}-01` };
    // W3C baggage values are percent-encoded: the commas of the chain travel as %2C.
    if (chain !== undefined) headers.baggage = `gatehouse.agent.chain=${encodeURIComponent(chain.join(','))}`;
    return openaiClient(gw, `key-${agent}`, { headers }).chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${agent}: next step` }] })
      .then(() => ({ ok: true as const }), (error: unknown) => ({ ok: false as const, error: error as InstanceType<typeof OpenAI.APIError> }));
  }

  async function recordsOf(trace: string): Promise<Array<Record<string, unknown>>> {
    return collector.store.db.query(
      `SELECT agent_id, agent_chain, agent_depth, run_calls, error_code, http_response_status_code AS status
         FROM audit_records WHERE trace_id = $1 ORDER BY seq`, [trace]);
  }

  it('with baggage: the chain reaches the policy, and A -> B -> C -> A is refused as a loop before the provider is called', async () => {
    const trace = randomBytes(16).toString('hex');
    const before = upstream.count('/v1/chat/completions');
    expect((await call('planner', trace, [])).ok).toBe(true);
    expect((await call('researcher', trace, ['planner'])).ok).toBe(true);
    expect((await call('writer', trace, ['planner', 'researcher'])).ok).toBe(true);
    const loop = await call('planner', trace, ['planner', 'researcher', 'writer']);
    expect(loop.ok).toBe(false);
    expect(loop.ok === false && loop.error.status).toBe(403);
    expect(loop.ok === false && loop.error.code).toBe('delegation_loop');
    expect(upstream.count('/v1/chat/completions') - before).toBe(3);

    const records = await eventuallyRecords(trace, 4);
    expect(records.map((r) => r.agent_chain)).toEqual([
      ['planner'], ['planner', 'researcher'], ['planner', 'researcher', 'writer'], ['planner', 'researcher', 'writer', 'planner'],
    ]);
    expect(records.map((r) => Number(r.agent_depth))).toEqual([0, 1, 2, 3]);
    expect(records[3]).toMatchObject({ agent_id: 'planner', error_code: 'delegation_loop' });
    expect(Number(records[3]?.status)).toBe(403);
  });

  it('a call deeper than the agent\'s maxDelegationDepth is refused', async () => {
    const trace = randomBytes(16).toString('hex');
    const deep = await call('researcher', trace, ['planner', 'writer']);
    expect(deep.ok === false && deep.error.code).toBe('delegation_depth_exceeded');
  });

  it('without baggage: the run budget stops the loop at the configured number of calls, and the provider sees no call past it', async () => {
    const trace = randomBytes(16).toString('hex');
    const before = upstream.count('/v1/chat/completions');
    const results = [];
    for (let i = 0; i < 40; i++) {
      const result = await call(AGENTS[i % 3]!, trace);
      results.push(result);
      if (!result.ok) break;
    }
    expect(results.filter((r) => r.ok)).toHaveLength(RUN_CALLS);
    const last = results.at(-1)!;
    expect(last.ok === false && last.error.status).toBe(429);
    expect(last.ok === false && last.error.code).toBe('run_budget_exceeded');
    expect(upstream.count('/v1/chat/completions') - before).toBe(RUN_CALLS);

    const records = await eventuallyRecords(trace, RUN_CALLS + 1);
    expect(records.slice(0, RUN_CALLS).map((r) => Number(r.run_calls))).toEqual(Array.from({ length: RUN_CALLS }, (_, i) => i + 1));
    expect(records[RUN_CALLS]).toMatchObject({ error_code: 'run_budget_exceeded' });
    // Every agent of the run is refused from then on: the budget is the run's, not one agent's.
    for (const agent of AGENTS) expect((await call(agent, trace)).ok).toBe(false);
    // Another run is not affected.
    expect((await call('planner', randomBytes(16).toString('hex'))).ok).toBe(true);
  });

  async function eventuallyRecords(trace: string, n: number): Promise<Array<Record<string, unknown>>> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const rows = await recordsOf(trace);
      if (rows.length >= n) return rows;
      if (Date.now() > deadline) throw new Error(`expected ${n} records of trace ${trace}, got ${rows.length}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
