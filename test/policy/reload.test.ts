import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compilePolicies, locationsIn } from '../../proxy/policy/opaCli.js';
import { PolicyStore, type ReloadResult } from '../../proxy/policy/store.js';
import { describeWithOpa } from '../support/policyFixture.js';
import { advisor, benign, requestInput, requireOpa, scratchPolicies } from './policyFixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function startStore(options: { opa?: string | null; watch?: boolean; onReload?: (r: ReloadResult) => void } = {}) {
  const scratch = await scratchPolicies();
  const store = new PolicyStore({ policiesDir: scratch.dir, watch: false, opa: null, ...options });
  cleanups.push(async () => {
    await store.shutdown();
    await scratch.cleanup();
  });
  await store.start();
  return { store, dir: scratch.dir };
}

async function editJson(file: string, edit: (doc: Record<string, any>) => void): Promise<void> {
  const doc = JSON.parse(await readFile(file, 'utf8')) as Record<string, any>;
  edit(doc);
  await writeFile(file, JSON.stringify(doc));
}

function userLimit(store: PolicyStore): number | undefined {
  return store.current.evaluateRequest(requestInput(advisor, 'gpt-4o', benign)).limits.find((l) => l.scope === 'user')?.requestsPerMinute;
}

describe('PolicyStore', () => {
  it('starts from the committed wasm without the OPA CLI', async () => {
    const { store } = await startStore({ opa: null });
    expect(store.current.revision).toMatch(/^[0-9a-f]{64}$/);
    expect(store.lastError).toBeUndefined();
  });

  it('reloads a data-only change without the CLI and swaps the revision', async () => {
    const { store, dir } = await startStore({ opa: null });
    const before = store.current;
    await editJson(join(dir, 'data', 'tenants.json'), (doc) => {
      doc.tenants.acme.teams.advisory.limits.user.requestsPerMinute = 3;
    });
    const result = await store.reload();
    expect(result).toMatchObject({ ok: true, changed: 'data' });
    expect(userLimit(store)).toBe(3);
    expect(store.current.revision).not.toBe(before.revision);
    expect(store.reloads).toBe(1);
    // an engine taken before the swap keeps answering with its own data
    expect(before.evaluateRequest(requestInput(advisor, 'gpt-4o', benign)).limits.find((l) => l.scope === 'user')?.requestsPerMinute).not.toBe(3);
  });

  it('refuses malformed data and keeps the working policy', async () => {
    const { store, dir } = await startStore({ opa: null });
    const revision = store.current.revision;
    await writeFile(join(dir, 'data', 'tenants.json'), '{ "tenants": ');
    const result = await store.reload();
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/tenants\.json/);
    expect(store.current.revision).toBe(revision);
    expect(store.failedReloads).toBe(1);
    expect(store.lastError?.ok).toBe(false);
    expect(store.current.evaluateRequest(requestInput(advisor, 'gpt-4o', benign)).allow).toBe(true);
  });

  it('reports why a Rego change cannot be applied without the CLI', async () => {
    const { store, dir } = await startStore({ opa: null });
    const file = join(dir, 'packs', 'generic', 'agents.rego');
    await writeFile(file, (await readFile(file, 'utf8')) + '\n# edited\n');
    const result = await store.reload();
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/OPA CLI is not installed/);
    expect(store.current.evaluateRequest(requestInput(advisor, 'gpt-4o', benign)).allow).toBe(true);
  });

  it('reloads on a file change (watch, debounced)', async () => {
    const results: ReloadResult[] = [];
    const { store, dir } = await startStore({ opa: null, watch: true, onReload: (r) => results.push(r) });
    await editJson(join(dir, 'data', 'tenants.json'), (doc) => {
      doc.tenants.acme.teams.advisory.limits.user.requestsPerMinute = 4;
    });
    await expect.poll(() => userLimit(store), { timeout: 5000 }).toBe(4);
    expect(results.some((r) => r.ok && r.changed === 'data')).toBe(true);
  });

  it('reads file:line out of OPA compiler output', () => {
    const output = '1 error occurred: policies/packs/generic/agents.rego:12: rego_parse_error: unexpected }';
    expect(locationsIn(output)).toEqual([{ file: 'policies/packs/generic/agents.rego', line: 12 }]);
  });
});

describeWithOpa('PolicyStore with the OPA CLI', () => {
  it('compiles the sources to the committed wasm byte for byte', async () => {
    const { dir } = await startStore({ opa: null });
    const { readCompiled } = await import('../../proxy/policy/compiled.js');
    const fresh = await compilePolicies(requireOpa(), dir);
    expect(Buffer.from(fresh).equals(Buffer.from((await readCompiled(dir)).wasm))).toBe(true);
  });

  it('refuses a broken Rego with file:line while the old policy keeps answering', async () => {
    const { store, dir } = await startStore({ opa: requireOpa() });
    const revision = store.current.revision;
    const file = join(dir, 'packs', 'generic', 'agents.rego');
    await writeFile(file, (await readFile(file, 'utf8')).replace('input.context.agent_depth >', 'input.context.agent_depth >>'));
    const result = await store.reload();
    expect(result.ok).toBe(false);
    expect(result.locations?.[0]?.file).toMatch(/agents\.rego$/);
    expect(result.locations?.[0]?.line).toBeGreaterThan(0);
    expect(result.error).toMatch(/agents\.rego:\d+/);
    expect(store.current.revision).toBe(revision);
    expect(store.current.evaluateRequest(requestInput(advisor, 'gpt-4o', benign)).allow).toBe(true);
  });

  it('recompiles a Rego change and swaps it in', async () => {
    const { store, dir } = await startStore({ opa: requireOpa() });
    const file = join(dir, 'packs', 'generic', 'models.rego');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"model_not_allowed"', '"model_not_on_list"'));
    const result = await store.reload();
    expect(result).toMatchObject({ ok: true, changed: 'sources' });
    expect(store.current.evaluateRequest(requestInput(advisor, 'o3', benign)).code).toBe('model_not_on_list');
  });
});
