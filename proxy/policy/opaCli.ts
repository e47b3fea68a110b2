/**
 * The OPA command line, used to compile Rego into policy.wasm (scripts/build-policies.ts
 * and hot reload). The proxy never needs it to start: it loads the committed
 * policies/compiled/policy.wasm.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { fileFromBundle } from './bundleArchive.js';
import { ENTRYPOINTS } from './engine.js';

const run = promisify(execFile);

/** The pinned OPA version (scripts/install-opa.sh installs exactly this one). */
export const OPA_VERSION = '1.22.2';

/** Folders under policies/ that hold build output, never sources. */
export const OUTPUT_DIRS = ['build', 'compiled'] as const;

export interface SourceLocation {
  file: string;
  line: number;
}

/** A Rego compile failure, with OPA's own message and every file:line it named. */
export class PolicyCompileError extends Error {
  override readonly name = 'PolicyCompileError';
  constructor(
    message: string,
    readonly locations: SourceLocation[],
  ) {
    super(message);
  }
}

/**
 * The OPA binary to use: $GATEHOUSE_OPA, else <root>/.tools/bin/opa, else `opa` on
 * the PATH; undefined when none answers `opa version`.
 */
export async function findOpa(root: string): Promise<string | undefined> {
  const candidates = [process.env.GATEHOUSE_OPA, join(root, '.tools', 'bin', 'opa'), 'opa'];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === '') continue;
    if (candidate.includes(sep)) {
      try {
        await access(candidate);
      } catch {
        continue;
      }
    }
    if ((await opaVersion(candidate)) !== undefined) return candidate;
  }
  return undefined;
}

/** `opa version`'s version number, or undefined when the binary does not run. */
export async function opaVersion(opa: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(opa, ['version'], { timeout: 10_000 });
    return /^Version:\s*(\S+)/m.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

/** Every file:line OPA's compiler output mentions ("policies/x.rego:12: rego_parse_error: …"). */
export function locationsIn(output: string): SourceLocation[] {
  const found: SourceLocation[] = [];
  for (const match of output.matchAll(/([^\s:]+\.rego):(\d+)(?::\d+)?:/g)) {
    found.push({ file: match[1]!, line: Number(match[2]) });
  }
  return found;
}

/**
 * Compiles the Rego under policiesDir (tests and output folders excluded) into a
 * WASM module with the Gatehouse entrypoints (ENTRYPOINTS). OPA runs from policiesDir's parent
 * with a relative path, because the module embeds source paths (for runtime error
 * locations): the output is then the same on every checkout, and CI can compare
 * it byte for byte. Throws PolicyCompileError with OPA's message and file:line
 * (relative to that parent, e.g. policies/packs/x.rego:12) when the Rego does not compile.
 */
export async function compilePolicies(opa: string, policiesDir: string): Promise<Uint8Array> {
  const workDir = await mkdtemp(join(tmpdir(), 'gatehouse-opa-'));
  const bundlePath = join(workDir, 'bundle.tar.gz');
  try {
    const args = ['build', '-t', 'wasm', ...ENTRYPOINTS.flatMap((name) => ['-e', name]), '--ignore', '*_test.rego'];
    for (const dir of OUTPUT_DIRS) args.push('--ignore', dir);
    const absolute = resolve(policiesDir);
    args.push('-o', bundlePath, basename(absolute));
    try {
      await run(opa, args, { cwd: dirname(absolute), timeout: 120_000, maxBuffer: 4 * 1024 * 1024 });
    } catch (error) {
      const failure = error as { stderr?: string; stdout?: string; message: string };
      const output = `${failure.stderr ?? ''}${failure.stdout ?? ''}`.trim() || failure.message;
      throw new PolicyCompileError(output, locationsIn(output));
    }
    const wasm = fileFromBundle(await readFile(bundlePath), 'policy.wasm');
    if (wasm === undefined) throw new PolicyCompileError('opa build produced no policy.wasm', []);
    return wasm;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The Rego files that go into policy.wasm: every .rego under policiesDir except tests and output. */
export async function regoSources(policiesDir: string): Promise<string[]> {
  const entries = await readdir(policiesDir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.rego') && !entry.name.endsWith('_test.rego'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !OUTPUT_DIRS.some((dir) => relative(policiesDir, file).split(sep)[0] === dir))
    .sort();
}

/** sha256 over the Rego sources' relative paths and contents, and the OPA version. */
export async function sourcesHash(policiesDir: string): Promise<string> {
  const hash = createHash('sha256').update(`opa ${OPA_VERSION}\0`);
  for (const file of await regoSources(policiesDir)) {
    hash.update(relative(policiesDir, file).split(sep).join('/')).update('\0');
    hash.update(await readFile(file)).update('\0');
  }
  return hash.digest('hex');
}
