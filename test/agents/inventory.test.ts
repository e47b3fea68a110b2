/**
 * The auditor's inventory: `gatehouse agents export` (CSV, Parquet, JSON) lists
 * every registered agent with what it may do and what the audit trail saw it do,
 * and its numbers match the audit trail; `gatehouse agents unregistered` lists
 * what called without being registered. The registry itself is validated with
 * errors naming file and path.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorCommands, type RunningCollector } from '../../collector/cli/index.js';
import { readAgentDirectory, RegistryError } from '../../proxy/agents/registry.js';
import { captureStdout, makeTempDir, removeDir, startTestCollector, TEST_INGEST } from '../collector/support.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { openaiClient, startTestGateway, type TestGateway } from '../support/gateway.js';
import { agentSpec, createRegistry, type TestRegistry } from './agentRegistry.js';

describe('the agent inventory', () => {
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  let collector: RunningCollector;
  let dataDir: string;
  let gw: TestGateway;

  beforeAll(async () => {
    fixture = await createPolicyFixture({ tenants: { acme: tenantSettings() } });
    registry = await createRegistry([
      agentSpec('chatbot', { purpose: 'Answers customers on the website', data: ['crm:read', 'orders:read'], budgets: { usdPerDay: 50 }, runBudget: { calls: 100 } }),
      agentSpec('payroll-bot', { owner: { team: 'hr', contact: 'hr-oncall@acme.example' }, data: ['hr:salaries'], tools: [{ server: 'hr', tools: ['*'] }] }),
    ]);
    dataDir = await makeTempDir();
    collector = await startTestCollector({ dataDir, port: 0 });
    gw = await startTestGateway(
      {
        providers: { sim: { type: 'simulated', outputTokens: 7 } },
        models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
        prices: { 'gpt-4o-mini': { input: 0.15, output: 0.6 } },
        policy: { enabled: true, dir: fixture.dir, watch: false },
        agents: { dir: registry.dir, watch: false },
        audit: { collectorUrl: collector.url, collectorToken: TEST_INGEST.token },
      },
      [{ id: 'chatbot-key', tenant: 'acme', agent: 'chatbot' }, { id: 'shadow-key', tenant: 'acme', agent: 'laptop-bot' }],
    );
    for (let i = 0; i < 5; i++) await openaiClient(gw, 'chatbot-key').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${i}` }] });
    for (let i = 0; i < 3; i++) await openaiClient(gw, 'shadow-key').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined);
    await gw.stop();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && collector.store.db && Number((await collector.store.db.query('SELECT count(*) AS n FROM audit_records'))[0]?.n) < 8) await new Promise((r) => setTimeout(r, 50));
    await collector.stop();
  });
  afterAll(async () => {
    await fixture?.cleanup();
    await registry?.remove();
    await removeDir(dataDir);
  });

  const run = (name: string, argv: string[]) => captureStdout(() => collectorCommands[name]!(argv));

  async function duck(sql: string): Promise<Array<Record<string, unknown>>> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>;
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }

  it('exports Parquet that DuckDB opens, with numbers equal to the audit trail', async () => {
    const out = join(dataDir, 'agents.parquet');
    const result = await run('agents export', ['--format', 'parquet', '--out', out, '--agents-dir', registry.dir, '--data-dir', dataDir]);
    expect(result.code, result.err).toBe(0);
    const rows = await duck(`SELECT agent_id, owner_team, owner_contact, purpose, status, data, tools, calls, cost_usd::VARCHAR AS cost, budget_usd_per_day::VARCHAR AS budget, run_budget_calls FROM read_parquet('${out}') ORDER BY agent_id`);
    expect(rows.map((r) => r.agent_id)).toEqual(['chatbot', 'payroll-bot']);
    const trail = await duck(`SELECT count(*) AS calls, sum(cost_usd)::DECIMAL(38,12)::VARCHAR AS cost FROM read_parquet('${await exportedRecords()}') WHERE agent_id = 'chatbot' AND record_type = 'request'`);
    expect(rows[0]).toMatchObject({ owner_team: 'research', purpose: 'Answers customers on the website', status: 'active', data: 'crm:read; orders:read', budget: '50.000000', run_budget_calls: 100n });
    expect(Number(rows[0]?.calls)).toBe(5);
    expect(Number(rows[0]?.calls)).toBe(Number(trail[0]?.calls));
    expect(rows[0]?.cost).toBe(trail[0]?.cost);
    expect(rows[1]).toMatchObject({ owner_contact: 'hr-oncall@acme.example', data: 'hr:salaries', tools: 'hr:*' });
    expect(Number(rows[1]?.calls)).toBe(0);
  });

  it('exports CSV a spreadsheet opens: one header row, one row per agent, lists in one cell', async () => {
    const out = join(dataDir, 'agents.csv');
    expect((await run('agents export', ['--format', 'csv', '--out', out, '--agents-dir', registry.dir, '--data-dir', dataDir])).code).toBe(0);
    const rows = parseCsv(await readFile(out, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ agent_id: 'chatbot', models: 'gpt-4o-mini', data: 'crm:read; orders:read', calls: '5' });
    expect(Object.keys(rows[0]!)).toContain('last_seen');
  });

  it('exports JSON with lists as arrays', async () => {
    const out = join(dataDir, 'agents.json');
    expect((await run('agents export', ['--format', 'json', '--out', out, '--agents-dir', registry.dir, '--data-dir', dataDir])).code).toBe(0);
    const rows = JSON.parse(await readFile(out, 'utf8')) as Array<Record<string, unknown>>;
    expect(rows[0]).toMatchObject({ agent_id: 'chatbot', data: ['crm:read', 'orders:read'], calls: 5 });
  });

  it('lists the agents and the unregistered ones', async () => {
    const list = await run('agents list', ['--agents-dir', registry.dir, '--data-dir', dataDir]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/chatbot\s+acme\s+active/);
    expect(list.out).toContain('2 agent(s)');
    const unregistered = await run('agents unregistered', ['--data-dir', dataDir]);
    expect(unregistered.code).toBe(0);
    expect(unregistered.out).toMatch(/acme\s+laptop-bot\s+3\s/);
    expect(unregistered.out).toContain('shadow-key');
  });

  it('refuses an export format it does not know, and a missing registry, as usage errors', async () => {
    expect((await run('agents export', ['--format', 'xlsx', '--out', 'x', '--agents-dir', registry.dir, '--data-dir', dataDir])).code).toBe(2);
    expect((await run('agents list', ['--data-dir', dataDir])).code).toBe(2);
  });

  async function exportedRecords(): Promise<string> {
    const out = join(dataDir, 'export');
    const result = await run('audit export', ['--data-dir', dataDir, '--out', out, '--from', '2000-01-01']);
    expect(result.code, result.err).toBe(0);
    const verified = await run('audit verify', ['--dir', out, '--public-key', join(dataDir, 'audit-signing-key.pub.pem')]);
    expect(verified.code, verified.out).toBe(0);
    return join(out, 'records', '*', '*.parquet');
  }
});

describe('registry validation', () => {
  it('names the file and the path of every problem, and refuses duplicate ids', async () => {
    const registry = await createRegistry([
      agentSpec('good-bot'),
      agentSpec('bad-bot', { status: 'paused', maxDelegationDepth: -1, owner: { team: 'x' } }),
      agentSpec('quiet-bot', { status: 'suspended' }),
    ]);
    await registry.write({ ...agentSpec('good-bot'), name: 'a second good-bot' } as never);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(registry.dir, 'copy.yaml'), (await readFile(join(registry.dir, 'good-bot.yaml'), 'utf8')));
    try {
      const error = await readAgentDirectory(registry.dir).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      const text = (error as RegistryError).problems.join('\n');
      expect(text).toMatch(/bad-bot\.yaml: status: .*allowed: active, suspended, decommissioned/);
      expect(text).toMatch(/bad-bot\.yaml: maxDelegationDepth: /);
      expect(text).toMatch(/bad-bot\.yaml: owner\.contact: /);
      expect(text).toMatch(/quiet-bot\.yaml: statusReason: required when status is suspended/);
      expect(text).toMatch(/good-bot\.yaml: id: 'good-bot' is already registered by .*copy\.yaml/);
    } finally {
      await registry.remove();
    }
  });
});
