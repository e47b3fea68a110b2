/**
 * Reads the policy data document from policies/data/ the way `opa test policies/`
 * and `opa build policies/` load it: each `*.json` file's object is merged under
 * `data.data.<sub-directories…>`, so a Rego rule reads `data.data.tenants` whether
 * it runs under `opa test` or in the proxy. Two files that set the same key are an
 * error, as they are for OPA.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export type PolicyDocument = Record<string, unknown>;

/** The directory under the policies directory that holds data files. */
export const DATA_DIR = 'data';

function isObject(value: unknown): value is PolicyDocument {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeInto(target: PolicyDocument, source: PolicyDocument, file: string, path: string[]): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (existing === undefined) target[key] = value;
    else if (isObject(existing) && isObject(value)) mergeInto(existing, value, file, [...path, key]);
    else throw new Error(`${file}: data.${[...path, key].join('.')} is already set by another data file`);
  }
}

async function jsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** The merged data document (`{ data: {...} }`) from `<policiesDir>/data/**.json`. */
export async function readPolicyData(policiesDir: string): Promise<PolicyDocument> {
  const root: PolicyDocument = {};
  const dataDir = join(policiesDir, DATA_DIR);
  let files: string[];
  try {
    files = await jsonFiles(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return root;
    throw error;
  }
  for (const file of files) {
    const shown = relative(process.cwd(), file);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new Error(`${shown}: ${(error as Error).message}`, { cause: error });
    }
    if (!isObject(parsed)) throw new Error(`${shown}: a data file must hold a JSON object`);
    const dirs = relative(policiesDir, join(file, '..')).split(sep).filter((part) => part !== '');
    let target = root;
    for (const dir of dirs) {
      const next = target[dir];
      if (next === undefined) target[dir] = {};
      else if (!isObject(next)) throw new Error(`${shown}: data.${dirs.join('.')} is not an object`);
      target = target[dir] as PolicyDocument;
    }
    mergeInto(target, parsed, shown, dirs);
  }
  return root;
}
