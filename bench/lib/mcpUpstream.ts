/**
 * The MCP server `npm run bench:mcp` calls, directly and through the gateway: a
 * real server built with the official SDK, over Streamable HTTP, stateless (a new
 * SDK server and transport per request, the SDK's stateless pattern), JSON
 * responses. One tool, `lookup` (readOnlyHint), answers a ~200-byte customer
 * record. Prints `listening <port>` when ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const RECORD = 'Customer 4711: Jane Doe, segment retail, relationship since 2014, preferred channel e-mail, open cases 0, last contact 2026-11-28, advisor desk Frankfurt, risk class 3.';

function build(): McpServer {
  const server = new McpServer({ name: 'bench-crm', version: '1.0.0' });
  server.registerTool('lookup', {
    description: 'Look up a customer by id',
    inputSchema: { id: z.string() },
    annotations: { readOnlyHint: true },
  }, async ({ id }) => ({ content: [{ type: 'text', text: RECORD.replace('4711', id) }] }));
  return server;
}

const http = createServer((req, res) => {
  const server = build();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => void transport.close().then(() => server.close()));
  void server.connect(transport).then(() => transport.handleRequest(req, res));
});
http.keepAliveTimeout = 60_000;
http.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(http.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => http.close(() => process.exit(0)));
