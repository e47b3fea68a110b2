/**
 * Runs a dataset against a prompt version through the real pipeline: an
 * in-process gateway on loopback with the deployment's config (policies, routing,
 * providers; the simulated provider in CI), an ephemeral eval key, and audit off
 * (eval traffic is not production traffic). Each case is sent `repeat` times as
 * an OpenAI chat request with `gatehouse_prompt` pinned to the version.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { PriceTable } from '../cost/priceTable.js';
import { startGateway } from '../gateway.js';
import { generateKey, hashKey } from '../identity/keyHash.js';
import { judge, type Answer, type JudgeTools, type Verdict } from './assertions.js';
import type { EvalCase } from './dataset.js';

export interface RunOptions {
  prompt: string;
  version: number;
  model: string;
  repeat: number;
  tenant: string;
  opa: string | undefined;
  regoDirs: string[];
}

export interface CaseRun {
  verdicts: Verdict[];
  pass: boolean;
  answer: string;
  refusedCode: string | undefined;
}

export interface CaseResult {
  id: string;
  runs: CaseRun[];
  /** Fraction of runs that passed every assertion. */
  passRate: number;
}

const GRADER = 'You grade an answer against a rubric. Reply PASS or FAIL on the first line, then one sentence why.';

export async function runEval(config: Config, cases: readonly EvalCase[], options: RunOptions): Promise<CaseResult[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-eval-'));
  const key = generateKey();
  const evalConfig: Config = {
    ...config,
    dataDir,
    // No user: eval runs are bounded by the eval team's and tenant's limits, not one person's.
    keys: [...config.keys, { id: 'gatehouse-eval', hash: hashKey(key), tenant: options.tenant, team: 'eval', allowHeaders: [], roles: [] }],
    // Counters of its own, never the deployment's shared (Redis) ones.
    limits: { ...config.limits, store: 'memory' },
    audit: { ...config.audit, enabled: false },
    policy: { ...config.policy, watch: false },
    prompts: { ...config.prompts, watch: false },
    agents: { ...config.agents, watch: false },
    mcp: { ...config.mcp, servers: {} },
  };
  const gateway = await startGateway(evalConfig, { port: 0, host: '127.0.0.1' });
  const prices = new PriceTable(config.prices);
  const ask = async (body: Record<string, unknown>): Promise<{ status: number; json: Record<string, any>; ms: number }> => {
    const started = performance.now();
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(120_000),
    });
    const json = await response.json() as Record<string, any>;
    return { status: response.status, json, ms: performance.now() - started };
  };
  const tools: JudgeTools = {
    opa: options.opa,
    regoDirs: options.regoDirs,
    grade: async (rubric, answer, model) => {
      const graded = await ask({ model: model ?? options.model, temperature: 0, messages: [{ role: 'system', content: GRADER }, { role: 'user', content: `Rubric: ${rubric}\n\nAnswer:\n${answer}` }] });
      return String(graded.json.choices?.[0]?.message?.content ?? `FAIL (grader error ${graded.status})`);
    },
  };
  try {
    const results: CaseResult[] = [];
    for (const evalCase of cases) {
      const runs: CaseRun[] = [];
      for (let i = 0; i < options.repeat; i++) {
        const { status, json, ms } = await ask({
          model: options.model, messages: evalCase.messages,
          gatehouse_prompt: { id: options.prompt, version: options.version, variables: evalCase.variables },
        });
        if (json.error?.code === 'prompt_variables_invalid' || json.error?.code === 'prompt_not_found') {
          throw new Error(`case ${evalCase.id}: ${json.error.code}: ${json.error.message}`);
        }
        const message = json.choices?.[0]?.message ?? {};
        const usage = json.usage ?? {};
        const answer: Answer = {
          text: typeof message.content === 'string' ? message.content : '',
          toolCalls: (message.tool_calls ?? []).map((c: { function: { name: string; arguments: string } }) => ({ name: c.function.name, arguments: safeJson(c.function.arguments) })),
          refusedCode: isRefusal(status, json.error?.code) ? String(json.error?.code ?? status) : undefined,
          errorCode: status >= 400 && !isRefusal(status, json.error?.code) ? String(json.error?.code ?? status) : undefined,
          status,
          costUsd: prices.costOf([json.model, options.model], { inputTokens: usage.prompt_tokens ?? 0, outputTokens: usage.completion_tokens ?? 0, cachedInputTokens: 0, cacheWriteTokens: 0 }).usd,
          latencyMs: ms,
          request: { prompt: options.prompt, version: options.version, variables: evalCase.variables, messages: evalCase.messages },
        };
        const verdicts: Verdict[] = [];
        // An error (a 5xx, a rate limit) is not an answer: the run fails on it, whatever the assertions say.
        if (answer.errorCode !== undefined) verdicts.push({ type: 'error', pass: false, reason: `no answer: ${status} ${answer.errorCode}` });
        else for (const assertion of evalCase.assert) verdicts.push(await judge(assertion, answer, tools));
        runs.push({ verdicts, pass: verdicts.every((v) => v.pass), answer: answer.text, refusedCode: answer.refusedCode });
      }
      results.push({ id: evalCase.id, runs, passRate: runs.filter((r) => r.pass).length / runs.length });
    }
    return results;
  } finally {
    await gateway.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A gateway refusal: a 4xx that judges the request (policy, approval, model), not a rate limit or a fault. */
function isRefusal(status: number, code: unknown): boolean {
  return status >= 400 && status < 500 && status !== 429 && status !== 408 && code !== 'rate_limited' && code !== 'budget_exceeded';
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {};
  } catch {
    return {};
  }
}
