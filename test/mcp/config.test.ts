/** The `mcp` config section: what the gateway refuses to start with. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../proxy/config/load.js';

const base = { providers: { sim: { type: 'simulated' } }, models: { m: { targets: [{ provider: 'sim', model: 'm' }] } } };

function problems(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return '';
}

describe('mcp config', () => {
  it('refuses MCP servers without the tool policy, a reserved name and a name that cannot prefix tools', () => {
    expect(problems({ ...base, policy: { enabled: false }, mcp: { servers: { crm: { url: 'http://127.0.0.1:1/mcp' } } } }))
      .toContain('mcp.servers: the MCP gateway needs policy.enabled: true');
    expect(problems({ ...base, mcp: { servers: { gatehouse: { url: 'http://127.0.0.1:1/mcp' } } } })).toContain("mcp.servers.gatehouse: 'gatehouse' is reserved");
    expect(problems({ ...base, mcp: { servers: { 'CRM.x': { url: 'http://127.0.0.1:1/mcp' } } } })).toContain('expected a server name of a-z');
    expect(problems({ ...base, mcp: { servers: { crm: { url: 'http://127.0.0.1:1/mcp', command: 'x' } } } })).not.toBe('');
  });

  it('interpolates upstream credentials from the environment, and bounds the limits', () => {
    const config = parseConfig({ ...base, mcp: { servers: { crm: { url: 'http://127.0.0.1:1/mcp', headers: { authorization: 'Bearer ${CRM_TOKEN}' } } } } }, '(test)', { CRM_TOKEN: 's3cret' });
    expect(config.mcp.servers.crm).toEqual({ url: 'http://127.0.0.1:1/mcp', headers: { authorization: 'Bearer s3cret' } });
    expect(config.mcp).toMatchObject({ callTimeoutMs: 60_000, maxResultBytes: 1_048_576, maxSessions: 10_000, sessionIdleMs: 1_800_000, authorizationServers: [] });
    expect(problems({ ...base, mcp: { callTimeoutMs: 600_001 } })).toContain('mcp.callTimeoutMs');
    expect(problems({ ...base, mcp: { maxResultBytes: 0 } })).toContain('mcp.maxResultBytes');
  });
});
