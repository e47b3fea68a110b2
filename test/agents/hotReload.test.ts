/**
 * The registry reloads on file changes: a suspension written to an agent's file
 * applies to the running gateway (policies included, through data.agents), and
 * an invalid edit is refused while the previous registry keeps answering.
 */
import OpenAI from 'openai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { openaiClient, startTestGateway, type TestGateway } from '../support/gateway.js';
import { agentSpec, createRegistry, type TestRegistry } from './agentRegistry.js';

describe('registry hot reload', () => {
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  let gw: TestGateway;

  beforeAll(async () => {
    fixture = await createPolicyFixture({ tenants: { acme: tenantSettings() } });
    registry = await createRegistry([agentSpec('analyst', { models: ['gpt-4o-mini'] })]);
    gw = await startTestGateway(
      {
        providers: { sim: { type: 'simulated', outputTokens: 4 } },
        models: {
          'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] },
          'gpt-4o': { targets: [{ provider: 'sim', model: 'gpt-4o' }] },
        },
        policy: { enabled: true, dir: fixture.dir, watch: false },
        agents: { dir: registry.dir, watch: true },
      },
      [{ id: 'analyst-key', tenant: 'acme', agent: 'analyst' }],
    );
  });
  afterAll(async () => {
    await gw?.stop();
    await fixture?.cleanup();
    await registry?.remove();
  });

  const code = (model: string) =>
    openaiClient(gw, 'analyst-key').chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
      .then(() => 'ok', (e: unknown) => (e instanceof OpenAI.APIError ? String(e.code) : 'error'));

  async function until(expected: string, model = 'gpt-4o-mini'): Promise<void> {
    const deadline = Date.now() + 5_000;
    let last = '';
    while (Date.now() < deadline && (last = await code(model)) !== expected) await new Promise((r) => setTimeout(r, 50));
    expect(last).toBe(expected);
  }

  it('applies a models change to the policies, refuses an invalid edit, and applies a suspension', async () => {
    expect(await code('gpt-4o-mini')).toBe('ok');
    expect(await code('gpt-4o')).toBe('model_not_allowed');
    await registry.write(agentSpec('analyst', { models: ['gpt-4o-mini', 'gpt-4o'] }));
    await until('ok', 'gpt-4o');

    await writeFile(join(registry.dir, 'analyst.yaml'), 'id: analyst\nstatus: [not, a, status]\n');
    await new Promise((r) => setTimeout(r, 400));
    expect(await code('gpt-4o')).toBe('ok');

    await registry.write(agentSpec('analyst', { status: 'suspended', statusReason: 'quarterly access review' }));
    await until('agent_suspended');
  });
});
