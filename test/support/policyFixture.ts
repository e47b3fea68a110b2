/**
 * A scratch copy of policies/ for end-to-end tests, with the test's own data.
 *
 * The copy keeps the Rego sources and policies/compiled/ byte for byte, so its
 * sources hash (relative paths and contents) matches the committed wasm and the
 * proxy starts from it without compiling. Only policies/data/*.json is replaced by
 * what the test asks for. Editing a .rego (`editRego`) makes the hash differ: a
 * reload then compiles with the OPA CLI, which the copy finds at
 * `<root>/.tools/bin/opa` (a link to the repository's, when installed).
 *
 * Layout: `<tmp>/policies` (pass `dir` as `policy.dir`) next to `<tmp>/.tools/bin/opa`.
 */
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { findOpa } from '../../proxy/policy/opaCli.js';
import { describeRequiring } from './requiredTool.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const POLICIES = join(REPO_ROOT, 'policies');

/** The repository's OPA CLI (.tools/bin/opa, $GATEHOUSE_OPA or `opa` on PATH), or undefined. */
export const OPA = await findOpa(REPO_ROOT);

type Json = Record<string, unknown>;

export interface PolicyFixtureOptions {
  /** `data.data.tenants`: the tenants' limits, budgets, PII and pack switches (policies/data/tenants.json). */
  tenants: Json;
  /** `data.data.defaults` for tenants without an entry; default: the shipped defaults. */
  defaults?: Json;
  /** `data.data.global` (global limits); default: none, so tests share no global counter. */
  global?: Json;
}

export interface PolicyFixture {
  /** The policies folder: pass it as `policy.dir`. */
  readonly dir: string;
  /** Replaces `data.data.tenants` (a data-only change: no rebuild). */
  writeTenants(tenants: Json): Promise<void>;
  /** Rewrites a Rego file under the policies folder, e.g. `packs/generic/agents.rego`. */
  editRego(file: string, edit: (source: string) => string): Promise<void>;
  /** Removes the copy; safe to call twice. */
  cleanup(): Promise<void>;
}

export async function createPolicyFixture(options: PolicyFixtureOptions): Promise<PolicyFixture> {
  const root = await mkdtemp(join(tmpdir(), 'gatehouse-policy-fixture-'));
  const dir = join(root, 'policies');
  await cp(POLICIES, dir, {
    recursive: true,
    filter: (source) => !source.startsWith(join(POLICIES, 'build')) && !source.startsWith(join(POLICIES, 'data')),
  });
  await mkdir(join(dir, 'data'), { recursive: true });
  if (OPA !== undefined && isAbsolute(OPA)) {
    await mkdir(join(root, '.tools', 'bin'), { recursive: true });
    await symlink(OPA, join(root, '.tools', 'bin', 'opa'));
  }
  const shipped = JSON.parse(await readFile(join(POLICIES, 'data', 'defaults.json'), 'utf8')) as Json;
  const finance = await readFile(join(POLICIES, 'data', 'finance.json'), 'utf8');
  const defaults: Json = { defaults: options.defaults ?? shipped.defaults };
  if (options.global !== undefined) defaults.global = options.global;
  await writeFile(join(dir, 'data', 'defaults.json'), JSON.stringify(defaults, null, 2));
  await writeFile(join(dir, 'data', 'finance.json'), finance);
  const writeTenants = (tenants: Json) => writeFile(join(dir, 'data', 'tenants.json'), JSON.stringify({ tenants }, null, 2));
  await writeTenants(options.tenants);
  let removed: Promise<void> | undefined;
  return {
    dir,
    writeTenants,
    async editRego(file, edit) {
      const path = join(dir, file);
      await writeFile(path, edit(await readFile(path, 'utf8')));
    },
    cleanup: () => (removed ??= rm(root, { recursive: true, force: true })),
  };
}

/**
 * `describe` for a suite that compiles Rego. Without the OPA CLI: throws under CI
 * (CI installs it with scripts/install-opa.sh), otherwise skips with a loud warning.
 */
export function describeWithOpa(name: string, suite: () => void): void {
  describeRequiring(name, OPA === undefined ? 'the OPA CLI is not installed (scripts/install-opa.sh)' : undefined, suite);
}

/** A tenant entry with generous defaults that a test overrides field by field. */
export function tenantSettings(overrides: Json = {}): Json {
  return {
    limits: { tenant: { requestsPerMinute: 1000, tokensPerMinute: 10_000_000 } },
    budgets: {},
    max_tokens: 256,
    max_agent_depth: 4,
    prompt_injection: 'deny',
    pii: { redact: [], pseudonymize: false, response_redact: [] },
    ...overrides,
  };
}
