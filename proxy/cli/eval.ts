/**
 * `gatehouse eval DATASET --prompt ID [--version N | --label L] [--baseline N|LABEL]`
 * (docs/evals.md): runs a golden dataset against a prompt version through the
 * real pipeline and gates on it. Exit 0 when the gate passes, 1 when it fails,
 * 2 for a usage or dataset error.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.js';
import { readDataset, DatasetError } from '../evals/dataset.js';
import { decide } from '../evals/gate.js';
import { asJson, asJunit, asTable, type EvalReport } from '../evals/report.js';
import { runEval } from '../evals/runner.js';
import { storeRun } from '../evals/store.js';
import { findOpa } from '../policy/opaCli.js';
import { readPromptDirectory, type PromptDirectory } from '../prompts/registry.js';
import { resolveConfig } from './configSource.js';
import { readdir } from 'node:fs/promises';

/** The .rego files next to the dataset (not the whole folder: configs and datasets there are not policy data). */
async function regoFilesBeside(file: string): Promise<string[]> {
  const dir = dirname(file);
  return (await readdir(dir)).filter((n) => n.endsWith('.rego')).sort().map((n) => join(dir, n));
}

const USAGE = 'usage: gatehouse eval DATASET.jsonl --prompt ID [--version N | --label L] [--baseline N|LABEL] [--repeat N] [--case-threshold 0..1] [--threshold 0..1] [--model ALIAS] [--tenant T] [--config FILE] [--prompts DIR] [--format table|json|junit] [--junit FILE] [--json FILE] [--no-store]';

function usage(message: string): number {
  process.stderr.write(`usage error: ${message}\n${USAGE}\n`);
  return 2;
}

function fraction(value: string | undefined, fallback: number, flag: string): number | string {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : `${flag}: a number from 0 to 1`;
}

function versionOf(directory: PromptDirectory, prompt: string, spec: string): { version: number; sha256: string } | string {
  const number = /^[1-9][0-9]{0,6}$/.test(spec) ? Number(spec) : directory.label(prompt, spec);
  const version = number === undefined ? undefined : directory.version(prompt, number);
  if (version === undefined) return `prompt ${prompt} has no released version or label '${spec}'`;
  return { version: version.version, sha256: version.sha256 };
}

export async function evalCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        prompt: { type: 'string' }, version: { type: 'string' }, label: { type: 'string' }, baseline: { type: 'string' },
        repeat: { type: 'string' }, 'case-threshold': { type: 'string' }, threshold: { type: 'string' }, model: { type: 'string' }, tenant: { type: 'string' },
        config: { type: 'string', short: 'c' }, prompts: { type: 'string' }, format: { type: 'string' }, junit: { type: 'string' }, json: { type: 'string' }, 'no-store': { type: 'boolean' },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage('one dataset file');
  if (values.prompt === undefined) return usage('--prompt is required');
  if (values.version !== undefined && values.label !== undefined) return usage('--version or --label, not both');
  const repeat = values.repeat === undefined ? 1 : Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100) return usage('--repeat: an integer from 1 to 100');
  const caseThreshold = fraction(values['case-threshold'], 1, '--case-threshold');
  const threshold = fraction(values.threshold, 1, '--threshold');
  if (typeof caseThreshold === 'string') return usage(caseThreshold);
  if (typeof threshold === 'string') return usage(threshold);
  const format = values.format ?? 'table';
  if (!['table', 'json', 'junit'].includes(format)) return usage('--format: table, json or junit');

  let config;
  try {
    config = (await resolveConfig(values.config)).config;
  } catch (error) {
    if (error instanceof ConfigError) return usage(error.message);
    throw error;
  }
  const promptsDir = resolve(values.prompts ?? config.prompts.dir ?? 'prompts');
  config = { ...config, prompts: { dir: promptsDir, watch: false } };
  let directory: PromptDirectory;
  let cases;
  const datasetFile = resolve(positionals[0]!);
  try {
    directory = await readPromptDirectory(promptsDir);
    cases = await readDataset(datasetFile);
  } catch (error) {
    process.stderr.write(`gatehouse eval: ${(error as Error).message}\n`);
    return 2;
  }
  const candidate = versionOf(directory, values.prompt, values.version ?? values.label ?? 'production');
  if (typeof candidate === 'string') return usage(candidate);
  const baseline = values.baseline === undefined ? undefined : versionOf(directory, values.prompt, values.baseline);
  if (typeof baseline === 'string') return usage(baseline);
  const model = values.model ?? Object.entries(config.models).find(([, m]) => m.kind !== 'embeddings')?.[0];
  if (model === undefined || config.models[model] === undefined) return usage(`--model: not a model alias of the config${model ? ` (${model})` : ''}`);

  const run = { prompt: values.prompt, model, repeat, tenant: values.tenant ?? 'eval', opa: await findOpa(process.cwd()), regoDirs: [resolve(config.policy.dir), ...(await regoFilesBeside(datasetFile))] };
  const gateOptions = { caseThreshold, threshold, thresholdGiven: values.threshold !== undefined };
  let report: EvalReport;
  const startedAt = Date.now();
  try {
    const candidateResults = await runEval(config, cases, { ...run, version: candidate.version });
    const baselineResults = baseline === undefined ? undefined : await runEval(config, cases, { ...run, version: baseline.version });
    report = {
      prompt: values.prompt,
      candidate: { ...candidate, results: candidateResults },
      ...(baseline !== undefined && baselineResults !== undefined ? { baseline: { ...baseline, results: baselineResults } } : {}),
      options: { ...gateOptions, repeat },
      gate: decide(candidate.version, candidateResults, gateOptions, baseline?.version, baselineResults),
    };
  } catch (error) {
    if (error instanceof DatasetError || (error as Error).message.startsWith('case ')) {
      process.stderr.write(`gatehouse eval: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
  const out = format === 'json' ? asJson(report) : format === 'junit' ? asJunit(report) : asTable(report);
  process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
  if (values.junit !== undefined) await writeFile(values.junit, asJunit(report));
  if (values.json !== undefined) await writeFile(values.json, asJson(report));
  if (values['no-store'] !== true) {
    const datasetSha = createHash('sha256').update(await readFile(datasetFile)).digest('hex');
    try {
      const id = await storeRun(join(resolve(config.dataDir), 'audit.duckdb'), report, { file: positionals[0]!, sha256: `sha256:${datasetSha}` }, startedAt);
      process.stderr.write(`stored as eval run ${id} in ${join(resolve(config.dataDir), 'audit.duckdb')}\n`);
    } catch (error) {
      process.stderr.write(`gatehouse eval: the run was not stored (${(error as Error).message.split('\n')[0]}); run with the collector stopped, or --no-store\n`);
    }
  }
  return report.gate.pass ? 0 : 1;
}
