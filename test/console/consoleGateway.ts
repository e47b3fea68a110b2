/**
 * A gateway with real traffic behind a web console: the approvals gateway of
 * test/approvals (MCP in front of the e-mail and HR servers, the committed
 * Rego, approver groups), shipping its audit trail to a collector in this
 * process, with known prices (1,000 USD per million tokens either way, so a
 * token costs exactly $0.001), a user budget of $0.04 a day for bob (three calls take him past 80%), and console keys for
 * each role made with `gatehouse console-keys create`.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { collectorCommands, type RunningCollector } from '../../collector/cli/index.js';
import type { RunningConsole } from '../../collector/console/server.js';
import { startWebConsole } from '../../proxy/cli/webConsole.js';
import { agentSpec, createRegistry, type TestRegistry } from '../agents/agentRegistry.js';
import { APPROVAL_KEYS, APPROVAL_TENANT, approvalExtra } from '../approvals/approvalGateway.js';
import { captureStdout, makeTempDir, removeDir, startTestCollector, TEST_INGEST } from '../collector/support.js';
import { mcpConfig, startMcpGateway } from '../mcp/mcpGateway.js';
import { openaiClient, type TestGateway } from '../support/gateway.js';
import { startEmailServer, type EmailServer } from '../support/mcp/emailServer.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';

export const ROLES_KEYS = [
  { id: 'vera', role: 'viewer', tenant: 'acme' },
  { id: 'audrey', role: 'auditor', tenant: 'acme' },
  { id: 'erin-console', role: 'approver', tenant: 'acme', user: 'erin' },
  { id: 'root', role: 'admin', tenant: '*' },
  { id: 'gina-auditor', role: 'auditor', tenant: 'globex' },
] as const;

export interface ConsoleGateway {
  gw: TestGateway;
  collector: RunningCollector;
  web: RunningConsole;
  email: EmailServer;
  dataDir: string;
  /** The secret of each console key by id. */
  consoleKeys: Record<string, string>;
  clients: Client[];
  stop(): Promise<void>;
}

export async function startConsoleGateway(): Promise<ConsoleGateway> {
  const fixture: PolicyFixture = await createPolicyFixture({
    tenants: {
      acme: { ...APPROVAL_TENANT, budgets: { user: { usdPerDay: 1 } }, users: { bob: { budgets: { user: { usdPerDay: 0.04 } } } } },
      globex: tenantSettings(),
    },
  });
  const registry: TestRegistry = await createRegistry([
    agentSpec('mailer', { purpose: 'Send customers their account news.', tools: [{ server: 'email', tools: ['*'] }] }),
    agentSpec('payroll-bot', { owner: { team: 'finance', contact: 'payroll-owner' }, tools: [{ server: 'hr', tools: ['*'] }], data: ['hr:compensation'] }),
  ]);
  const email = await startEmailServer();
  const dataDir = await makeTempDir();
  const collector = await startTestCollector({ dataDir, port: 0 });
  const gw = await startMcpGateway(
    mcpConfig({
      fixture, email, registryDir: registry.dir,
      extra: approvalExtra({
        dataDir,
        audit: { collectorUrl: collector.url, collectorToken: TEST_INGEST.token },
        prices: { 'gpt-4o-mini': { input: 1000, output: 1000 } },
        console: { port: 0, jaegerUiUrl: 'http://jaeger.example:16686' },
      }),
    }),
    [...APPROVAL_KEYS, { id: 'globex-user', tenant: 'globex', user: 'gina' }],
  );
  const web = await startWebConsole(gw.config, collector, gw);
  if (web === undefined) throw new Error('the console did not start');
  const consoleKeys: Record<string, string> = {};
  for (const k of ROLES_KEYS) {
    const argv = ['create', '--data-dir', dataDir, '--id', k.id, '--role', k.role, '--tenant', k.tenant, ...('user' in k ? ['--user', k.user] : [])];
    const { code, out } = await captureStdout(() => collectorCommands['console-keys']!(argv));
    if (code !== 0) throw new Error(`console-keys create ${k.id} exited ${code}`);
    consoleKeys[k.id] = out.trim();
  }
  const clients: Client[] = [];
  return {
    gw, collector, web, email, dataDir, consoleKeys, clients,
    async stop() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await web.stop();
      await gw.stop();
      await collector.stop();
      await email.stop();
      await fixture.cleanup();
      await registry.remove();
      await removeDir(dataDir);
    },
  };
}

/** Model calls the cost page must add up: `calls` per key, each answered with the usage the client saw. */
export async function sendModelCalls(gw: TestGateway, calls: Record<string, number>): Promise<Map<string, { requests: number; tokens: number }>> {
  const seen = new Map<string, { requests: number; tokens: number }>();
  for (const [keyId, count] of Object.entries(calls)) {
    const client = openaiClient(gw, keyId);
    for (let i = 0; i < count; i++) {
      const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${i} from ${keyId}` }] });
      const entry = seen.get(keyId) ?? { requests: 0, tokens: 0 };
      entry.requests += 1;
      entry.tokens += (answer.usage?.prompt_tokens ?? 0) + (answer.usage?.completion_tokens ?? 0);
      seen.set(keyId, entry);
    }
  }
  return seen;
}

/** Waits until the collector holds `count` request records. */
export async function untilRecorded(collector: RunningCollector, count: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await collector.store.db.query(`SELECT count(*) AS n FROM audit_records WHERE record_type IN ('request', 'tool_call')`);
    if (Number(row?.n) >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${String(row?.n)} of ${count} records arrived`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
