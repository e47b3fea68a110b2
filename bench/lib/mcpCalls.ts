/**
 * MCP `tools/call` timed from the official SDK client, for `npm run bench:mcp`
 * and the MCP rows of `npm run bench`: the same tool on the bench MCP server
 * (bench/lib/mcpUpstream.ts) directly, and through a gateway's `/mcp`, one call
 * at a time, interleaved in rounds so a slow spell of the machine hits both.
 * Both clients use the gateway's upstream fetch (proxy/mcp/upstreamFetch.ts), so
 * neither side pays the SDK transport's abort-listener growth.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { upstreamFetch } from '../../proxy/mcp/upstreamFetch.js';
import { cpuTimeMs } from './processes.js';

export interface McpSide {
  p50: number;
  p99: number;
  n: number;
}

export interface McpResult {
  direct: McpSide;
  gateway: McpSide;
  /** The gateway's CPU time per tools/call over its timed calls, µs. */
  gatewayCpuUsPerCall: number;
}

export async function connectMcp(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'gatehouse-bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: upstreamFetch }));
  return client;
}

/** Waits until the gateway offers `tool` (it reaches its upstream in the background). */
export async function waitForTool(client: Client, tool: string): Promise<void> {
  for (let tries = 0; !(await client.listTools()).tools.some((t) => t.name === tool); tries++) {
    if (tries > 300) throw new Error(`${tool} was never listed by the gateway`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function timeCalls(client: Client, name: string, count: number, into: number[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    const result = await client.callTool({ name, arguments: { id: String(4700 + (i % 100)) } });
    into.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  }
}

export interface McpPlan {
  calls: number;
  rounds: number;
  warmup: number;
}

/**
 * `plan.calls` calls each side after `plan.warmup` each, in `plan.rounds`
 * interleaved rounds. `direct` calls `lookup`; `through` calls `crm.lookup`.
 */
export async function compareMcp(direct: Client, through: Client, gatewayPid: number, plan: McpPlan): Promise<McpResult> {
  const warm: number[] = [];
  await timeCalls(direct, 'lookup', plan.warmup, warm);
  await timeCalls(through, 'crm.lookup', plan.warmup, warm);
  const directMs: number[] = [];
  const gatewayMs: number[] = [];
  let gatewayCpuMs = 0;
  for (let round = 0; round < plan.rounds; round++) {
    await timeCalls(direct, 'lookup', plan.calls / plan.rounds, directMs);
    const before = await cpuTimeMs(gatewayPid);
    await timeCalls(through, 'crm.lookup', plan.calls / plan.rounds, gatewayMs);
    gatewayCpuMs += (await cpuTimeMs(gatewayPid)) - before;
  }
  return { direct: side(directMs), gateway: side(gatewayMs), gatewayCpuUsPerCall: Math.round((gatewayCpuMs * 1000) / gatewayMs.length) };
}

function side(values: number[]): McpSide {
  values.sort((a, b) => a - b);
  const at = (p: number) => Math.round(values[Math.min(values.length - 1, Math.floor(p * values.length))]! * 1000) / 1000;
  return { p50: at(0.5), p99: at(0.99), n: values.length };
}
