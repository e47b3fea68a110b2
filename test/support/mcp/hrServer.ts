/**
 * A real MCP server (the official SDK) over stdio, for tests: the `hr` tool
 * server. Run as `node --import tsx test/support/mcp/hrServer.ts`.
 *  - query (readOnlyHint): "SQL" over the employee table; selecting salary returns salaries;
 *  - list_employees (readOnlyHint);
 *  - update_salary (destructiveHint).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const EMPLOYEES = [
  { name: 'Ada Lovelace', role: 'engineer', salary: 185000 },
  { name: 'Alan Turing', role: 'engineer', salary: 172000 },
];

const server = new McpServer({ name: 'hr-test', version: '1.0.0' });
server.registerTool('query', {
  description: 'Run a read-only query over the employee table',
  inputSchema: { sql: z.string().optional(), columns: z.array(z.string()).optional() },
  annotations: { readOnlyHint: true },
}, async ({ sql, columns }) => {
  const wanted = columns ?? (sql && /salary/i.test(sql) ? ['name', 'salary'] : ['name', 'role']);
  const rows = EMPLOYEES.map((e) => Object.fromEntries(wanted.map((c) => [c, (e as Record<string, unknown>)[c]])));
  return { content: [{ type: 'text', text: JSON.stringify(rows) }] };
});
server.registerTool('list_employees', {
  description: 'List employee names and roles',
  inputSchema: {},
  annotations: { readOnlyHint: true },
}, async () => ({ content: [{ type: 'text', text: EMPLOYEES.map((e) => `${e.name} (${e.role})`).join('\n') }] }));
server.registerTool('update_salary', {
  description: 'Change an employee salary',
  inputSchema: { name: z.string(), salary: z.number() },
  annotations: { readOnlyHint: false, destructiveHint: true },
}, async ({ name }) => ({ content: [{ type: 'text', text: `updated ${name}` }] }));

await server.connect(new StdioServerTransport());
