/**
 * An eval dataset (docs/evals.md): JSONL, one case a line: an id, the prompt's
 * variables and/or messages, and assertions. Read whole and validated; a bad line
 * is named by its number.
 */
import { readFile, stat } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { assertBoundedJson } from '../wire/jsonBounds.js';
import { z } from 'zod';
import { describeIssue } from '../config/load.js';

const MAX_CASES = 1_000;
const MAX_FILE_BYTES = 10 * 1024 * 1024;
const MAX_PROBLEMS = 50;

export const assertionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('contains'), value: z.string().min(1) }),
  z.strictObject({ type: z.literal('not-contains'), value: z.string().min(1) }),
  z.strictObject({ type: z.literal('regex'), value: z.string().min(1).max(1_000) }),
  z.strictObject({ type: z.literal('json-schema'), value: z.looseObject({}) }),
  z.strictObject({ type: z.literal('tool-call'), name: z.string().min(1), arguments: z.record(z.string(), z.unknown()).optional() }),
  z.strictObject({ type: z.literal('refusal'), expected: z.boolean() }),
  z.strictObject({ type: z.literal('max-cost'), usd: z.number().nonnegative() }),
  z.strictObject({ type: z.literal('max-latency'), ms: z.number().positive() }),
  /** A Rego rule (e.g. `data.evals.advisor.ok`) that must be true; input: {request, answer}. */
  z.strictObject({ type: z.literal('rego'), rule: z.string().regex(/^data(\.[A-Za-z_][A-Za-z0-9_]*)+$/) }),
  /** Model-graded: the gateway asks `model` whether the answer meets the rubric (marked as such in reports). */
  z.strictObject({ type: z.literal('rubric'), rubric: z.string().min(1).max(4_000), model: z.string().min(1).optional() }),
]);

export type Assertion = z.infer<typeof assertionSchema>;

export const caseSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  description: z.string().max(2_000).optional(),
  variables: z.record(z.string(), z.unknown()).default({}),
  messages: z.array(z.strictObject({ role: z.enum(['user', 'assistant']), content: z.string() })).min(1).max(100),
  assert: z.array(assertionSchema).min(1).max(50),
});

export type EvalCase = z.infer<typeof caseSchema>;

export class DatasetError extends Error {}

/** Why an assertion cannot run (a regex or JSON Schema that does not compile), found when the dataset is read. */
function assertionProblem(assertion: Assertion): string | undefined {
  try {
    if (assertion.type === 'regex') new RegExp(assertion.value, 'i');
    if (assertion.type === 'json-schema') new Ajv({ strict: false }).compile(assertion.value);
    return undefined;
  } catch (error) {
    return `${assertion.type}: ${(error as Error).message.split('\n')[0]}`;
  }
}

export async function readDataset(file: string): Promise<EvalCase[]> {
  if ((await stat(file)).size > MAX_FILE_BYTES) throw new DatasetError(`${file}: larger than ${MAX_FILE_BYTES} bytes`);
  const text = await readFile(file, 'utf8');
  const cases: EvalCase[] = [];
  const problems: string[] = [];
  const ids = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && problems.length < MAX_PROBLEMS; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('//')) continue;
    if (cases.length >= MAX_CASES) {
      problems.push(`${file}: at most ${MAX_CASES} cases`);
      break;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(line);
      assertBoundedJson(raw, true);
    } catch (error) {
      problems.push(`${file}:${i + 1}: ${(error as Error).message}`);
      continue;
    }
    const parsed = caseSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues.slice(0, 5)) problems.push(`${file}:${i + 1}: ${describeIssue(issue)}`);
      continue;
    }
    for (const assertion of parsed.data.assert) {
      const problem = assertionProblem(assertion);
      if (problem !== undefined) problems.push(`${file}:${i + 1}: ${problem}`);
    }
    if (ids.has(parsed.data.id)) problems.push(`${file}:${i + 1}: case id '${parsed.data.id}' is used twice`);
    ids.add(parsed.data.id);
    cases.push(parsed.data);
  }
  if (cases.length === 0 && problems.length === 0) problems.push(`${file}: no cases`);
  if (problems.length > 0) throw new DatasetError(problems.join('\n'));
  return cases;
}
