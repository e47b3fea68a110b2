/**
 * Issue 18, "Done means": budgets survive kill -9. A user spends their whole
 * $0.05 daily budget; the gateway is killed (SIGKILL) right after the response
 * that exhausted it, well inside the snapshot interval, and started again on the
 * same data directory: the next request is refused with budget_exceeded.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPolicyFixture, describeWithOpa, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startGatewayProcess, stopAllProcesses, tempDir, virtualKey, writeConfigFile } from '../support/processes.js';

describeWithOpa('budgets across kill -9', () => {
  let fixture: PolicyFixture;
  let work: { dir: string; remove: () => Promise<void> };
  let config: string;
  const key = virtualKey({ id: 'bob', tenant: 'acme', user: 'bob' });

  const ask = (url: string) => fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How much is left?' }] }),
  });

  beforeAll(async () => {
    fixture = await createPolicyFixture({ tenants: { acme: tenantSettings({ budgets: { user: { usdPerDay: 0.05 } } }) } });
    work = await tempDir();
    config = await writeConfigFile(work.dir, {
      dataDir: `${work.dir}/data`,
      providers: { sim: { type: 'simulated', latencyMs: 0 } },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
      // A token costs exactly $0.001.
      prices: { 'gpt-4o-mini': { input: 1000, output: 1000 } },
      keys: [key.entry],
      policy: { dir: fixture.dir, watch: false },
      collector: { port: 0 },
      console: { enabled: false },
    });
  }, 60_000);
  afterAll(async () => {
    await stopAllProcesses();
    await fixture?.cleanup();
    await work?.remove();
  });

  it('refuses the next request after a restart from kill -9 right after the budget-exhausting response', async () => {
    const first = await startGatewayProcess(config);
    let spent = 0;
    let requests = 0;
    while (spent < 0.05) {
      const response = await ask(first.url);
      expect(response.status, await response.clone().text()).toBe(200);
      const body = await response.json() as { usage: { total_tokens: number } };
      spent += body.usage.total_tokens / 1000;
      requests += 1;
      expect(requests).toBeLessThan(50);
    }
    // Right after the response that reached the budget: no graceful stop, no snapshot.
    await first.process.kill('SIGKILL');

    const second = await startGatewayProcess(config);
    const refused = await ask(second.url);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('budget_exceeded');
    expect(await second.process.stop()).toBe(0);
  }, 90_000);
});
