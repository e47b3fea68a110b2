/**
 * A gateway with approvals: the MCP gateway of test/mcp in front of the e-mail
 * server (HTTP) and the HR server (stdio), a tenant whose policy asks for:
 *
 *  - one approval from `support-leads` (erin) for every `email.send`;
 *  - two approvals from `finance-approvers` (carol, dave, alice) for `hr.update_salary`
 *    (money: a salary change);
 *  - one approval, expiring after 1 s, for `email.whoami` (the expiry test);
 *
 * and approver keys for erin, carol, dave, mallory (in no group) and alice, who is
 * also the user of the `payroll` key that asks for salary changes.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import type { ConfigInput } from '../../proxy/config/schema.js';
import type { TestGateway, TestKey } from '../support/gateway.js';
import { tenantSettings } from '../support/policyFixture.js';
import { mcpClient } from '../mcp/mcpGateway.js';

export const APPROVAL_TENANT = tenantSettings({
  email_domains: ['customer.example'],
  approvals: [
    { tools: ['email.send'], count: 1, groups: ['support-leads'], expires_in_seconds: 3600, reason: 'Customer e-mails are sent by a person.' },
    { tools: ['hr.update_salary'], count: 2, groups: ['finance-approvers'], expires_in_seconds: 3600, reason: 'Money moves on two signatures.' },
    { tools: ['email.whoami'], count: 1, groups: ['support-leads'], expires_in_seconds: 1 },
  ],
  approver_groups: { 'support-leads': ['erin'], 'finance-approvers': ['carol', 'dave', 'alice'] },
});

export const APPROVAL_KEYS: TestKey[] = [
  { id: 'mailer', tenant: 'acme', user: 'bob', agent: 'mailer' },
  // erin's own agent key, which may name another user per request.
  { id: 'erin-bot', tenant: 'acme', user: 'erin', agent: 'mailer', allowHeaders: ['user'] },
  { id: 'payroll', tenant: 'acme', user: 'alice', agent: 'payroll-bot' },
  { id: 'erin', tenant: 'acme', user: 'erin', roles: ['approver'] },
  { id: 'carol', tenant: 'acme', user: 'carol', roles: ['approver'] },
  { id: 'dave', tenant: 'acme', user: 'dave', roles: ['approver'] },
  { id: 'mallory', tenant: 'acme', user: 'mallory', roles: ['approver'] },
  { id: 'alice-approver', tenant: 'acme', user: 'alice', roles: ['approver'] },
  { id: 'other-tenant-approver', tenant: 'globex', user: 'gina', roles: ['approver'] },
];

export type Refusal = McpError & { data: { code: string; status: number; approval?: { id: string; status: string; required: number; approved: number; url: string; expires_at: string } } };

export async function refusal(promise: Promise<unknown>): Promise<Refusal> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(McpError);
  return error as Refusal;
}

export interface ApiAnswer { status: number; body: Record<string, unknown> & { error?: { code: string } } }

/** The approvers' API with an approver's key. */
export async function api(gw: TestGateway, keyId: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const response = await fetch(`${gw.url}/v1/gatehouse/approvals${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${gw.keys[keyId]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() as ApiAnswer['body'] };
}

export function approve(gw: TestGateway, keyId: string, id: string, reason = 'checked the recipients'): Promise<ApiAnswer> {
  return api(gw, keyId, `/${id}/approve`, { reason });
}

export function deny(gw: TestGateway, keyId: string, id: string, reason = 'not this one'): Promise<ApiAnswer> {
  return api(gw, keyId, `/${id}/deny`, { reason });
}

export async function clientFor(gw: TestGateway, keyId: string, clients: Client[]): Promise<Client> {
  const c = await mcpClient(gw, keyId);
  clients.push(c);
  return c;
}

export const approvalExtra = (extra: Partial<ConfigInput> = {}): Partial<ConfigInput> => ({ approvals: { sweepMs: 200 }, ...extra });
