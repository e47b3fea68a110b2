/**
 * Issue 12, "Done means": the weekend loop through /mcp. Three registered agents
 * with their own MCP endpoints call each other through the gateway
 * (planner -> researcher -> writer -> planner). The gateway passes the chain on in
 * `_meta`, so the loop is refused before the planner is called again, and the
 * audit trail shows the chain of every hop and the refusal.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startAgentServer, type AgentServer } from '../support/mcp/agentServer.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { agentSpec, createRegistry, type TestRegistry } from '../agents/agentRegistry.js';
import { mcpClient, untilListed } from './mcpGateway.js';

describe('the weekend loop through /mcp', () => {
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  let gw: TestGateway;
  const agents: Record<string, AgentServer> = {};

  beforeAll(async () => {
    for (const name of ['planner', 'researcher', 'writer']) agents[name] = await startAgentServer(name);
    fixture = await createPolicyFixture({ tenants: { acme: tenantSettings({ max_agent_depth: 10 }) } });
    const next = { planner: 'researcher', researcher: 'writer', writer: 'planner' } as const;
    registry = await createRegistry(Object.entries(next).map(([name, to]) =>
      agentSpec(name, { mcp: { url: agents[name]!.url }, tools: [{ server: to, tools: ['ask'] }], maxDelegationDepth: 5 })));
    gw = await startTestGateway(
      {
        providers: { sim: { type: 'simulated', outputTokens: 4 } },
        models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
        policy: { enabled: true, dir: fixture.dir, watch: false },
        agents: { dir: registry.dir, watch: false },
      },
      Object.keys(next).map((agent) => ({ id: `key-${agent}`, tenant: 'acme', agent })),
    );
    for (const [name, to] of Object.entries(next)) agents[name]!.next = { gateway: gw.url, key: gw.keys[`key-${name}`]!, tool: `${to}.ask` };
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await Promise.allSettled(Object.values(agents).map((a) => a.stop()));
    await fixture?.cleanup();
    await registry?.remove();
  });

  it('is cut as a loop when the writer calls the planner again, and the planner never sees it', async () => {
    const planner = await mcpClient(gw, 'key-planner');
    await untilListed(planner, 'researcher.ask');
    const trace = randomBytes(16).toString('hex');
    const result = await planner.callTool({
      name: 'researcher.ask', arguments: { question: 'rebalance everything' },
      _meta: { traceparent: `00-${trace}-${randomBytes(8).toString('hex')}-01` },
    });
    await planner.close();
    const text = JSON.stringify(result.content);
    expect(text).toContain('writer was refused: delegation_loop');
    expect(agents.researcher!.received).toHaveLength(1);
    expect(agents.writer!.received).toHaveLength(1);
    expect(agents.planner!.received).toHaveLength(0);
    // The chain reached each agent in _meta, extended hop by hop.
    expect(agents.researcher!.received[0]?.meta.baggage).toBe('gatehouse.agent.chain=planner');
    expect(agents.writer!.received[0]?.meta.baggage).toBe(`gatehouse.agent.chain=${encodeURIComponent('planner,researcher')}`);

    const calls = gw.requestSpans().filter((s) => s.attributes['gatehouse.record.type'] === 'tool_call' && s.spanContext().traceId === trace);
    const byTool = Object.fromEntries(calls.map((s) => [String(s.attributes['gen_ai.tool.name']), s.attributes]));
    expect(byTool['researcher.ask']).toMatchObject({ 'gatehouse.agent.id': 'planner', 'gatehouse.agent.chain': ['planner'], 'gatehouse.outcome': 'error' });
    expect(byTool['writer.ask']).toMatchObject({ 'gatehouse.agent.id': 'researcher', 'gatehouse.agent.chain': ['planner', 'researcher'] });
    expect(byTool['planner.ask']).toMatchObject({
      'gatehouse.agent.id': 'writer', 'gatehouse.agent.chain': ['planner', 'researcher', 'writer'],
      'gatehouse.policy.code': 'delegation_loop', 'gatehouse.error.code': 'delegation_loop', 'gatehouse.outcome': 'denied',
    });
  });
});
