/**
 * A test agent with its own MCP endpoint (the official SDK, Streamable HTTP): its
 * one tool `ask` hands the question on to the next agent's `ask` tool through the
 * gateway's /mcp, with this agent's own key and the `_meta` (trace context and
 * delegation chain) it received, the way a well-behaved agent framework does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface AgentServer {
  url: string;
  /** Questions this agent received, with the `_meta` they came with. */
  received: Array<{ question: string; meta: Record<string, unknown> }>;
  /** Where `ask` forwards: the gateway, this agent's key, and the next agent's tool. */
  next: { gateway: string; key: string; tool: string } | undefined;
  stop(): Promise<void>;
}

export async function startAgentServer(name: string): Promise<AgentServer> {
  const agent: AgentServer = { url: '', received: [], next: undefined, stop: async () => {} };
  const build = (): McpServer => {
    const server = new McpServer({ name, version: '1.0.0' });
    server.registerTool('ask', { description: `Ask ${name}`, inputSchema: { question: z.string() } }, async ({ question }, extra) => {
      const meta = (extra._meta ?? {}) as Record<string, unknown>;
      agent.received.push({ question, meta });
      const next = agent.next;
      if (next === undefined) return { content: [{ type: 'text', text: `${name} answered` }] };
      const client = new Client({ name, version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${next.gateway}/mcp`), { requestInit: { headers: { authorization: `Bearer ${next.key}` } } }));
      try {
        const forwarded: Record<string, unknown> = {};
        for (const key of ['traceparent', 'baggage']) if (typeof meta[key] === 'string') forwarded[key] = meta[key];
        const result = await client.callTool({ name: next.tool, arguments: { question }, _meta: forwarded });
        return { content: [{ type: 'text', text: `${name} -> ${JSON.stringify(result.content)}` }], isError: result.isError === true };
      } catch (error) {
        const data = (error as { data?: { code?: string } }).data;
        return { content: [{ type: 'text', text: `${name} was refused: ${data?.code ?? (error as Error).message}` }], isError: true };
      } finally {
        await client.close();
      }
    });
    return server;
  };
  const http: Server = createServer((req, res) => {
    const server = build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close().then(() => server.close()));
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  agent.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  agent.stop = () => new Promise((resolve) => {
    http.closeAllConnections();
    http.close(() => resolve());
  });
  return agent;
}
