/**
 * A gateway with the MCP endpoint in front of two real MCP servers built with the
 * official SDK: `email` over Streamable HTTP and `hr` over stdio, plus a `down`
 * server nobody listens on. The policy fixture is the committed Rego.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../../proxy/config/schema.js';
import { startTestGateway, type TestGateway, type TestKey } from '../support/gateway.js';
import type { PolicyFixture } from '../support/policyFixture.js';
import type { EmailServer } from '../support/mcp/emailServer.js';

export const HR_SERVER = fileURLToPath(new URL('../support/mcp/hrServer.ts', import.meta.url));

export function mcpConfig(options: { fixture: PolicyFixture; email: EmailServer; registryDir: string; extra?: Partial<ConfigInput> }): Partial<ConfigInput> & Pick<ConfigInput, 'providers' | 'models'> {
  return {
    providers: { sim: { type: 'simulated', outputTokens: 4 } },
    models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
    policy: { enabled: true, dir: options.fixture.dir, watch: false },
    agents: { dir: options.registryDir, watch: false },
    mcp: {
      servers: {
        email: { url: options.email.url, headers: { authorization: 'Bearer email-server-secret' } },
        hr: { command: process.execPath, args: ['--import', 'tsx', HR_SERVER] },
        down: { url: 'http://127.0.0.1:9/mcp' },
      },
    },
    ...options.extra,
  };
}

export function startMcpGateway(config: ReturnType<typeof mcpConfig>, keys: TestKey[]): Promise<TestGateway> {
  return startTestGateway(config, keys);
}

/** The official MCP client, connected to the gateway's /mcp with a virtual key. */
export async function mcpClient(gw: TestGateway, keyId: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'gatehouse-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${gw.keys[keyId]}`, ...headers } } });
  await client.connect(transport);
  return client;
}

export function argumentsDigest(args: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalize(args) ?? '{}').digest('hex');
}

/** Waits until the gateway offers `tool` to `client` (servers connect in the background). */
export async function untilListed(client: Client, tool: string, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const names = (await client.listTools()).tools.map((t) => t.name);
    if (names.includes(tool)) return names;
    if (Date.now() > deadline) throw new Error(`${tool} never listed; listed: ${names.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
