/**
 * `gatehouse prompts check` and every registry load: the files parse and fit
 * their schemas, templates parse and use only declared variables, every version
 * file is released in versions.lock with the hash of its content (an edited
 * released version is refused), no released version is deleted, and every label
 * points at a released version.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import canonicalize from 'canonicalize';
import Mustache from 'mustache';
import { isAlias, isNode, parseDocument, visit } from 'yaml';
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
      if (type === '>') throw new Error(`partials ({{> ${value}}}) are not supported: a version is one self-contained file`);
      if (type === '=') throw new Error('changing delimiters ({{= =}}) is not supported');
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
    const raw = parseYamlSafe(labelsText, shown(join(dir, LABELS_FILE)), problems);
    // An empty file is a half-written one far more often than a wish to drop every label: write `{}` for none.
    if (raw === null) problems.push(`${shown(join(dir, LABELS_FILE))}: empty; write {} for no labels`);
    const parsed = labelsSchema.safeParse(raw ?? {});
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

  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (error) {
    problems.push(`${shown(dir)}: ${(error as Error).message}`);
  }
  // Dot entries (.git, editor swap files, a ConfigMap's ..data) are not prompts; symbolic links are followed.
  for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
    if (!(await isDirectory(join(dir, name)))) continue;
    if (!PROMPT_ID.test(name)) {
      problems.push(`${shown(join(dir, name))}: a prompt id is a-z, 0-9, _ and -, at most 64 characters`);
      continue;
    }
    const files = (await readdir(join(dir, name))).filter((n) => !n.startsWith('.')).sort();
    for (const fileName of files) {
      const file = join(dir, name, fileName);
      const match = /^([1-9][0-9]{0,6})\.ya?ml$/.exec(fileName);
      if (match === null || !(await isFile(file))) {
        problems.push(`${shown(file)}: a version file is a file named <number>.yaml`);
        continue;
      }
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        problems.push(`${shown(file)}: ${(error as Error).message}`);
        continue;
      }
      const raw = parseYamlSafe(text, shown(file), problems);
      if (raw === undefined) continue;
      const notJson = plainJsonProblem(raw, '');
      if (notJson !== undefined) {
        problems.push(`${shown(file)}: ${notJson}`);
        continue;
      }
      const parsed = promptVersionSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push(`${shown(file)}: ${describeIssue(issue)}`);
        continue;
      }
      const loaded: LoadedVersion = { id: name, version: Number(match[1]), sha256: contentHash(raw), file, content: parsed.data };
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

/** The tags a plain YAML 1.2 core document resolves to. */
const CORE_TAGS: ReadonlySet<string> = new Set(['tag:yaml.org,2002:str', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float', 'tag:yaml.org,2002:bool', 'tag:yaml.org,2002:null', 'tag:yaml.org,2002:map', 'tag:yaml.org,2002:seq']);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * YAML 1.2, core schema, nothing else: no `%YAML` directive, no `!!` tags (a
 * `!!timestamp` or `!!set` could make two different files hash alike), no
 * anchors or aliases, unique keys. Undefined (and a problem) when the file is not that.
 */
function parseYamlSafe(text: string, where: string, problems: string[]): unknown {
  try {
    const doc = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: true, strict: true, prettyErrors: false });
    const trouble = doc.errors[0] ?? doc.warnings[0];
    if (trouble !== undefined) throw trouble;
    if (doc.directives?.yaml.explicit === true) throw new Error('%YAML directives are not accepted: the registry is YAML 1.2');
    visit(doc, (_key, node) => {
      if (isAlias(node)) throw new Error('aliases are not accepted: write plain YAML');
      if (isNode(node) && (node.anchor !== undefined || (node.tag !== undefined && !node.tag.startsWith('tag:yaml.org,2002:') ))) {
        throw new Error('anchors and tags are not accepted: write plain YAML');
      }
      if (isNode(node) && node.tag !== undefined && !CORE_TAGS.has(node.tag)) throw new Error(`the tag ${node.tag} is not accepted: write plain YAML`);
    });
    return doc.toJS({ maxAliasCount: 0 }) as unknown;
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** Why a parsed value is not plain JSON (a non-finite number, a lone surrogate, a non-plain object), or undefined. */
function plainJsonProblem(value: unknown, path: string): string | undefined {
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path || '(root)'}: ${value} is not a JSON number`;
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? `${path || '(root)'}: a lone surrogate is not text` : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = plainJsonProblem(value[i], `${path}[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      const problem = plainJsonProblem(item, path === '' ? key : `${path}.${key}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return `${path || '(root)'}: not plain JSON`;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
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
