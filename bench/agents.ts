/**
 * What agents cost per request (`npm run bench:agents`), as ratios against a
 * baseline measured in the same run, interleaved (A, B, A, B, ...):
 *
 *  - admission: `identify()` for an agent key with a registry, a three-agent
 *    chain in baggage and the (memory) status check, against `identify()` for the
 *    same key with no registry and no baggage;
 *  - policy: one request decision (caller part memoized, as in the proxy) for a
 *    registered agent with its chain, against the same caller with no registry
 *    in data and no chain.
 *
 * The target (issue 11): registry lookup and chain handling add at most 10 µs p50.
 */
import { interleaved as interleavedRounds } from './lib/interleaved.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { stringify } from 'yaml';
import { MemoryAgentState } from '../proxy/agents/agentState.js';
import { AgentRegistry } from '../proxy/agents/registry.js';
import { delegationOf } from '../proxy/agents/delegation.js';
import type { ChatRequest } from '../proxy/canonical.js';
import { parseConfig } from '../proxy/config/load.js';
import { hashKey } from '../proxy/identity/keyHash.js';
import { KeyRing } from '../proxy/identity/keyRing.js';
import { identify } from '../proxy/pipeline/admit.js';
import type { RequestContext } from '../proxy/pipeline/context.js';
import type { PipelineDeps } from '../proxy/pipeline/deps.js';
import { readCompiled } from '../proxy/policy/compiled.js';
import { PolicyEngine } from '../proxy/policy/engine.js';
import { requestPolicyInput } from '../proxy/policy/input.js';
import { readPolicyData } from '../proxy/policy/policyData.js';
import { REPO_DIR } from './lib/gatehouseSetup.js';

const QUICK = process.argv.includes('--quick');
const ITERATIONS = QUICK ? 20_000 : 100_000;
const ROUNDS = 7;

const interleaved = (runs: Array<() => unknown>): Promise<number[]> => interleavedRounds(runs, ITERATIONS, ROUNDS);

const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-agents-'));
try {
  // A registry of 50 agents, as in the platform team.
  for (let i = 0; i < 50; i++) {
    await writeFile(join(dir, `agent-${i}.yaml`), stringify({
      id: `agent-${i}`, name: `Agent ${i}`, tenant: 'acme', owner: { team: 'research', contact: 'research@acme.example' },
      purpose: 'benchmark', environment: 'production', models: ['gpt-4o'], maxDelegationDepth: 4, runBudget: { calls: 1000 },
    }));
  }
  const registry = new AgentRegistry({ dir, watch: false });
  await registry.start();
  const secret = 'gh-bench-agent-key';
  const config = parseConfig({
    providers: { sim: { type: 'simulated' } }, models: { 'gpt-4o': { targets: [{ provider: 'sim', model: 'gpt-4o' }] } },
    keys: [{ id: 'agent-key', hash: hashKey(secret), tenant: 'acme', team: 'research', agent: 'agent-7' }],
  });
  const base = { config, keys: new KeyRing(config.keys), audit: undefined } as unknown as PipelineDeps;
  const withRegistry = { ...base, agents: registry, agentState: new MemoryAgentState() } as PipelineDeps;
  const span = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
  const headers = { authorization: `Bearer ${secret}` };
  const context = (baggage: Record<string, string> | undefined): RequestContext => ({
    id: 'r', startTime: 0, startMark: 0, wire: undefined as never, operation: 'chat', route: '/v1/chat/completions', headers,
    clientAddress: undefined, signal: new AbortController().signal, span, baggage, responseHeaders: {}, attempts: [], status: 0, outcome: 'error', annotations: {},
  });
  const chain = { 'gatehouse.agent.chain': 'agent-1,agent-2,agent-3' };
  const [plain = 0, agent = 0] = await interleaved([
    () => identify(context(undefined), base),
    () => identify(context(chain), withRegistry),
  ]);

  const policies = join(REPO_DIR, 'policies');
  const wasm = (await readCompiled(policies)).wasm;
  const data = await readPolicyData(policies);
  const engineWithout = await PolicyEngine.load(wasm, data);
  const engineWith = await PolicyEngine.load(wasm, { ...data, agents: registry.current.policyData });
  const chat: ChatRequest = {
    model: 'gpt-4o', stream: false, streamUsage: false, maxTokens: 256,
    messages: [{ role: 'system', content: [{ type: 'text', text: 'You are a research agent.' }] }, { role: 'user', content: [{ type: 'text', text: 'Summarise the filings.' }] }],
  };
  const principal = { tenant: 'acme', team: 'research', agent: 'agent-7', key_id: 'agent-key' };
  const delegation = delegationOf(chain);
  const [policyPlain = 0, policyAgent = 0] = await interleaved([
    () => engineWithout.evaluateRequest(requestPolicyInput({ principal, request: chat, context: { agent_chain: [], agent_depth: 0 } })),
    () => engineWith.evaluateRequest(requestPolicyInput({ principal, request: chat, context: { trace_id: 't', agent_chain: delegation.chain, agent_depth: delegation.depth, parent_agent: 'agent-3' } })),
  ]);
  const row = (what: string, baseline: number, measured: number) =>
    `| ${what} | ${baseline.toFixed(2)} µs | ${measured.toFixed(2)} µs | ${(measured / baseline).toFixed(2)}x (+${(measured - baseline).toFixed(2)} µs) |`;
  const added = agent - plain + (policyAgent - policyPlain);
  console.log(`\n\`npm run bench:agents\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, p50 of ${ROUNDS} interleaved rounds, ${ITERATIONS} runs each side):\n`);
  console.log('| stage | without agents p50 | with a registered agent and a 3-agent chain p50 | ratio |');
  console.log('|---|---|---|---|');
  console.log(row('admission: identify() (key, registry lookup, baggage chain, status check)', plain, agent));
  console.log(row('request policy: one decision (caller part memoized)', policyPlain, policyAgent));
  console.log(`\nAdded per request: ${added.toFixed(2)} µs p50 (target ≤ 10 µs: ${added <= 10 ? 'met' : 'missed'}).`);
  registry.shutdown();
} finally {
  await rm(dir, { recursive: true, force: true });
}
