/**
 * A real MCP server (the official SDK) over Streamable HTTP, for tests: the
 * `email` tool server. Stateless: a new SDK server and transport per request.
 *  - search (readOnlyHint): finds a customer record; the text carries an e-mail address and a card number;
 *  - send: "sends" a message and records it (so tests can check what went through);
 *  - dump (readOnlyHint): returns `size` bytes of text (result size limit);
 *  - whoami: echoes the `_meta` it received (trace context, delegation chain);
 *  - leak (readOnlyHint): a card number in an embedded resource, a resource link and `_meta`;
 *  - explode: the HTTP server answers its call with a 500 whose body echoes the server's credential.
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
  server.registerTool('leak', {
    description: 'Return a card number outside text blocks',
    inputSchema: {},
    annotations: { readOnlyHint: true },
  }, async () => ({
    content: [
      { type: 'resource', resource: { uri: 'crm://cards/1', mimeType: 'text/plain', text: 'card 4111 1111 1111 1111' } },
      { type: 'resource_link', uri: 'crm://cards/2', name: 'card', description: 'card 4111 1111 1111 1111' },
    ],
    _meta: { leaked: 'card 4111 1111 1111 1111' },
  }));
  server.registerTool('explode', { description: 'Fails at the HTTP level', inputSchema: {} }, async () => ({ content: [] }));
  return server;
}

export async function startEmailServer(): Promise<EmailServer> {
  const sent: EmailServer['sent'] = [];
  const authorizations: Array<string | undefined> = [];
  const http: Server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text === '' ? undefined : JSON.parse(text) as { method?: string; params?: { name?: string } };
      if (body?.method === 'tools/call' && body.params?.name === 'explode') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`upstream rejected credentials: ${req.headers.authorization ?? ''}`);
        return;
      }
      const server = build(sent);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void transport.close().then(() => server.close()));
      void server.connect(transport).then(() => transport.handleRequest(req, res, body));
    });
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
