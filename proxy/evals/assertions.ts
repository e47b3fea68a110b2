/**
 * Judging one answer against a case's assertions (docs/evals.md, "Assertions").
 * Each assertion gives pass or fail with a reason; a rubric is model-graded and
 * says so.
 */
import { execFile } from 'node:child_process';
import { Ajv } from 'ajv';
import type { Assertion } from './dataset.js';

export interface Answer {
  /** The text of the answer ('' when refused by the gateway). */
  text: string;
  toolCalls: Array<{ name: string; arguments: Record<string, unknown> }>;
  /** The gateway's refusal code, when the request was refused (a 4xx judging it; not a rate limit). */
  refusedCode: string | undefined;
  /** The error, when there was no answer (a 5xx, a rate limit, a timeout). */
  errorCode?: string | undefined;
  status: number;
  costUsd: number;
  latencyMs: number;
  request: { prompt: string; version: number; variables: Record<string, unknown>; messages: Array<{ role: string; content: string }> };
}

export interface Verdict {
  type: Assertion['type'] | 'error';
  pass: boolean;
  reason: string;
  modelGraded?: true;
}

/** Refusal wording (straight or curly apostrophes): a declined request, not sympathy ("I'm sorry to hear that"). */
export const REFUSAL = /\b(I can(?:no|['’])t (?:help|discuss|assist|provide|answer|do|share|recommend|give)|I am unable|I['’]m unable|I won['’]t|I will not|(?:I am|I['’]m) not able to|I['’]m sorry,? (?:but )?I (?:can(?:no|['’])t|am unable|won['’]t))/i;

export interface JudgeTools {
  /** Asks the gateway a grading question; returns the grader's text. */
  grade(rubric: string, answer: string, model: string | undefined): Promise<string>;
  /** The OPA CLI and the folders its rules load from (the policies, the dataset's folder), for rego assertions. */
  opa: string | undefined;
  regoDirs: string[];
}


/** Objects: the expected keys, recursively; arrays and scalars: equal exactly. */
function deepIncludes(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => deepIncludes(actual[i], v));
  if (typeof expected !== 'object' || expected === null) return actual === expected;
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
  return Object.entries(expected).every(([k, v]) => deepIncludes((actual as Record<string, unknown>)[k], v));
}

/** Characters of the answer a regex assertion reads at most. */
const MAX_REGEX_INPUT = 100_000;

function regoEval(opa: string, dirs: string[], rule: string, input: unknown): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = execFile(opa, ['eval', '--format', 'json', '--stdin-input', ...dirs.flatMap((d) => ['--data', d]), rule], { timeout: 20_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`opa eval ${rule}: ${(stderr || error.message).trim().split('\n').slice(0, 3).join(' ')}`));
      try {
        const result = JSON.parse(stdout) as { result?: Array<{ expressions: Array<{ value: unknown }> }> };
        resolve(result.result?.[0]?.expressions[0]?.value === true);
      } catch (parseError) {
        reject(parseError as Error);
      }
    });
    child.stdin?.end(JSON.stringify(input));
  });
}

export async function judge(assertion: Assertion, answer: Answer, tools: JudgeTools): Promise<Verdict> {
  const text = answer.text;
  switch (assertion.type) {
    case 'contains': {
      const pass = text.toLowerCase().includes(assertion.value.toLowerCase());
      return { type: assertion.type, pass, reason: pass ? `contains "${assertion.value}"` : `does not contain "${assertion.value}"` };
    }
    case 'not-contains': {
      const pass = !text.toLowerCase().includes(assertion.value.toLowerCase());
      return { type: assertion.type, pass, reason: pass ? `does not contain "${assertion.value}"` : `contains "${assertion.value}"` };
    }
    case 'regex': {
      const pass = new RegExp(assertion.value, 'i').test(text.slice(0, MAX_REGEX_INPUT));
      return { type: assertion.type, pass, reason: `${pass ? 'matches' : 'does not match'} /${assertion.value}/i` };
    }
    case 'json-schema': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return { type: assertion.type, pass: false, reason: 'the answer is not JSON' };
      }
      const validate = new Ajv({ allErrors: false, strict: false }).compile(assertion.value);
      const pass = validate(value);
      return { type: assertion.type, pass, reason: pass ? 'fits the schema' : `does not fit the schema: ${validate.errors?.[0]?.message ?? ''}` };
    }
    case 'tool-call': {
      const calls = answer.toolCalls.filter((c) => c.name === assertion.name);
      const call = calls[0];
      const pass = calls.some((c) => assertion.arguments === undefined || deepIncludes(c.arguments, assertion.arguments));
      return { type: assertion.type, pass, reason: pass ? `calls ${assertion.name}` : call ? `calls ${assertion.name} with other arguments` : `does not call ${assertion.name}` };
    }
    case 'refusal': {
      const refused = answer.refusedCode !== undefined || REFUSAL.test(text);
      const pass = refused === assertion.expected;
      return { type: assertion.type, pass, reason: refused ? `refused${answer.refusedCode ? ` (${answer.refusedCode})` : ''}` : 'answered' };
    }
    case 'max-cost': {
      const pass = answer.costUsd <= assertion.usd;
      return { type: assertion.type, pass, reason: `cost ${answer.costUsd} USD (max ${assertion.usd})` };
    }
    case 'max-latency': {
      const pass = answer.latencyMs <= assertion.ms;
      return { type: assertion.type, pass, reason: `${Math.round(answer.latencyMs)} ms (max ${assertion.ms})` };
    }
    case 'rego': {
      if (tools.opa === undefined) return { type: assertion.type, pass: false, reason: 'the OPA CLI is not installed (bash scripts/install-opa.sh)' };
      try {
        const refused = answer.refusedCode !== undefined || REFUSAL.test(text);
        const pass = await regoEval(tools.opa, tools.regoDirs, assertion.rule, { request: answer.request, answer: { text, tool_calls: answer.toolCalls, refused, refusal_code: answer.refusedCode ?? null } });
        return { type: assertion.type, pass, reason: `${assertion.rule} is ${pass ? 'true' : 'not true'}` };
      } catch (error) {
        return { type: assertion.type, pass: false, reason: (error as Error).message };
      }
    }
    case 'rubric': {
      const grade = await tools.grade(assertion.rubric, text, assertion.model);
      const pass = /^\s*PASS\b/i.test(grade);
      return { type: assertion.type, pass, reason: `model-graded: ${grade.slice(0, 200)}`, modelGraded: true };
    }
  }
}
