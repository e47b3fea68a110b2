/**
 * Hot reload on a running gateway: a Rego change that does not compile is refused
 * with file:line and the old revision keeps deciding; a data-only change (a limit)
 * applies without a rebuild, by reload() and by the file watcher.
 */
import OpenAI from 'openai';
import { afterEach, expect, it } from 'vitest';
import { openaiClient, spanOf, waitFor, type TestGateway } from '../support/gateway.js';
import { createPolicyFixture, describeWithOpa, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startEnforcedGateway } from './enforcedGateway.js';

const KEYS = [
  { id: 'user-1', tenant: 'north', user: 'user-1' },
  { id: 'user-2', tenant: 'north', user: 'user-2' },
];

function tenants(userRpm: number) {
  return { north: tenantSettings({ limits: { tenant: { requestsPerMinute: 1000 }, user: { requestsPerMinute: userRpm } } }) };
}

async function call(gw: TestGateway, keyId: string): Promise<{ status: number; code?: string; limit: string | null; revision: unknown }> {
  const client = openaiClient(gw, keyId);
  try {
    const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    return { status: response.status, limit: response.headers.get('x-ratelimit-limit-requests'), revision: span.attributes['gatehouse.policy.revision'] };
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    const span = await spanOf(gw, error.headers?.get('x-request-id'));
    return { status: error.status ?? 0, code: String(error.code), limit: error.headers?.get('x-ratelimit-limit-requests') ?? null, revision: span.attributes['gatehouse.policy.revision'] };
  }
}

let fixture: PolicyFixture | undefined;
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  await fixture?.cleanup();
  gw = undefined;
  fixture = undefined;
});

describeWithOpa('policy hot reload on a running gateway', () => {
  it('refuses a Rego change that does not compile, with file:line, and keeps deciding with the old revision', async () => {
    fixture = await createPolicyFixture({ tenants: tenants(100) });
    gw = await startEnforcedGateway({ fixture, keys: KEYS });
    const store = gw.enforcement.policies!;
    const first = await call(gw, 'user-1');
    expect(first.status).toBe(200);
    expect(first.revision).toMatch(/^[0-9a-f]{64}$/);

    await fixture.editRego('packs/generic/max_tokens.rego', (source) => `${source}\nbroken_rule if {\n\tinput.x ==\n}\n`);
    const result = await store.reload();
    expect(result.ok).toBe(false);
    expect(result.changed).toBe('none');
    expect(result.revision).toBe(first.revision);
    expect(result.locations?.length).toBeGreaterThan(0);
    expect(result.locations![0]!.file).toMatch(/packs\/generic\/max_tokens\.rego$/);
    expect(result.locations![0]!.line).toBeGreaterThan(1);
    expect(result.error).toMatch(/max_tokens\.rego:\d+/);
    expect(store.lastError?.ok).toBe(false);

    const after = await call(gw, 'user-1');
    expect(after).toMatchObject({ status: 200, revision: first.revision });
  });

  it('applies a data-only change (a limit) without a rebuild', async () => {
    fixture = await createPolicyFixture({ tenants: tenants(100) });
    gw = await startEnforcedGateway({ fixture, keys: KEYS });
    const store = gw.enforcement.policies!;
    const before = await call(gw, 'user-2');
    expect(before.limit).toBe('100');

    await fixture.writeTenants(tenants(2));
    const result = await store.reload();
    expect(result).toMatchObject({ ok: true, changed: 'data' });
    expect(result.revision).not.toBe(before.revision);

    // user-2 already made one call this minute: one more fits under the new limit of 2.
    expect(await call(gw, 'user-2')).toMatchObject({ status: 200, limit: '2', revision: result.revision });
    expect(await call(gw, 'user-2')).toMatchObject({ status: 429, code: 'rate_limited', limit: '2', revision: result.revision });
  });

  it('picks up a data change from the file watcher', async () => {
    fixture = await createPolicyFixture({ tenants: tenants(100) });
    gw = await startEnforcedGateway({ fixture, keys: KEYS, watch: true });
    const store = gw.enforcement.policies!;
    const revision = store.current.revision;
    await fixture.writeTenants(tenants(1));
    await waitFor(() => store.current.revision !== revision, 5_000, 'the watcher to reload the data');
    expect(await call(gw, 'user-1')).toMatchObject({ status: 200, limit: '1', revision: store.current.revision });
    expect(await call(gw, 'user-1')).toMatchObject({ status: 429, code: 'rate_limited' });
  });
});
