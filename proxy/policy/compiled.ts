/**
 * The committed build output, so that the proxy starts without the OPA CLI:
 *   policies/compiled/policy.wasm     the module with both entrypoints
 *   policies/compiled/sources.sha256  sourcesHash() of the Rego it was built from
 * scripts/build-policies.ts writes them; `--check` (CI) fails when they are stale.
 * Nothing here ends in .json/.rego/.yaml, so `opa test policies/` ignores the folder.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const COMPILED_DIR = 'compiled';
export const WASM_FILE = 'policy.wasm';
export const SOURCES_HASH_FILE = 'sources.sha256';

export interface CompiledPolicy {
  wasm: Uint8Array;
  /** The sources hash recorded next to the wasm. */
  sourcesHash: string;
}

export function compiledPaths(policiesDir: string): { wasm: string; sourcesHash: string } {
  const dir = join(policiesDir, COMPILED_DIR);
  return { wasm: join(dir, WASM_FILE), sourcesHash: join(dir, SOURCES_HASH_FILE) };
}

/** The committed wasm and its sources hash; throws (ENOENT) when there is none. */
export async function readCompiled(policiesDir: string): Promise<CompiledPolicy> {
  const paths = compiledPaths(policiesDir);
  const [wasm, hash] = await Promise.all([readFile(paths.wasm), readFile(paths.sourcesHash, 'utf8')]);
  return { wasm: new Uint8Array(wasm), sourcesHash: hash.trim().split(/\s+/)[0] ?? '' };
}

export async function writeCompiled(policiesDir: string, compiled: CompiledPolicy): Promise<void> {
  const paths = compiledPaths(policiesDir);
  await mkdir(join(policiesDir, COMPILED_DIR), { recursive: true });
  await writeFile(paths.wasm, compiled.wasm);
  await writeFile(paths.sourcesHash, `${compiled.sourcesHash}  rego sources under policies/ (tests excluded)\n`);
}
