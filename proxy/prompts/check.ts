/**
 * `gatehouse prompts check` and every registry load: the files parse and fit
 * their schemas, templates parse and use only declared variables, every version
 * file is released in versions.lock with the hash of its content (an edited
 * released version is refused), no released version is deleted, and every label
 * points at a released version.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import canonicalize from 'canonicalize';
import Mustache from 'mustache';
import { parse as parseYaml } from 'yaml';
import { describeIssue } from '../config/load.js';
import { labelsSchema, lockSchema, PROMPT_ID, promptVersionSchema, type PromptVersionFile } from './promptSchema.js';
import { variableValidator } from './variables.js';

export const LABELS_FILE = 'labels.yaml';
export const LOCK_FILE = 'versions.lock';

export interface LoadedVersion {
  id: string;
  version: number;
  /** `sha256:<hex>` of the RFC 8785 JSON of the parsed file: formatting and comments do not count, content does. */
  sha256: string;
  file: string;
  content: PromptVersionFile;
}

export interface CheckedPrompts {
  versions: LoadedVersion[];
  labels: Record<string, Record<string, number>>;
  lock: Record<string, Record<string, string>>;
  /** Version files not in the lock yet (`gatehouse prompts lock` releases them). */
  unreleased: LoadedVersion[];
  problems: string[];
}

export function contentHash(content: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalize(content) ?? '').digest('hex')}`;
}

function shown(file: string): string {
  const inside = relative(process.cwd(), file);
  return inside === '' || inside.startsWith('..') ? file : inside;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The variable names a template reads (names, sections, inverted sections; dotted names by their first part). */
export function templateVariables(template: string): Set<string> {
  const names = new Set<string>();
  const walk = (tokens: unknown[]): void => {
    for (const token of tokens as Array<[string, string, number, number, unknown[]?]>) {
      const [type, value, , , children] = token;
      if (type === 'name' || type === '&' || type === '#' || type === '^') {
        if (value !== '.') names.add(value.split('.')[0]!);
      }
      // Inside a section, names may be fields of the section's value: only the top level is checked.
      if (type === '^' && Array.isArray(children)) walk(children);
    }
  };
  walk(Mustache.parse(template));
  return names;
}

export async function checkPrompts(dir: string): Promise<CheckedPrompts> {
  const problems: string[] = [];
  const versions: LoadedVersion[] = [];
  let labels: CheckedPrompts['labels'] = {};
  let lock: CheckedPrompts['lock'] = {};

  const labelsText = await readOptional(join(dir, LABELS_FILE));
  if (labelsText !== undefined) {
    const parsed = labelsSchema.safeParse(parseYamlSafe(labelsText, shown(join(dir, LABELS_FILE)), problems) ?? {});
    if (parsed.success) labels = parsed.data;
    else for (const issue of parsed.error.issues) problems.push(`${shown(join(dir, LABELS_FILE))}: ${describeIssue(issue)}`);
  }
  const lockText = await readOptional(join(dir, LOCK_FILE));
  if (lockText !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(lockText);
    } catch (error) {
      problems.push(`${shown(join(dir, LOCK_FILE))}: ${(error as Error).message}`);
    }
    const parsed = lockSchema.safeParse(raw ?? {});
    if (parsed.success) lock = parsed.data;
    else for (const issue of parsed.error.issues) problems.push(`${shown(join(dir, LOCK_FILE))}: ${describeIssue(issue)}`);
  }

  let entries: Array<{ name: string; isDirectory(): boolean }> = [];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    problems.push(`${shown(dir)}: ${(error as Error).message}`);
  }
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!PROMPT_ID.test(entry.name)) {
      problems.push(`${shown(join(dir, entry.name))}: a prompt id is a-z, 0-9, _ and -, at most 64 characters`);
      continue;
    }
    const files = (await readdir(join(dir, entry.name))).sort();
    for (const name of files) {
      const file = join(dir, entry.name, name);
      const match = /^([1-9][0-9]{0,6})\.ya?ml$/.exec(name);
      if (match === null) {
        problems.push(`${shown(file)}: a version file is named <number>.yaml`);
        continue;
      }
      const raw = parseYamlSafe(await readFile(file, 'utf8'), shown(file), problems);
      if (raw === undefined) continue;
      const parsed = promptVersionSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push(`${shown(file)}: ${describeIssue(issue)}`);
        continue;
      }
      const loaded: LoadedVersion = { id: entry.name, version: Number(match[1]), sha256: contentHash(raw), file, content: parsed.data };
      if (versions.some((v) => v.id === loaded.id && v.version === loaded.version)) {
        problems.push(`${shown(file)}: version ${loaded.version} of ${loaded.id} is defined twice`);
        continue;
      }
      checkTemplates(loaded, problems);
      versions.push(loaded);
    }
  }

  const unreleased: LoadedVersion[] = [];
  for (const version of versions) {
    const released = lock[version.id]?.[String(version.version)];
    if (released === undefined) unreleased.push(version);
    else if (released !== version.sha256) {
      problems.push(`${shown(version.file)}: version ${version.version} of ${version.id} was released as ${released} and is now ${version.sha256}: a released version never changes; add a new version instead`);
    }
  }
  for (const version of unreleased) problems.push(`${shown(version.file)}: version ${version.version} of ${version.id} is not released: run gatehouse prompts lock, and commit versions.lock with it`);
  for (const [id, released] of Object.entries(lock)) {
    for (const number of Object.keys(released)) {
      if (!versions.some((v) => v.id === id && v.version === Number(number)) && !problems.some((p) => p.includes(`/${id}/${number}.`))) {
        problems.push(`${shown(join(dir, LOCK_FILE))}: version ${number} of ${id} was released and its file is gone: released versions are never deleted`);
      }
    }
  }
  for (const [id, byLabel] of Object.entries(labels)) {
    for (const [label, number] of Object.entries(byLabel)) {
      if (lock[id]?.[String(number)] === undefined) problems.push(`${shown(join(dir, LABELS_FILE))}: ${id}.${label} points at version ${number}, which is not released`);
    }
  }
  return { versions, labels, lock, unreleased, problems };
}

function parseYamlSafe(text: string, where: string, problems: string[]): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

function checkTemplates(version: LoadedVersion, problems: string[]): void {
  const where = shown(version.file);
  try {
    variableValidator(version.content.variables);
  } catch (error) {
    problems.push(`${where}: variables: ${(error as Error).message}`);
    return;
  }
  const declared = new Set(Object.keys((version.content.variables as { properties?: Record<string, unknown> }).properties ?? {}));
  version.content.messages.forEach((message, i) => {
    let used: Set<string>;
    try {
      used = templateVariables(message.content);
    } catch (error) {
      problems.push(`${where}: messages[${i}].content: ${(error as Error).message}`);
      return;
    }
    for (const name of used) if (!declared.has(name)) problems.push(`${where}: messages[${i}].content uses {{${name}}}, which variables does not declare`);
  });
}
