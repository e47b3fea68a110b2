/**
 * Compiles policies/ into policies/compiled/policy.wasm (committed, so the proxy
 * starts without the OPA CLI) and policies/build/ (policy.wasm + revision).
 *
 *   node --import tsx scripts/build-policies.ts           build and write
 *   node --import tsx scripts/build-policies.ts --check   exit 1 when the committed wasm is stale
 *   … --policies <dir>                                    another policies folder
 *
 * Needs the OPA CLI (scripts/install-opa.sh). In --check mode without it, only the
 * sources hash is compared, and under CI (CI set) a missing CLI is an error.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { compiledPaths, readCompiled, writeCompiled, type CompiledPolicy } from '../proxy/policy/compiled.js';
import { policyRevision } from '../proxy/policy/engine.js';
import { compilePolicies, findOpa, OPA_VERSION, opaVersion, PolicyCompileError, sourcesHash } from '../proxy/policy/opaCli.js';
import { readPolicyData } from '../proxy/policy/policyData.js';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const dirFlag = args.indexOf('--policies');
const policiesDir = resolve(dirFlag >= 0 && args[dirFlag + 1] !== undefined ? args[dirFlag + 1]! : join(root, 'policies'));
const rebuildHint = 'run: node --import tsx scripts/build-policies.ts';

async function committed(): Promise<CompiledPolicy | undefined> {
  try {
    return await readCompiled(policiesDir);
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const hash = await sourcesHash(policiesDir);
  const opa = await findOpa(root);
  if (opa !== undefined && (await opaVersion(opa)) !== OPA_VERSION) {
    console.error(`warning: ${opa} is not OPA ${OPA_VERSION}; scripts/install-opa.sh installs the pinned version`);
  }
  if (check) {
    const current = await committed();
    if (current === undefined) {
      console.error(`${compiledPaths(policiesDir).wasm} is missing; ${rebuildHint}`);
      return 1;
    }
    if (current.sourcesHash !== hash) {
      console.error(`policies/compiled is stale: the Rego sources changed since it was built; ${rebuildHint}`);
      return 1;
    }
    if (opa === undefined) {
      if (process.env.CI) {
        console.error('OPA CLI not found (CI): run scripts/install-opa.sh before --check');
        return 1;
      }
      console.warn('OPA CLI not found: compared the sources hash only, not the compiled bytes');
      return 0;
    }
    const rebuilt = await compilePolicies(opa, policiesDir);
    if (Buffer.compare(Buffer.from(rebuilt), Buffer.from(current.wasm)) !== 0) {
      console.error(`policies/compiled/policy.wasm differs from a fresh build of the sources; ${rebuildHint}`);
      return 1;
    }
    console.log(`policies/compiled is up to date (sources ${hash.slice(0, 12)})`);
    return 0;
  }
  if (opa === undefined) {
    console.error('OPA CLI not found: run scripts/install-opa.sh (installs it into .tools/bin)');
    return 1;
  }
  const wasm = await compilePolicies(opa, policiesDir);
  await writeCompiled(policiesDir, { wasm, sourcesHash: hash });
  const revision = policyRevision(wasm, await readPolicyData(policiesDir));
  const buildDir = join(policiesDir, 'build');
  await mkdir(buildDir, { recursive: true });
  await writeFile(join(buildDir, 'policy.wasm'), wasm);
  await writeFile(join(buildDir, 'revision'), `${revision}\n`);
  console.log(`wrote ${compiledPaths(policiesDir).wasm} (${wasm.byteLength} bytes), revision ${revision}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof PolicyCompileError) console.error(error.message);
    else console.error(error);
    process.exit(1);
  },
);
