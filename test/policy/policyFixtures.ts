/**
 * Shared setup for the policy tests: the committed engine, request inputs, a
 * scratch copy of policies/, and the OPA CLI for the tests that need it.
 */
import { normalizeText } from '../../proxy/policy/normalize.js';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCompiled } from '../../proxy/policy/compiled.js';
import { PolicyEngine, type EngineOptions } from '../../proxy/policy/engine.js';
import type { PolicyMessage, PolicyPrincipal, RequestPolicyInput, ResponsePolicyInput } from '../../proxy/policy/input.js';
import { findOpa } from '../../proxy/policy/opaCli.js';
import { readPolicyData, type PolicyDocument } from '../../proxy/policy/policyData.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const POLICIES = join(ROOT, 'policies');

export const advisor: PolicyPrincipal = { tenant: 'acme', team: 'advisory', user: 'advisor-1', key_id: 'key-7', feature: 'chat' };

/** The OPA CLI, or undefined (suites that need it use describeWithOpa). */
export const opa = await findOpa(ROOT);

/** The OPA binary, failing the test clearly when it is missing (CI). */
export function requireOpa(): string {
  if (opa === undefined) throw new Error('the OPA CLI is required for this test (CI runs scripts/install-opa.sh first)');
  return opa;
}

export async function committedEngine(data?: PolicyDocument, options?: EngineOptions): Promise<PolicyEngine> {
  const { wasm } = await readCompiled(POLICIES);
  return PolicyEngine.load(wasm, data ?? (await readPolicyData(POLICIES)), options);
}

export function requestInput(
  principal: PolicyPrincipal,
  model: string,
  messages: PolicyMessage[],
  overrides: Partial<RequestPolicyInput> = {},
): RequestPolicyInput {
  return {
    principal,
    request: { model, messages, tools: [], max_tokens: 1000, stream: false, prompt: null },
    usage: {},
    time: { now_ns: Date.now() * 1e6 },
    context: { agent_chain: [], agent_depth: 0 },
    signals: {},
    ...overrides,
  };
}

/** A policy message as the proxy builds it: sent by the caller, with its normalized text. */
export function message(role: PolicyMessage['role'], text: string, source: PolicyMessage['source'] = 'caller'): PolicyMessage {
  return { role, source, text, normalized: normalizeText(text) };
}

export const benign: PolicyMessage[] = [
  message('system', 'You are a helpful assistant for wealth advisors. Answer concisely.'),
  message('user', 'Summarise the main drivers of bond yields this quarter.'),
];

export function responseInput(principal: PolicyPrincipal, text: string): ResponsePolicyInput {
  return { principal, request: { model: 'gpt-4o' }, response: { text, normalized: normalizeText(text), tool_calls: [] }, final: true };
}

/** A scratch copy of policies/ (sources, data, compiled; no build output), removed by the returned cleanup. */
export async function scratchPolicies(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), 'gatehouse-policies-'));
  const dir = join(base, 'policies');
  await cp(POLICIES, dir, { recursive: true, filter: (source) => !source.startsWith(join(POLICIES, 'build')) });
  return { dir, cleanup: () => rm(base, { recursive: true, force: true }) };
}
