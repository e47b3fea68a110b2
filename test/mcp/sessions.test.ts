/**
 * MCP session bounds: one key holds at most `mcp.maxSessionsPerKey` sessions (its
 * own least recently used is closed first), so one caller opening sessions in a
 * loop never evicts another caller's.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSpec, createRegistry, type TestRegistry } from '../agents/agentRegistry.js';
import type { TestGateway } from '../support/gateway.js';
import { startEmailServer, type EmailServer } from '../support/mcp/emailServer.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { mcpClient, mcpConfig, startMcpGateway } from './mcpGateway.js';

describe('MCP sessions per key', () => {
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  let email: EmailServer;
  let gw: TestGateway;
  const clients: Client[] = [];

  beforeAll(async () => {
    fixture = await createPolicyFixture({ tenants: { acme: tenantSettings() } });
    registry = await createRegistry([agentSpec('mailer', { tools: [{ server: 'email', tools: ['*'] }] })]);
    email = await startEmailServer();
    const config = mcpConfig({ fixture, email, registryDir: registry.dir });
    gw = await startMcpGateway({ ...config, mcp: { ...config.mcp, maxSessionsPerKey: 2 } }, [
      { id: 'busy', tenant: 'acme', agent: 'mailer' },
      { id: 'quiet', tenant: 'acme', agent: 'mailer' },
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gw?.stop();
    await email?.stop();
    await fixture?.cleanup();
    await registry?.remove();
  });

  async function open(keyId: string): Promise<Client> {
    const client = await mcpClient(gw, keyId);
    clients.push(client);
    return client;
  }

  it('closes the busy key\'s own oldest session, never another key\'s', async () => {
    const quiet = await open('quiet');
    const first = await open('busy');
    await open('busy');
    await open('busy');
    // The busy key's first session was closed: its next request finds no session.
    await expect(first.ping()).rejects.toThrow();
    // The quiet key's session, older than all of them, still answers.
    await expect(quiet.ping()).resolves.toBeDefined();
  });
});
