/**
 * Issue 15, "Done means": the prompt incident in CI terms. Version 2 of the
 * example prompt fails `gatehouse eval --baseline 1` with a non-zero exit and a
 * JUnit file naming the regressed cases; version 1 passes; the repeat threshold
 * keeps a deliberately flaky case from failing the gate. Every run is stored
 * with the prompt version's content hash. Plus each assertion kind, judged alone.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { AuditDatabase } from '../../collector/store/auditDatabase.js';
import { judge, type Answer, type JudgeTools } from '../../proxy/evals/assertions.js';
import { decide } from '../../proxy/evals/gate.js';
import { findOpa } from '../../proxy/policy/opaCli.js';
import { REPO_ROOT, runGatehouse } from '../support/processes.js';

const DATASET = join(REPO_ROOT, 'evals', 'advisor', 'dataset.jsonl');

describe('gatehouse eval on the example prompt', () => {
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-eval-test-'));
    const shipped = parse(await readFile(join(REPO_ROOT, 'evals', 'advisor', 'gatehouse.yaml'), 'utf8')) as Record<string, any>;
    config = join(dir, 'gatehouse.yaml');
    await writeFile(config, stringify({ ...shipped, dataDir: join(dir, 'data'), policy: { dir: join(REPO_ROOT, 'policies') }, prompts: { dir: join(REPO_ROOT, 'prompts') } }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const evaluate = (args: string[]) => runGatehouse(['eval', DATASET, '--prompt', 'advisor', '--config', config, ...args], { timeoutMs: 120_000 });

  it('version 2 fails against version 1: exit 1, and the JUnit file names the regressed cases', async () => {
    const junit = join(dir, 'v2.xml');
    const result = await evaluate(['--version', '2', '--baseline', '1', '--repeat', '3', '--case-threshold', '0.66', '--junit', junit]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/allocation-split\s+0%\s+100%\s+REGRESSED/);
    expect(result.stdout).toMatch(/gate: FAIL: regressed against version 1: 2 case\(s\)/);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('<testcase classname="gatehouse.eval.advisor" name="allocation-split"><failure message="REGRESSED: passes on version 1, fails on version 2');
    expect(xml).toContain('name="why-bonds"><failure message="REGRESSED');
    // The flaky case and the unchanged ones are not failures.
    expect(xml).toContain('<testcase classname="gatehouse.eval.advisor" name="rebalancing"/>');
    expect(xml).toMatch(/tests="5" failures="2"/);
    // The model-graded rubric is marked as such.
    expect(xml).toContain('(model-graded)');
  }, 120_000);

  it('version 1 passes; the repeat threshold keeps the flaky case from failing the gate, and without it the gate fails', async () => {
    const passing = await evaluate(['--version', '1', '--repeat', '3', '--case-threshold', '0.66', '--format', 'json']);
    expect(passing.code, passing.stderr).toBe(0);
    const report = JSON.parse(passing.stdout) as { gate: { pass: boolean; failed: string[] }; candidate: { results: Array<{ id: string; passRate: number }> } };
    expect(report.gate).toMatchObject({ pass: true, failed: [] });
    expect(report.candidate.results.find((r) => r.id === 'rebalancing')!.passRate).toBeCloseTo(2 / 3);
    const strict = await evaluate(['--version', '1', '--repeat', '3', '--no-store']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/rebalancing\s+67%\s+FAIL/);

    // Every stored run: "was this version evaluated before it went to production, and how did it score?"
    const db = await AuditDatabase.open(join(dir, 'data', 'audit.duckdb'), { readOnly: true });
    try {
      const runs = await db.query(`SELECT prompt_version, prompt_sha256, baseline_version, cases, passed_cases, repeat, gate_passed FROM eval_runs ORDER BY started_at`);
      const lock = JSON.parse(await readFile(join(REPO_ROOT, 'prompts', 'versions.lock'), 'utf8')) as { advisor: Record<string, string> };
      expect(runs.map((r) => [r.prompt_version, r.prompt_sha256, r.baseline_version, r.gate_passed])).toEqual([
        ['2', lock.advisor['2'], '1', false],
        ['1', lock.advisor['1'], null, true],
      ]);
      expect(runs.map((r) => [Number(r.cases), Number(r.passed_cases), Number(r.repeat)])).toEqual([[5, 3, 3], [5, 5, 3]]);
    } finally {
      db.close();
    }
  }, 120_000);

  it('refuses a bad dataset with exit 2, naming the line, and bad options with a usage error', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"id": "ok", "messages": [{"role": "user", "content": "hi"}], "assert": [{"type": "contains", "value": "x"}]}\n{"id": "broken", "messages": []}\n');
    const result = await runGatehouse(['eval', bad, '--prompt', 'advisor', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('bad.jsonl:2');
    expect((await evaluate(['--repeat', '0'])).code).toBe(2);
    expect((await evaluate(['--version', '9'])).code).toBe(2);
  }, 60_000);
});

describe('eval assertions', () => {
  const answer = (text: string, extra: Partial<Answer> = {}): Answer => ({
    text, toolCalls: [], refusedCode: undefined, status: 200, costUsd: 0.002, latencyMs: 120,
    request: { prompt: 'advisor', version: 1, variables: {}, messages: [] }, ...extra,
  });
  let tools: JudgeTools;
  beforeAll(async () => {
    tools = { opa: await findOpa(REPO_ROOT), regoDirs: [resolve(REPO_ROOT, 'evals', 'advisor')], grade: async () => 'PASS: fine' };
  });

  it('judges each kind, passing and failing', async () => {
    const cases: Array<[Parameters<typeof judge>[0], Answer, boolean]> = [
      [{ type: 'contains', value: 'Bonds' }, answer('bonds add stability'), true],
      [{ type: 'not-contains', value: 'sorry' }, answer("I'm sorry"), false],
      [{ type: 'regex', value: '\\d+%' }, answer('60% equities'), true],
      [{ type: 'json-schema', value: { type: 'object', required: ['split'] } }, answer('{"split": 60}'), true],
      [{ type: 'json-schema', value: { type: 'object', required: ['split'] } }, answer('not json'), false],
      [{ type: 'tool-call', name: 'get_positions', arguments: { account: 'A1' } }, answer('', { toolCalls: [{ name: 'get_positions', arguments: { account: 'A1', x: 1 } }] }), true],
      [{ type: 'tool-call', name: 'get_positions', arguments: { account: 'A2' } }, answer('', { toolCalls: [{ name: 'get_positions', arguments: { account: 'A1' } }] }), false],
      [{ type: 'refusal', expected: true }, answer("I'm sorry, I can't help with that."), true],
      [{ type: 'refusal', expected: false }, answer('', { refusedCode: 'policy_denied', status: 403 }), false],
      [{ type: 'max-cost', usd: 0.001 }, answer('x'), false],
      [{ type: 'max-latency', ms: 500 }, answer('x'), true],
      [{ type: 'rego', rule: 'data.evals.advisor.no_specific_advice' }, answer('You should buy NVDA today.'), false],
      [{ type: 'rego', rule: 'data.evals.advisor.no_specific_advice' }, answer('Bonds add stability.'), true],
      [{ type: 'rubric', rubric: 'factual' }, answer('x'), true],
    ];
    for (const [assertion, given, expected] of cases) {
      const verdict = await judge(assertion, given, tools);
      expect(verdict.pass, `${assertion.type}: ${verdict.reason}`).toBe(expected);
    }
    expect((await judge({ type: 'rubric', rubric: 'factual' }, answer('x'), tools)).modelGraded).toBe(true);
  });

  it('the baseline gate fails only on a significant drop', () => {
    const runs = (passes: boolean[]) => passes.map((pass) => ({ verdicts: [], pass, answer: '', refusedCode: undefined }));
    const result = (id: string, passes: boolean[]) => ({ id, runs: runs(passes), passRate: passes.filter(Boolean).length / passes.length });
    const options = { caseThreshold: 0.6, threshold: 0 };
    // A flaky case (2 of 3 on the baseline) one run worse: a regression, but not a significant one.
    const small = decide(2, [result('a', [true, false, false]), result('b', [true, true, true])], options, 1, [result('a', [true, true, false]), result('b', [true, true, true])]);
    expect(small.regressed).toEqual(['a']);
    expect(small.pass).toBe(true);
    // A case that passed every baseline run and now fails: significant, even alone and at one run.
    const stable = decide(2, [result('a', [false]), ...['b', 'c', 'd', 'e'].map((id) => result(id, [true]))], options, 1, ['a', 'b', 'c', 'd', 'e'].map((id) => result(id, [true])));
    expect(stable.pass).toBe(false);
    // --threshold, when given, applies with a baseline too.
    const below = decide(1, [result('a', [true, false, false]), result('b', [true, true, true])], { caseThreshold: 0.6, threshold: 1, thresholdGiven: true }, 1, [result('a', [true, false, false]), result('b', [true, true, true])]);
    expect(below.pass).toBe(false);
    // Many runs lost: significant.
    const big = decide(2, [result('a', [false, false, false]), result('b', [false, false, false]), result('c', [true, true, true])], options, 1,
      [result('a', [true, true, true]), result('b', [true, true, true]), result('c', [true, true, true])]);
    expect(big.pass).toBe(false);
    expect(big.regressed).toEqual(['a', 'b']);
  });
});
