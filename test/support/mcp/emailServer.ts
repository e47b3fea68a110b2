/**
 * A real MCP server (the official SDK) over Streamable HTTP, for tests: the
 * `email` tool server. Stateless: a new SDK server and transport per request.
 *  - search (readOnlyHint): finds a customer record; the text carries an e-mail address and a card number;
 *  - send: "sends" a message and records it (so tests can check what went through);
 *  - dump (readOnlyHint): returns `size` bytes of text (result size limit);
 *  - whoami: echoes the `_meta` it received (trace context, delegation chain).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface EmailServer {
  url: string;
  sent: Array<{ to: string[]; subject: string }>;
  /** The Authorization header of every request the server received. */
  authorizations: Array<string | undefined>;
  stop(): Promise<void>;
}

function build(sent: EmailServer['sent']): McpServer {
  const server = new McpServer({ name: 'email-test', version: '1.0.0' });
  server.registerTool('search', {
    description: 'Find a customer by name',
    inputSchema: { query: z.string() },
    annotations: { readOnlyHint: true },
  }, async ({ query }) => ({ content: [{ type: 'text', text: `Customer ${query}: jane.doe@customer.example, card 4111 1111 1111 1111` }] }));
  server.registerTool('send', {
    description: 'Send an e-mail',
    inputSchema: { to: z.union([z.string(), z.array(z.string())]), subject: z.string(), body: z.string().optional() },
    annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  }, async ({ to, subject }) => {
    const recipients = Array.isArray(to) ? to : [to];
    sent.push({ to: recipients, subject });
    return { content: [{ type: 'text', text: `sent to ${recipients.join(', ')}` }] };
  });
  server.registerTool('dump', {
    description: 'Return a large text',
    inputSchema: { size: z.number().int() },
    annotations: { readOnlyHint: true },
  }, async ({ size }) => ({ content: [{ type: 'text', text: 'x'.repeat(size) }] }));
  server.registerTool('whoami', {
    description: 'Echo the request metadata',
    inputSchema: {},
    annotations: { readOnlyHint: true },
  }, async (_args, extra) => ({ content: [{ type: 'text', text: JSON.stringify(extra._meta ?? {}) }] }));
  return server;
}

export async function startEmailServer(): Promise<EmailServer> {
  const sent: EmailServer['sent'] = [];
  const authorizations: Array<string | undefined> = [];
  const http: Server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const server = build(sent);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close().then(() => server.close()));
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sent,
    authorizations,
    stop: () => new Promise((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }),
  };
}
