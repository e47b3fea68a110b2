/**
 * `gatehouse readiness`: each check with a deployment that fails it and one that
 * passes it, judged through the real config loader and the real compiled policy.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { hashKey } from '../../proxy/identity/keyHash.js';
import { checkAgents } from '../../proxy/readiness/checks/agents.js';
import { checkAttribution } from '../../proxy/readiness/checks/attribution.js';
import { checkAuditMode, checkCollector, checkSchema, checkSigningKey, checkSpool } from '../../proxy/readiness/checks/audit.js';
import { checkShadowedModels } from '../../proxy/readiness/checks/configHygiene.js';
import { checkFailover } from '../../proxy/readiness/checks/failover.js';
import { checkGuardrails } from '../../proxy/readiness/checks/guardrails.js';
import { checkLimits } from '../../proxy/readiness/checks/limits.js';
import { checkPrices } from '../../proxy/readiness/checks/prices.js';
import { checkPromptTracking } from '../../proxy/readiness/checks/prompts.js';
import { checkSecrets } from '../../proxy/readiness/checks/secrets.js';
import { checkTools } from '../../proxy/readiness/checks/tools.js';
import { loadInputs, type ReadinessInputs } from '../../proxy/readiness/inputs.js';
import { asJunit } from '../../proxy/readiness/report.js';
import { AUDIT_ATTRIBUTES } from '../../proxy/telemetry/attributes.js';
import { runReadiness } from '../../proxy/readiness/run.js';
import { parseConfig } from '../../proxy/config/load.js';
import type { ConfigInput } from '../../proxy/config/schema.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { agentSpec, createRegistry, type TestRegistry } from '../agents/agentRegistry.js';
import { runGatehouse } from '../support/processes.js';

const HASH = hashKey('readiness-test-key');
const READY_TENANT = tenantSettings({
  limits: { tenant: { requestsPerMinute: 600 }, team: { requestsPerMinute: 200 }, user: { requestsPerMinute: 20 } },
  budgets: { tenant: { usdPerMonth: 1000 }, user: { usdPerDay: 20 } },
});

describe('readiness checks', () => {
  let dir: string;
  let policies: PolicyFixture;
  let registry: TestRegistry;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-readiness-'));
    policies = await createPolicyFixture({
      tenants: {
        bank: { ...READY_TENANT, regulated: true, packs: { finance: { investment_recommendation: true } } },
        loose: tenantSettings({ limits: { tenant: { requestsPerMinute: 100000 } }, regulated: true }),
      },
      global: { limits: { requestsPerMinute: 3000 } },
    });
    registry = await createRegistry([
      agentSpec('good-bot', { tenant: 'bank', budgets: { usdPerDay: 10 } }),
      agentSpec('bare-bot', { tenant: 'bank' }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await policies?.cleanup();
    await registry?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  const base = (): ConfigInput => ({
    dataDir: join(dir, 'data'),
    providers: { openai: { type: 'openai', apiKey: '${OPENAI_KEY}' }, anthropic: { type: 'anthropic', apiKey: '${ANTHROPIC_KEY}' } },
    models: { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'anthropic', model: 'claude-haiku-4-5' }] } },
    keys: [{ id: 'desk', hash: HASH, tenant: 'bank', team: 'advisory', user: 'alice' }],
    policy: { dir: policies.dir, watch: false },
    audit: { collectorUrl: 'http://127.0.0.1:9/otlp' },
  });
  const env = { OPENAI_KEY: 'sk-x', ANTHROPIC_KEY: 'sk-y' };

  async function inputs(change: (c: ConfigInput) => void = () => {}, raw?: unknown): Promise<ReadinessInputs> {
    const config = base();
    change(config);
    const loaded = await loadInputs(parseConfig(config, '(test)', env), '(test)', undefined);
    return { ...loaded, raw: raw ?? config };
  }

  it('limits.per-principal: a key without a user limit or budget fails; a limited, budgeted one below global passes', async () => {
    expect((checkLimits(await inputs())).status).toBe('pass');
    const loose = checkLimits(await inputs((c) => { c.keys = [{ id: 'app', hash: HASH, tenant: 'loose', team: 't', user: 'u' }]; }));
    expect(loose.status).toBe('fail');
    expect(loose.detail).toContain('app');
    expect(checkLimits(await inputs((c) => { c.policy = { enabled: false }; })).status).toBe('fail');
  });

  it('attribution.keys: a key without a team, or without any user, fails', async () => {
    expect(checkAttribution(await inputs()).status).toBe('pass');
    const bad = checkAttribution(await inputs((c) => { c.keys = [{ id: 'anon', hash: HASH, tenant: 'bank' }]; }));
    expect(bad).toMatchObject({ status: 'fail' });
    expect(bad.detail).toContain('anon');
  });

  it('audit: best-effort or off fails; an unreachable collector fails; the spool, the schema and the signing key are checked', async () => {
    expect(checkAuditMode(await inputs()).status).toBe('pass');
    expect(checkAuditMode(await inputs((c) => { c.audit = { mode: 'best-effort' }; })).status).toBe('fail');
    expect((await checkCollector(await inputs())).status).toBe('fail');
    const up = (async () => new Response('ok')) as unknown as typeof fetch;
    expect((await checkCollector(await inputs(), up)).status).toBe('pass');
    expect((await checkSpool(await inputs())).status).toBe('pass');
    await writeFile(join(dir, 'a-file'), 'x');
    expect((await checkSpool(await inputs((c) => { c.audit = { spoolDir: join(dir, 'a-file', 'spool') }; }))).status).toBe('fail');
    expect(checkSchema().status).toBe('pass');
    const withoutPrompts = checkSchema(AUDIT_ATTRIBUTES.filter((a) => !a.name.startsWith('gatehouse.prompt.')));
    expect(withoutPrompts.status).toBe('fail');
    expect(withoutPrompts.detail).toContain('prompt version: gatehouse.prompt.id');
    expect(checkSigningKey(await inputs()).status).toBe('warn');
    await mkdir(join(dir, 'data'), { recursive: true });
    await writeFile(join(dir, 'data', 'audit-signing-key.pem'), 'key', { mode: 0o600 });
    expect(checkSigningKey(await inputs()).status).toBe('pass');
  });

  it('prompts.tracking: keys sending chat without a prompt version are listed', async () => {
    const db = (rows: Array<Record<string, unknown>>) => ({ query: async () => rows }) as never;
    expect((await checkPromptTracking(db([{ key_id: 'desk', calls: 5, untracked: 0 }]))).status).toBe('pass');
    const untracked = await checkPromptTracking(db([{ key_id: 'desk', calls: 5, untracked: 2 }]));
    expect(untracked).toMatchObject({ status: 'warn' });
    expect(untracked.detail).toContain('desk (2 of 5)');
    expect((await checkPromptTracking(undefined)).status).toBe('warn');
  });

  it('guardrails.regulated: a regulated tenant without a response policy fails', async () => {
    const result = checkGuardrails(await inputs());
    expect(result.status).toBe('fail');
    expect(result.detail).toContain('loose');
    expect(result.detail).not.toContain('bank');
    const onlyBank = await inputs();
    const tenants = (onlyBank.data as { data: { tenants: Record<string, unknown> } }).data.tenants;
    const ready = checkGuardrails({ ...onlyBank, data: { ...onlyBank.data, data: { ...(onlyBank.data as { data: object }).data, tenants: { bank: tenants.bank } } } as never });
    expect(ready.status).toBe('pass');
  });

  it('failover.targets: an alias on one provider fails; two providers pass', async () => {
    expect(checkFailover(await inputs()).status).toBe('pass');
    const single = checkFailover(await inputs((c) => { c.models = { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'openai', model: 'gpt-4o' }] } }; }));
    expect(single.status).toBe('fail');
    expect(single.detail).toContain('gpt-4o-mini (openai)');
  });

  it('agents.registry: an agent without a budget fails; keys acting as agents without a registry fail', async () => {
    const withRegistry = checkAgents(await inputs((c) => { c.agents = { dir: registry.dir, watch: false }; }));
    expect(withRegistry.status).toBe('fail');
    expect(withRegistry.detail).toContain('bare-bot (budget)');
    expect(withRegistry.detail).not.toContain('good-bot');
    expect(checkAgents(await inputs((c) => { c.keys = [{ id: 'bot', hash: HASH, tenant: 'bank', team: 't', agent: 'x' }]; })).status).toBe('fail');
    expect(checkAgents(await inputs()).status).toBe('pass');
  });

  it('tools.writes: a money tool without approval fails; with an approval rule it passes', async () => {
    const catalog = [
      { name: 'pay.transfer', server: 'pay', tool: 'transfer', annotations: {} },
      { name: 'crm.lookup', server: 'crm', tool: 'lookup', annotations: { readOnlyHint: true } },
      // A server calling its payout tool read-only does not exempt it.
      { name: 'pay.send_payout', server: 'pay', tool: 'send_payout', annotations: { readOnlyHint: true } },
    ];
    const open = { ...(await inputs()), tools: catalog };
    const tools = (settings: Record<string, unknown>) => createPolicyFixture({ tenants: { bank: { ...READY_TENANT, tools: ['*'], ...settings } } });
    const loose = await tools({});
    const strict = await tools({ approvals: [{ tools: ['pay.*'], count: 2 }] });
    try {
      const engineOf = async (fixture: PolicyFixture) => (await loadInputs(parseConfig({ ...base(), policy: { dir: fixture.dir, watch: false } }, '(test)', env), '(test)', undefined)).engine;
      const failing = checkTools({ ...open, engine: await engineOf(loose) });
      expect(failing.status).toBe('fail');
      expect(failing.detail).toContain('desk: pay.transfer');
      expect(failing.detail).toContain('desk: pay.send_payout');
      expect(checkTools({ ...open, engine: await engineOf(strict) }).status).toBe('pass');
    } finally {
      await loose.cleanup();
      await strict.cleanup();
    }
  });

  it('secrets.inline: an inline provider key fails; ${ENV} references pass', async () => {
    expect(checkSecrets(await inputs()).status).toBe('pass');
    const inline = checkSecrets(await inputs(undefined, {
      providers: { openai: { type: 'openai', apiKey: 'sk-live-123' }, azure: { type: 'openai', apiKey: 'sk-live-abc${EMPTY}', headers: { 'api-key': 'sk-inline' } } },
      mcp: { servers: { crm: { url: 'https://crm/mcp', headers: { 'X-CRM-Token': 'tok-inline', authorization: 'Bearer ${CRM_TOKEN}' } } } },
      limits: { redisUrl: 'redis://:hunter2@redis:6379' },
    }));
    expect(inline.status).toBe('fail');
    for (const path of ['providers.openai.apiKey', 'providers.azure.apiKey', 'providers.azure.headers.api-key', 'mcp.servers.crm.headers.X-CRM-Token', 'limits.redisUrl (a password in the URL)']) {
      expect(inline.detail).toContain(path);
    }
    expect(inline.detail).not.toContain('authorization');
  });

  it('prices.models: a routed model without a price fails, and so does the simulated provider', async () => {
    expect(checkPrices(await inputs()).status).toBe('pass');
    const unknown = checkPrices(await inputs((c) => { c.models = { m: { targets: [{ provider: 'openai', model: 'gpt-unpriced-9' }, { provider: 'anthropic', model: 'claude-haiku-4-5' }] } }; }));
    expect(unknown.status).toBe('fail');
    expect(unknown.detail).toContain('gpt-unpriced-9');
  });

  it('config.shadowed-models: an alias routing to another alias\'s name warns', async () => {
    expect(checkShadowedModels(await inputs()).status).toBe('pass');
    const shadowed = checkShadowedModels(await inputs((c) => {
      c.models = { 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }, 'gpt-4o-mini': { targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] } };
    }));
    expect(shadowed.status).toBe('warn');
  });

  it('config.valid: unknown keys and unset environment variables fail first, and alone', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, stringify({ ...base(), providers: { openai: { type: 'openai', apiKey: '${READINESS_UNSET_KEY}' } }, colour: 'blue' }));
    const results = await runReadiness({ config: file, env: {} });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ id: 'config.valid', status: 'fail' });
    expect(results[0]!.detail).toContain('READINESS_UNSET_KEY');
    const unknownKey = join(dir, 'unknown.yaml');
    await writeFile(unknownKey, stringify({ ...base(), colour: 'blue' }));
    const unknown = await runReadiness({ config: unknownKey, env });
    expect(unknown[0]).toMatchObject({ id: 'config.valid', status: 'fail' });
    expect(unknown[0]!.detail).toContain('colour');
    expect(asJunit(results)).toContain('<failure message=');
  });

  it('the CLI: the embedded demo is not ready (exit 1, actionable), and JUnit names each check', async () => {
    const data = await mkdtemp(join(tmpdir(), 'gatehouse-readiness-demo-'));
    try {
      const table = await runGatehouse(['readiness'], { env: { GATEHOUSE_DATA_DIR: data } });
      expect(table.code, table.stderr).toBe(1);
      expect(table.stdout).toMatch(/FAIL\s+failover\.targets/);
      expect(table.stdout).toContain('fix: ');
      expect(table.stdout).toMatch(/failed: NOT READY/);
      const junit = await runGatehouse(['readiness', '--format', 'junit'], { env: { GATEHOUSE_DATA_DIR: data } });
      expect(junit.code).toBe(1);
      expect(junit.stdout).toContain('<testcase classname="gatehouse.readiness" name="prices.models"><failure');
      // Readiness only looks: no demo key, no spool directory.
      expect(await readdir(data)).toEqual([]);
      const usage = await runGatehouse(['readiness', '--format', 'yaml']);
      expect(usage.code).toBe(2);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  }, 60_000);
});
