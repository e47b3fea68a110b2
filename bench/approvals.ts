/**
 * What approvals cost (`npm run bench:approvals`), as ratios against baselines
 * measured in the same run, interleaved (A, B, A, B, ...):
 *
 *  - the tool decision for a call that needs no approval, for a tenant with ten
 *    approval rules (none matching the tool), against the same tenant without
 *    approval rules: what every tool call pays for the approval pack;
 *  - the tool decision for a call that does need approval (the `approval`
 *    object computed), against the same call without the rule;
 *  - holding a call (the approval service's gate on the memory store: the binding
 *    digest, the lookup, the merge into the pending approval), against the
 *    SHA-256 of the arguments every tool call already computes.
 */
import { interleaved as interleavedRounds } from './lib/interleaved.js';
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { context, trace } from '@opentelemetry/api';
import { ApprovalService } from '../proxy/approvals/service.js';
import { MemoryApprovalStore } from '../proxy/approvals/store.js';
import { readCompiled } from '../proxy/policy/compiled.js';
import { PolicyEngine } from '../proxy/policy/engine.js';
import type { ToolCallInput } from '../proxy/policy/input.js';
import { readPolicyData } from '../proxy/policy/policyData.js';
import { join } from 'node:path';
import { REPO_DIR } from './lib/gatehouseSetup.js';

const QUICK = process.argv.includes('--quick');
const ITERATIONS = QUICK ? 20_000 : 100_000;
const ROUNDS = 7;

const interleaved = (runs: Array<() => unknown>): Promise<number[]> => interleavedRounds(runs, ITERATIONS, ROUNDS);

const policies = join(REPO_DIR, 'policies');
const wasm = (await readCompiled(policies)).wasm;
const data = await readPolicyData(policies) as { data: { tenants: Record<string, Record<string, unknown>> } };
const base = { limits: {}, budgets: {}, max_tokens: 4096, tools: ['*'], email_domains: ['customer.example'] };
const rules = Array.from({ length: 10 }, (_, i) => ({ tools: [`payments.op${i}`], count: 2, groups: ['finance'], reason: `Payments op ${i} needs two.` }));
data.data.tenants.plain = base;
data.data.tenants.ruled = { ...base, approvals: rules, approver_groups: { finance: ['carol', 'dave'] } };
data.data.tenants.held = { ...base, approvals: [{ tools: ['email.send'], count: 1, groups: ['finance'] }], approver_groups: { finance: ['carol'] } };
const engine = await PolicyEngine.load(wasm, data as never);
const call = (tenant: string): ToolCallInput => ({
  principal: { tenant, key_id: 'k', user: 'bob' }, context: { agent_chain: [], agent_depth: 0 },
  tool: { name: 'email.send', server: 'email', tool: 'send', annotations: {} },
  arguments: { to: ['a@customer.example'], subject: 'Statement', body: 'Your statement is ready.' },
});
const [plain = 0, ruled = 0] = await interleaved([() => engine.evaluateToolCall(call('plain')), () => engine.evaluateToolCall(call('ruled'))]);
const heldDecision = engine.evaluateToolCall(call('held'));
if (heldDecision.approval === undefined) throw new Error('the held tenant should need approval');
const [plainAgain = 0, held = 0] = await interleaved([() => engine.evaluateToolCall(call('plain')), () => engine.evaluateToolCall(call('held'))]);

const tracer = trace.getTracer('bench');
const service = new ApprovalService(new MemoryApprovalStore(), tracer, { maxLivePerTenant: 1_000_000, maxLivePerKey: 1_000_000, maxArgumentBytes: 65_536, sweepMs: 3_600_000 }, (id) => `http://gw/${id}`, undefined);
const args = call('held').arguments;
const digest = () => createHash('sha256').update(canonicalize(args) ?? '').digest('hex');
const gate = () => service.gate({
  binding: { tenant: 'held', key_id: 'k', user: 'bob', server: 'email', tool: 'email.send', arguments_sha256: digest(), policy_revision: 'r' },
  arguments: args, requirement: heldDecision.approval!, requesters: ['bob'], requestId: 'r', traceId: '0'.repeat(32), parent: context.active(), annotations: {},
}).catch(() => undefined);
await gate(); // the first call creates the pending approval; the measured ones merge into it
const [hash = 0, hold = 0] = await interleaved([digest, gate]);

const row = (what: string, baseline: number, measured: number) =>
  `| ${what} | ${baseline.toFixed(2)} µs | ${measured.toFixed(2)} µs | ${(measured / baseline).toFixed(2)}x (+${(measured - baseline).toFixed(2)} µs) |`;
console.log(`\n\`npm run bench:approvals\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, p50 of ${ROUNDS} interleaved rounds, ${ITERATIONS} runs each side):\n`);
console.log('| stage | baseline p50 | measured p50 | ratio |');
console.log('|---|---|---|---|');
console.log(row('tool decision, no approval needed: 10 approval rules vs none (every tool call)', plain, ruled));
console.log(row('tool decision, approval needed (the approval object) vs none', plainAgain, held));
console.log(row('holding a call (gate, memory store, merge into the pending approval) vs the argument digest alone', hash, hold));
