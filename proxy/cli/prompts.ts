/**
 * `gatehouse prompts list|show|render|check|lock` (docs/prompts.md): the prompt
 * registry's files, read from `--dir`, from `prompts.dir` of `--config`, or from
 * ./prompts. `history` and `impact` read the audit store (collector/cli/promptCommands.ts).
 *
 *   prompts list                          every prompt, its versions and labels
 *   prompts show ID [--version N | --label L]
 *   prompts render ID [--version N | --label L] --vars JSON
 *   prompts check                         for CI: files, immutability, labels, variables
 *   prompts lock                          release new version files into versions.lock
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { GatehouseError } from '../errors.js';
import { checkPrompts, LOCK_FILE } from '../prompts/check.js';
import { DEFAULT_LABEL } from '../prompts/promptStage.js';
import { PromptDirectory } from '../prompts/registry.js';
import { renderMessages } from '../prompts/render.js';
import { textOf } from '../canonical.js';

type Action = 'list' | 'show' | 'render' | 'check' | 'lock';

const USAGE = `usage: gatehouse prompts list|check|lock [--dir DIR | --config FILE]
       gatehouse prompts show ID [--version N | --label L] [--dir DIR | --config FILE]
       gatehouse prompts render ID [--version N | --label L] --vars JSON [--dir DIR | --config FILE]`;

async function promptsDir(values: { dir?: string; config?: string }): Promise<string> {
  if (values.dir !== undefined) return resolve(values.dir);
  if (values.config !== undefined) {
    const config = (parseYaml(await readFile(values.config, 'utf8')) ?? {}) as { prompts?: { dir?: unknown } };
    if (typeof config.prompts?.dir !== 'string') throw new Error(`${values.config} sets no prompts.dir`);
    return resolve(config.prompts.dir);
  }
  return resolve('prompts');
}

export async function promptsCommand(action: Action, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { dir: { type: 'string' }, config: { type: 'string' }, version: { type: 'string' }, label: { type: 'string' }, vars: { type: 'string' } },
    });
  } catch (error) {
    process.stderr.write(`usage error: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const needsId = action === 'show' || action === 'render';
  if ((needsId && positionals.length !== 1) || (!needsId && positionals.length > 0) || (values.version !== undefined && values.label !== undefined)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let dir: string;
  try {
    dir = await promptsDir(values);
  } catch (error) {
    process.stderr.write(`gatehouse prompts: ${(error as Error).message}\n`);
    return 2;
  }
  const checked = await checkPrompts(dir);
  if (action === 'lock') return lock(dir, checked);
  if (action === 'check') {
    if (checked.problems.length > 0) {
      process.stderr.write(`${checked.problems.join('\n')}\n${checked.problems.length} problem(s) in ${dir}\n`);
      return 1;
    }
    const ids = new Set(checked.versions.map((v) => v.id));
    process.stdout.write(`ok: ${ids.size} prompt(s), ${checked.versions.length} released version(s), ${Object.values(checked.labels).reduce((n, l) => n + Object.keys(l).length, 0)} label(s)\n`);
    return 0;
  }
  if (checked.problems.length > 0) {
    process.stderr.write(`${checked.problems.join('\n')}\nfix these first (gatehouse prompts check)\n`);
    return 1;
  }
  const directory = new PromptDirectory(checked);
  if (action === 'list') {
    for (const id of directory.ids) {
      const labels = Object.entries(directory.labelsOf(id)).map(([l, v]) => `${l}=${v}`).join(' ');
      const versions = directory.versionsOf(id).map((v) => v.version).join(', ');
      process.stdout.write(`${id}  versions ${versions}${labels ? `  labels ${labels}` : ''}\n`);
    }
    return 0;
  }
  const id = positionals[0]!;
  const label = values.version === undefined ? values.label ?? DEFAULT_LABEL : undefined;
  const number = values.version !== undefined ? Number(values.version) : directory.label(id, label!);
  const version = number === undefined || !Number.isInteger(number) ? undefined : directory.version(id, number);
  if (version === undefined) {
    process.stderr.write(`gatehouse prompts: ${id} has no ${values.version !== undefined ? `released version ${values.version}` : `label '${label}'`}\n`);
    return 1;
  }
  if (action === 'show') {
    process.stdout.write(`${JSON.stringify({ id, version: version.version, sha256: version.sha256, ...(label ? { label } : {}), ...version.content }, null, 2)}\n`);
    return 0;
  }
  let variables: unknown;
  try {
    variables = JSON.parse(values.vars ?? '{}');
  } catch {
    process.stderr.write('gatehouse prompts render: --vars: expected a JSON object\n');
    return 2;
  }
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
    process.stderr.write('gatehouse prompts render: --vars: expected a JSON object\n');
    return 2;
  }
  try {
    const messages = renderMessages(version, variables as Record<string, unknown>);
    process.stdout.write(`${JSON.stringify({ id, version: version.version, sha256: version.sha256, messages: messages.map((m) => ({ role: m.role, content: textOf(m.content) })), parameters: version.content.parameters }, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof GatehouseError) {
      process.stderr.write(`gatehouse prompts render: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/** Adds every unreleased version file to versions.lock; never changes a released entry. */
async function lock(dir: string, checked: Awaited<ReturnType<typeof checkPrompts>>): Promise<number> {
  const blocking = checked.problems.filter((p) => !p.includes('is not released') && !p.includes('which is not released'));
  if (blocking.length > 0) {
    process.stderr.write(`${blocking.join('\n')}\nnothing released: fix these first\n`);
    return 1;
  }
  const next: Record<string, Record<string, string>> = structuredClone(checked.lock);
  for (const version of checked.unreleased) (next[version.id] ??= {})[String(version.version)] = version.sha256;
  const sorted = Object.fromEntries(Object.keys(next).sort().map((id) => [id, Object.fromEntries(Object.entries(next[id]!).sort(([a], [b]) => Number(a) - Number(b)))]));
  const file = join(dir, LOCK_FILE);
  await writeFile(`${file}.tmp`, `${JSON.stringify(sorted, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
  for (const version of checked.unreleased) process.stdout.write(`released ${version.id} version ${version.version} ${version.sha256}\n`);
  if (checked.unreleased.length === 0) process.stdout.write('nothing to release\n');
  return 0;
}
