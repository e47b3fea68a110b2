/**
 * Issue 14, "Done means": the tone incident, reproduced. Version 1 in production;
 * version 2 deployed by moving the label on a running gateway (its file watcher);
 * requests under both; `prompts impact` names the moment of the switch, the
 * affected requests and users, and the rise in refusals; moving the label back is
 * a rollback, recorded in the trail. And two replicas agree after a label move.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/cli/index.js';
import { collectorCommands } from '../../collector/cli/index.js';
import { captureStdout, makeTempDir, removeDir, startTestCollector, TEST_INGEST } from '../collector/support.js';
import { openaiClient, startTestGateway, type TestGateway } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';
import { advisorVersion, createPromptFixture, V1, V2, type PromptFixture } from './promptFixture.js';

const VARS = { client_name: 'Ada', risk_profile: 'growth' };
const USERS = ['alice', 'bob', 'carol'];

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the tone incident', () => {
  let prompts: PromptFixture;
  let upstream: MockOpenAI;
  let collector: RunningCollector;
  let dataDir: string;
  let gw: TestGateway;

  beforeAll(async () => {
    prompts = await createPromptFixture();
    await prompts.release('advisor', 1, advisorVersion(V1, 0.2));
    await prompts.release('advisor', 2, advisorVersion(V2, 0.4));
    await prompts.setLabels({ advisor: { production: 1, staging: 2 } });
    upstream = await startMockOpenAI();
    dataDir = await makeTempDir();
    collector = await startTestCollector({ dataDir, port: 0 });
    gw = await startTestGateway({
      providers: { openai: openaiProviderConfig(upstream) },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
      prompts: { dir: prompts.dir, watch: true },
      audit: { collectorUrl: collector.url, collectorToken: TEST_INGEST.token },
    }, [{ id: 'desk', tenant: 'wealth', team: 'advisory', allowHeaders: ['user'] }]);
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await collector?.stop();
    await upstream?.stop();
    await prompts?.remove();
    await removeDir(dataDir);
  });

  const ask = (user: string) => openaiClient(gw, 'desk', { headers: { 'x-gatehouse-user': user } }).chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Should I move 10% into bonds?' }], ...({ gatehouse_prompt: { id: 'advisor', variables: VARS } } as object) })
    .then(() => 'ok', (e: unknown) => (e instanceof OpenAI.APIError ? `refused ${e.status}` : 'failed'));
  const servedSystem = () => (upstream.last().body.messages as Array<{ content: string }>)[0]!.content;

  it('is visible: impact names the switch, the affected requests and users, and the rise in refusals; the rollback is recorded', async () => {
    for (const user of USERS) expect(await ask(user)).toBe('ok');
    expect(servedSystem()).toContain('Explain allocations factually');

    // The deploy: production moves to version 2 on the running gateway (its file watcher picks it up).
    const movedAt = new Date();
    await prompts.setLabels({ advisor: { production: 2, staging: 2 } });
    await until(async () => (await ask('probe')) === 'ok' && servedSystem().includes('Do not discuss allocations'), 'the label move to be served');
    // Version 2 refuses allocation questions: the model answers with a refusal the client sees as an error.
    upstream.script(...USERS.flatMap(() => [{ kind: 'status' as const, status: 400, message: 'I cannot discuss allocations.' }]));
    for (const user of USERS) expect(await ask(user)).toBe('refused 400');

    // A client's own (self-reported) prompt id and version never stand in for what the registry rendered.
    await openaiClient(gw, 'desk', { headers: { 'x-gatehouse-prompt-id': 'advisor', 'x-gatehouse-prompt-version': '999' } }).chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'forged' }] });
    const impactOf = async (args: string[]) => captureStdout(() => collectorCommands['prompts impact']!(['advisor', ...args, '--data-dir', dataDir]));
    await until(async () => {
      const probe = await impactOf(['--json']);
      if (probe.code !== 0) return false;
      const parsed = JSON.parse(probe.out) as { version: string; current: { requests: number }; deploys: unknown[] };
      return parsed.version === '2' && parsed.current.requests >= 4 && parsed.deploys.length > 0;
    }, 'the records of version 2 in the store');
    const impact = JSON.parse((await impactOf(['--json', '--requests'])).out) as {
      version: string; current: { from: string; requests: number; users: number; refusals: number; errors: number };
      previous: { version: string; requests: number; refusals: number }; deploys: Array<{ label: string; from_version: string; to_version: string; start_time: string }>;
      requests: Array<{ user_id: string; outcome: string; request_id: string }>;
    };
    expect(impact.version).toBe('2');
    // The moment of the switch: version 2's first request, just after the label move.
    expect(new Date(impact.current.from).getTime()).toBeGreaterThanOrEqual(movedAt.getTime() - 1_000);
    expect(impact.deploys[0]).toMatchObject({ label: 'production', from_version: '1', to_version: '2' });
    // The affected requests and users, and the rise in refusals against version 1.
    expect(impact.current).toMatchObject({ requests: 4, users: 4, refusals: 3, errors: 3 });
    expect(impact.previous).toMatchObject({ version: '1', refusals: 0 });
    expect(impact.previous.requests).toBeGreaterThan(0);
    expect(impact.requests.filter((r) => r.outcome === 'error').map((r) => r.user_id).sort()).toEqual(USERS);
    const table = await impactOf([]);
    expect(table.code, table.err).toBe(0);
    expect(table.out).toMatch(/label production: 1 -> 2 at /);
    expect(table.out).toMatch(/refusal rate\s+75\.0%\s+0\.0%/);

    // The rollback: production back to version 1.
    await prompts.setLabels({ advisor: { production: 1, staging: 2 } });
    await until(async () => (await ask('probe')) === 'ok' && servedSystem().includes('Explain allocations factually'), 'the rollback to be served');
    await until(async () => {
      const history = await captureStdout(() => collectorCommands['prompts history']!(['advisor', '--data-dir', dataDir]));
      return history.out.includes('2 label move(s)');
    }, 'both label moves in the trail');
    const history = await captureStdout(() => collectorCommands['prompts history']!(['advisor', '--data-dir', dataDir]));
    const lines = history.out.split('\n').filter((l) => l.includes('production'));
    expect(lines[0]).toMatch(/production\s+1\s+2/);
    expect(lines[1]).toMatch(/production\s+2\s+1/);
  }, 60_000);
});

describe('two replicas after a label move', () => {
  it('both serve the new version, each from its own watcher', async () => {
    const prompts = await createPromptFixture();
    const upstream = await startMockOpenAI();
    const replicas: TestGateway[] = [];
    try {
      await prompts.release('advisor', 1, advisorVersion(V1, 0.2));
      await prompts.release('advisor', 2, advisorVersion(V2, 0.4));
      await prompts.setLabels({ advisor: { production: 1 } });
      for (let i = 0; i < 2; i++) {
        replicas.push(await startTestGateway({
          providers: { openai: openaiProviderConfig(upstream) },
          models: { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
          prompts: { dir: prompts.dir, watch: true },
        }));
      }
      const served = async (gw: TestGateway) => {
        await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], ...({ gatehouse_prompt: { id: 'advisor', variables: VARS } } as object) });
        return (upstream.last().body.messages as Array<{ content: string }>)[0]!.content;
      };
      for (const gw of replicas) expect(await served(gw)).toContain('Explain allocations factually');
      await prompts.setLabels({ advisor: { production: 2 } });
      for (const gw of replicas) await until(async () => (await served(gw)).includes('Do not discuss allocations'), 'the replica to serve version 2', 10_000);
      for (const gw of replicas) expect(gw.prompts!.current.label('advisor', 'production')).toBe(2);
    } finally {
      for (const gw of replicas) await gw.stop();
      await upstream.stop();
      await prompts.remove();
    }
  }, 60_000);
});
