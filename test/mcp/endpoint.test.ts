/**
 * Issue 12, "Done means": the official MCP SDK client against the gateway, in
 * front of two real MCP servers (HTTP and stdio). Filtered tools/list, an
 * allowed call, denials by tool and by argument, an unknown tool, an upstream
 * down, malformed JSON-RPC, the salary question, and the audit record of each call.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/cli/index.js';
import { captureStdout, makeTempDir, removeDir, startTestCollector, TEST_INGEST } from '../collector/support.js';
import { collectorCommands } from '../../collector/cli/index.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startEmailServer, type EmailServer } from '../support/mcp/emailServer.js';
import type { TestGateway } from '../support/gateway.js';
import { agentSpec, createRegistry, type TestRegistry } from '../agents/agentRegistry.js';
import { argumentsDigest, mcpClient, mcpConfig, startMcpGateway, untilListed } from './mcpGateway.js';

describe('the MCP gateway', () => {
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  let email: EmailServer;
  let collector: RunningCollector;
  let dataDir: string;
  let gw: TestGateway;
  const clients: Client[] = [];

  beforeAll(async () => {
    fixture = await createPolicyFixture({
      tenants: {
        acme: tenantSettings({
          email_domains: ['customer.example'],
          tools_requiring_approval: ['hr.update_salary'],
          pii: { redact: [], pseudonymize: false, response_redact: ['payment_card'] },
        }),
      },
    });
    registry = await createRegistry([
      agentSpec('qa-bot', { tools: [{ server: 'hr', tools: ['query', 'list_employees'] }, { server: 'email', tools: ['search'] }], data: ['hr:directory'] }),
      agentSpec('hr-bot', { owner: { team: 'hr', contact: 'hr@acme.example' }, tools: [{ server: 'hr', tools: ['*'] }], data: ['hr:directory', 'hr:compensation'] }),
      agentSpec('mailer', { tools: [{ server: 'email', tools: ['*'] }] }),
      agentSpec('reader', { readOnly: true, tools: [{ server: 'email', tools: ['*'] }] }),
    ]);
    email = await startEmailServer();
    dataDir = await makeTempDir();
    collector = await startTestCollector({ dataDir, port: 0 });
    gw = await startMcpGateway(
      mcpConfig({ fixture, email, registryDir: registry.dir, extra: { audit: { collectorUrl: collector.url, collectorToken: TEST_INGEST.token } } }),
      [
        { id: 'qa', tenant: 'acme', agent: 'qa-bot' },
        { id: 'hr', tenant: 'acme', agent: 'hr-bot' },
        { id: 'mailer', tenant: 'acme', agent: 'mailer' },
        { id: 'reader', tenant: 'acme', agent: 'reader' },
        { id: 'app', tenant: 'acme' },
      ],
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gw?.stop();
    await collector?.stop();
    await email?.stop();
    await fixture?.cleanup();
    await registry?.remove();
    await removeDir(dataDir);
  });

  async function client(keyId: string): Promise<Client> {
    const c = await mcpClient(gw, keyId);
    clients.push(c);
    return c;
  }
  async function refusal(promise: Promise<unknown>): Promise<McpError & { data: { code: string; status: number; reasons?: string[] } }> {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    return error as McpError & { data: { code: string; status: number; reasons?: string[] } };
  }

  it('refuses a call without a key with 401, WWW-Authenticate and the protected-resource metadata', async () => {
    const response = await fetch(`${gw.url}/mcp`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadataUrl).toBe(`${gw.url}/.well-known/oauth-protected-resource/mcp`);
    expect(((await response.json()) as { error: { data: { code: string } } }).error.data.code).toBe('invalid_api_key');
    const metadata = await (await fetch(metadataUrl!)).json();
    expect(metadata).toMatchObject({ resource: `${gw.url}/mcp`, bearer_methods_supported: ['header'] });
  });

  it('lists only the tools each caller may call, under namespaced names', async () => {
    const qa = await client('qa');
    await untilListed(qa, 'hr.query');
    const listed = await untilListed(qa, 'email.search');
    expect(listed.sort()).toEqual(['email.search', 'hr.list_employees', 'hr.query']);
    const reader = await client('reader');
    expect((await untilListed(reader, 'email.search')).sort()).toEqual(['email.dump', 'email.leak', 'email.search', 'email.whoami']);
    const app = await client('app');
    expect((await app.listTools()).tools).toEqual([]);
    const tool = (await qa.listTools()).tools.find((t) => t.name === 'hr.query');
    expect(tool?.annotations?.readOnlyHint).toBe(true);
    expect(tool?.inputSchema.type).toBe('object');
  });

  it('an allowed call reaches the stdio server and returns its result', async () => {
    const qa = await client('qa');
    await untilListed(qa, 'hr.list_employees');
    const result = await qa.callTool({ name: 'hr.list_employees', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect((result.content as Array<{ text: string }>)[0]?.text).toContain('Ada Lovelace (engineer)');
  });

  it('the salary question: refused for the Q&A bot, allowed for HR', async () => {
    const qa = await client('qa');
    await untilListed(qa, 'hr.query');
    const args = { sql: 'SELECT name, salary FROM employees WHERE role = \'engineer\'' };
    const refused = await refusal(qa.callTool({ name: 'hr.query', arguments: args }));
    expect(refused.code).toBe(-32000);
    expect(refused.data).toMatchObject({ code: 'policy_denied', status: 403 });
    expect(refused.data.reasons?.join(' ')).toContain('hr:compensation');
    const byColumns = await refusal(qa.callTool({ name: 'hr.query', arguments: { columns: ['name', 'Salary'] } }));
    expect(byColumns.data.code).toBe('policy_denied');
    // Without the salary, the same tool is fine for the Q&A bot.
    expect((await qa.callTool({ name: 'hr.query', arguments: { sql: 'SELECT name, role FROM employees' } })).isError).toBeFalsy();
    const hr = await client('hr');
    await untilListed(hr, 'hr.query');
    const allowed = await hr.callTool({ name: 'hr.query', arguments: args });
    expect((allowed.content as Array<{ text: string }>)[0]?.text).toContain('185000');
  });

  it('denies by tool: a hidden tool answers like an unknown one; a tool needing approval says so', async () => {
    const qa = await client('qa');
    await untilListed(qa, 'email.search');
    const hidden = await refusal(qa.callTool({ name: 'email.send', arguments: { to: 'a@customer.example', subject: 'hi' } }));
    const unknown = await refusal(qa.callTool({ name: 'email.nothing', arguments: {} }));
    expect(hidden.code).toBe(-32602);
    expect(hidden.data.code).toBe('tool_not_found');
    expect(unknown.code).toBe(-32602);
    expect(unknown.data.code).toBe('tool_not_found');
    expect(hidden.message.replace('email.send', 'X')).toBe(unknown.message.replace('email.nothing', 'X'));
    const hr = await client('hr');
    await untilListed(hr, 'hr.update_salary');
    const approval = await refusal(hr.callTool({ name: 'hr.update_salary', arguments: { name: 'Ada Lovelace', salary: 1 } }));
    expect(approval.data).toMatchObject({ code: 'approval_required', status: 403 });
    expect(email.sent).toHaveLength(0);
  });

  it('denies by argument: a recipient outside the customer domain; the upstream never sees it', async () => {
    const mailer = await client('mailer');
    await untilListed(mailer, 'email.send');
    const refused = await refusal(mailer.callTool({ name: 'email.send', arguments: { to: ['ok@customer.example', 'cfo@rival.example'], subject: 'numbers' } }));
    expect(refused.data.code).toBe('policy_denied');
    expect(refused.data.reasons?.join(' ')).toContain('cfo@rival.example');
    expect(email.sent).toHaveLength(0);
    const sent = await mailer.callTool({ name: 'email.send', arguments: { to: 'ok@customer.example', subject: 'hello' } });
    expect(sent.isError).toBeFalsy();
    expect(email.sent).toEqual([{ to: ['ok@customer.example'], subject: 'hello' }]);
    // The upstream got the gateway's credential, never the caller's key.
    expect(email.authorizations.every((a) => a === 'Bearer email-server-secret')).toBe(true);
  });

  it('a tool result passes the response policy: the card number is redacted', async () => {
    const mailer = await client('mailer');
    await untilListed(mailer, 'email.search');
    const result = await mailer.callTool({ name: 'email.search', arguments: { query: 'Jane' } });
    const text = (result.content as Array<{ text: string }>)[0]?.text ?? '';
    expect(text).toContain('jane.doe@customer.example');
    expect(text).not.toContain('4111 1111 1111 1111');
  });

  it('the response policy reads every block: embedded resources, links and _meta are redacted too', async () => {
    const mailer = await client('mailer');
    await untilListed(mailer, 'email.leak');
    const result = await mailer.callTool({ name: 'email.leak', arguments: {} });
    expect(JSON.stringify(result)).not.toContain('4111 1111 1111 1111');
    expect(result._meta).toBeUndefined();
    expect(result.content).toHaveLength(2);
  });

  it('one bad answer fails that call only, and its text (which echoes a credential) reaches nobody', async () => {
    const mailer = await client('mailer');
    await untilListed(mailer, 'email.explode');
    const failed = await refusal(mailer.callTool({ name: 'email.explode', arguments: {} }));
    expect(failed.data).toMatchObject({ code: 'upstream_error', status: 502 });
    expect(`${failed.message} ${JSON.stringify(failed.data)}`).not.toContain('email-server-secret');
    // The server is not marked down: its other tools keep answering.
    expect((await mailer.listTools()).tools.map((t) => t.name)).toContain('email.search');
    expect((await mailer.callTool({ name: 'email.search', arguments: { query: 'x' } })).isError).toBeFalsy();
  });

  it('a Host header that is not a host never reaches the challenge, and never a 500', async () => {
    const { request } = await import('node:http');
    const answer = await new Promise<{ status: number; challenge: string | undefined }>((resolve, reject) => {
      const req = request(`${gw.url}/mcp`, { method: 'POST', headers: { host: 'x"y', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] });
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(answer.status).toBe(401);
    expect(answer.challenge).toBe('Bearer realm="gatehouse", resource_metadata="http://localhost/.well-known/oauth-protected-resource/mcp"');
  });

  it('a result over the size limit is an error, not a flood', async () => {
    const mailer = await client('mailer');
    await untilListed(mailer, 'email.dump');
    const refused = await refusal(mailer.callTool({ name: 'email.dump', arguments: { size: 2 * 1024 * 1024 } }));
    expect(refused.data.code).toBe('tool_result_too_large');
  });

  it('passes trace context and the delegation chain to the upstream in _meta', async () => {
    const mailer = await client('mailer');
    await untilListed(mailer, 'email.whoami');
    const result = await mailer.callTool({ name: 'email.whoami', arguments: {} });
    const meta = JSON.parse((result.content as Array<{ text: string }>)[0]?.text ?? '{}') as Record<string, string>;
    expect(meta.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(meta.baggage).toBe('gatehouse.agent.chain=mailer');
  });

  it('answers malformed JSON-RPC with a JSON-RPC error, and keeps serving', async () => {
    const post = (body: string) => fetch(`${gw.url}/mcp`, {
      method: 'POST', body,
      headers: { authorization: `Bearer ${gw.keys.qa}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    });
    const broken = await post('{"jsonrpc":"2.0","method":');
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const notRpc = await post('{"hello":"world"}');
    expect(notRpc.status).toBe(400);
    expect(((await notRpc.json()) as { error: { code: number } }).error.code).toBe(-32600);
    const noSession = await post(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }));
    expect(noSession.status).toBe(400);
    // A session, then invalid params inside it: the SDK's -32602, the session keeps working.
    const init = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
    expect(init.status).toBe(200);
    const session = init.headers.get('mcp-session-id')!;
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    const inSession = (body: string, key = gw.keys.qa!) => fetch(`${gw.url}/mcp`, {
      method: 'POST', body,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    });
    const noName = await inSession(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { arguments: {} } }));
    expect(noName.status).toBe(200);
    expect(await noName.json()).toMatchObject({ jsonrpc: '2.0', id: 2, error: { code: -32602, data: { code: 'invalid_request', status: 400 } } });
    const badCursor = await inSession(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list', params: { cursor: 5 } }));
    expect(await badCursor.text()).toMatch(/"code":-32602.*"data":\{"code":"invalid_request","status":400\}/);
    // Another key presenting this session id: 404, as for an unknown session.
    const stolen = await inSession(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }), gw.keys.hr);
    expect(stolen.status).toBe(404);
    expect(((await stolen.json()) as { error: { code: number } }).error.code).toBe(-32001);
    const big = await inSession(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'ping', params: { pad: 'x'.repeat(gw.config.server.maxBodyBytes) } }));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { data: { code: string } } }).error.data.code).toBe('request_too_large');
    const put = await fetch(`${gw.url}/mcp`, { method: 'PUT', headers: { authorization: `Bearer ${gw.keys.qa}` } });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, DELETE');
    const qa = await client('qa');
    expect((await qa.listTools()).tools.length).toBeGreaterThan(0);
  });

  it('the agent inventory lists the tools each agent really reaches: the registry as the tool policy applies it', async () => {
    const qa = await client('qa');
    await untilListed(qa, 'hr.query');
    await untilListed(qa, 'email.search');
    const snapshot = join(gw.config.dataDir, 'mcp-tools.json');
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !(await readFile(snapshot, 'utf8').then((t) => t.includes('email.search') && t.includes('hr.query'), () => false))) await new Promise((r) => setTimeout(r, 50));
    const out = join(dataDir, 'agents.json');
    const result = await captureStdout(() => collectorCommands['agents export']!([
      '--format', 'json', '--out', out, '--agents-dir', registry.dir, '--data-dir', dataDir, '--tools', snapshot, '--policies', fixture.dir,
    ]));
    expect(result.code, result.err).toBe(0);
    const rows = JSON.parse(await readFile(out, 'utf8')) as Array<{ agent_id: string; reachable_tools: string[]; tools: string[] }>;
    const reach = Object.fromEntries(rows.map((r) => [r.agent_id, r.reachable_tools]));
    expect(reach['qa-bot']).toEqual(['email.search', 'hr.list_employees', 'hr.query']);
    expect(reach.reader).toEqual(['email.dump', 'email.leak', 'email.search', 'email.whoami']);
    expect(reach['hr-bot']).toEqual(['hr.list_employees', 'hr.query', 'hr.update_salary']);
    expect(rows.find((r) => r.agent_id === 'reader')?.tools).toEqual(['email:*']);
  });

  it('an upstream that goes down: its tools are refused as unavailable, the other server keeps working', async () => {
    const mailer = await client('mailer');
    await untilListed(mailer, 'email.search');
    const hr = await client('hr');
    await untilListed(hr, 'hr.list_employees');
    await email.stop();
    const down = await refusal(mailer.callTool({ name: 'email.search', arguments: { query: 'x' } }));
    expect(down.data).toMatchObject({ code: 'upstream_unavailable', status: 503 });
    // Marked unavailable: its tools are no longer offered.
    expect((await mailer.listTools()).tools.filter((t) => t.name.startsWith('email.'))).toEqual([]);
    // Still known: a call the policy allows keeps answering 503 (retry later), not "unknown tool".
    expect((await refusal(mailer.callTool({ name: 'email.search', arguments: { query: 'x' } }))).data).toMatchObject({ code: 'upstream_unavailable', status: 503 });
    // A caller who may not reach the tool still gets tool_not_found.
    expect((await refusal(hr.callTool({ name: 'email.search', arguments: { query: 'x' } }))).data).toMatchObject({ code: 'tool_not_found' });
    expect((await hr.callTool({ name: 'hr.list_employees', arguments: {} })).isError).toBeFalsy();
    // `down` never came up: none of its tools is offered.
    expect((await hr.listTools()).tools.some((t) => t.name.startsWith('down.'))).toBe(false);
  });

  it('every tool call is an audit record: who, agent, server, tool, argument digest, decision, outcome', async () => {
    const deadline = Date.now() + 15_000;
    let rows: Array<Record<string, unknown>> = [];
    while (Date.now() < deadline) {
      rows = await collector.store.db.query(
        `SELECT agent_id, key_id, mcp_server, gen_ai_tool_name, tool_arguments_sha256, policy_decision, policy_code, outcome, error_code, error_type, mcp_method_name
           FROM audit_records WHERE record_type = 'tool_call' ORDER BY seq`);
      if (rows.some((r) => r.gen_ai_tool_name === 'email.dump') && rows.some((r) => r.error_code === 'invalid_request') && rows.some((r) => r.gen_ai_tool_name === 'email.explode')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const salary = rows.find((r) => r.agent_id === 'qa-bot' && r.policy_code === 'data_not_allowed');
    expect(salary).toMatchObject({
      key_id: 'qa', mcp_server: 'hr', gen_ai_tool_name: 'hr.query', policy_decision: 'deny', outcome: 'denied', error_code: 'policy_denied', error_type: '-32000', mcp_method_name: 'tools/call',
      tool_arguments_sha256: argumentsDigest({ sql: 'SELECT name, salary FROM employees WHERE role = \'engineer\'' }),
    });
    expect(rows.find((r) => r.gen_ai_tool_name === 'hr.list_employees')).toMatchObject({ agent_id: 'qa-bot', policy_decision: 'allow', outcome: 'ok' });
    expect(rows.find((r) => r.gen_ai_tool_name === 'email.nothing')).toMatchObject({ error_code: 'tool_not_found', error_type: '-32602' });
    // A tools/call without a name (the malformed-message test) is recorded too.
    expect(rows.find((r) => r.error_code === 'invalid_request')).toMatchObject({ key_id: 'qa', error_type: '-32602', outcome: 'error' });
    // Presenting another key's session is refused and recorded, with the session id it presented.
    const stolen = await collector.store.db.query(`SELECT mcp_method_name, error_code, http_response_status_code AS status FROM audit_records WHERE key_id = 'hr' AND error_type = '-32001'`);
    expect(stolen[0]).toMatchObject({ mcp_method_name: 'ping', error_code: 'not_found', status: 404 });
    const lists = await collector.store.db.query(`SELECT count(*) AS n FROM audit_records WHERE record_type = 'mcp' AND mcp_method_name = 'tools/list'`);
    expect(Number(lists[0]?.n)).toBeGreaterThan(0);

    // The reports cover tool calls: `report tools` counts them, `audit search --tool` finds them.
    const hrQuery = rows.filter((r) => r.gen_ai_tool_name === 'hr.query');
    const report = await captureStdout(() => collectorCommands['report tools']!(['--by', 'tool', '--data-dir', dataDir]));
    expect(report.code, report.err).toBe(0);
    const line = report.out.split('\n').find((l) => l.startsWith('hr.query'));
    expect(line?.split(/\s+/).slice(1, 4).map(Number)).toEqual([
      hrQuery.length, hrQuery.filter((r) => r.outcome === 'ok').length, hrQuery.filter((r) => r.outcome === 'denied').length,
    ]);
    const search = await captureStdout(() => collectorCommands['audit search']!(['--tool', 'hr.query', '--agent', 'qa-bot', '--data-dir', dataDir]));
    expect(search.code, search.err).toBe(0);
    expect(search.out).toContain(`${hrQuery.filter((r) => r.agent_id === 'qa-bot').length} request(s)`);
  });
});
