/**
 * Approvals that outlive a process: pending approvals survive a gateway restart
 * (the embedded store), two replicas on one Redis share them (requested on one,
 * approved through the other, used exactly once), the webhook is retried and
 * carries no arguments by default, and the `gatehouse approvals` CLI works
 * against a running gateway with an approver key.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../collector/support.js';
import { agentSpec, createRegistry, type TestRegistry } from '../agents/agentRegistry.js';
import type { TestGateway } from '../support/gateway.js';
import { startEmailServer, type EmailServer } from '../support/mcp/emailServer.js';
import { createPolicyFixture, type PolicyFixture } from '../support/policyFixture.js';
import { runGatehouse } from '../support/processes.js';
import { describeWithRedis, startRedis, type RunningRedis } from '../support/redis.js';
import { mcpConfig, startMcpGateway, untilListed } from '../mcp/mcpGateway.js';
import { api, APPROVAL_KEYS, APPROVAL_TENANT, approve, clientFor, refusal } from './approvalGateway.js';

const LETTER = { to: ['ceo@customer.example'], subject: 'Quarterly statement' };

interface Hook { server: Server; url: string; bodies: Array<Record<string, unknown>>; failFirst: number }

async function startHook(failFirst: number): Promise<Hook> {
  const hook: Hook = { server: createServer(), url: '', bodies: [], failFirst };
  hook.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hook.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(hook.bodies.length <= hook.failFirst ? 503 : 200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/hook`;
  return hook;
}

describe('approvals that outlive a process', () => {
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  let email: EmailServer;
  let hook: Hook;
  const clients: Client[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    fixture = await createPolicyFixture({ tenants: { acme: APPROVAL_TENANT } });
    registry = await createRegistry([agentSpec('mailer', { tools: [{ server: 'email', tools: ['*'] }] })]);
    email = await startEmailServer();
    hook = await startHook(1);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await email?.stop();
    hook?.server.close();
    await fixture?.cleanup();
    await registry?.remove();
    for (const dir of dirs) await removeDir(dir);
  });

  it('a pending approval survives a restart, is approved after it, and the call goes through; the webhook was retried', async () => {
    const dataDir = await makeTempDir();
    dirs.push(dataDir);
    const config = mcpConfig({
      fixture, email, registryDir: registry.dir,
      extra: { dataDir, approvals: { sweepMs: 200, webhook: { url: hook.url, headers: { authorization: 'Bearer hook-secret' }, attempts: 3, timeoutMs: 2_000, includeArguments: false } } },
    });
    let gw: TestGateway = await startMcpGateway(config, APPROVAL_KEYS);
    let mailer = await clientFor(gw, 'mailer', clients);
    await untilListed(mailer, 'email.send');
    const id = (await refusal(mailer.callTool({ name: 'email.send', arguments: LETTER }))).data.approval!.id;

    // The webhook: refused once (503), retried, delivered; Slack's `text`, and the approval without its arguments.
    for (const deadline = Date.now() + 10_000; hook.bodies.length < 2 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
    expect(hook.bodies).toHaveLength(2);
    expect(hook.bodies[1]).toEqual(hook.bodies[0]);
    expect(String(hook.bodies[1]!.text)).toContain(id);
    expect(hook.bodies[1]!.approval).toMatchObject({ id, tool: 'email.send', required: 1, groups: ['support-leads'], user: 'bob', agent: 'mailer' });
    expect(JSON.stringify(hook.bodies[1])).not.toContain('ceo@customer.example');

    await mailer.close();
    await gw.stop();
    gw = await startMcpGateway(config, APPROVAL_KEYS);
    // The same approver keys by id, new secrets: the restarted gateway knows the approval.
    const listed = await api(gw, 'erin', '?status=pending');
    expect((listed.body.data as Array<{ id: string }>).map((a) => a.id)).toContain(id);
    expect((await approve(gw, 'erin', id)).body).toMatchObject({ status: 'approved' });
    mailer = await clientFor(gw, 'mailer', clients);
    await untilListed(mailer, 'email.send');
    expect((await mailer.callTool({ name: 'email.send', arguments: LETTER })).isError).toBeFalsy();
    expect(email.sent.filter((m) => m.to.includes('ceo@customer.example'))).toHaveLength(1);
    await mailer.close();
    await gw.stop();
  });

  it('the approvers\' CLI lists, shows and approves with an approver key, and refuses without one', async () => {
    const dataDir = await makeTempDir();
    dirs.push(dataDir);
    const gw = await startMcpGateway(mcpConfig({ fixture, email, registryDir: registry.dir, extra: { dataDir } }), APPROVAL_KEYS);
    try {
      const mailer = await clientFor(gw, 'mailer', clients);
      await untilListed(mailer, 'email.send');
      const letter = { to: ['cfo@customer.example'], subject: 'CLI' };
      const id = (await refusal(mailer.callTool({ name: 'email.send', arguments: letter }))).data.approval!.id;
      const env = { GATEHOUSE_APPROVER_KEY: gw.keys.erin! };
      const list = await runGatehouse(['approvals', 'list', '--url', gw.url], { env });
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(new RegExp(`${id}\\s+pending\\s+email\\.send\\s+bob, agent mailer\\s+0/1`));
      const show = await runGatehouse(['approvals', 'show', id, '--url', gw.url], { env });
      expect(JSON.parse(show.stdout)).toMatchObject({ id, arguments: letter, status: 'pending' });
      const approved = await runGatehouse(['approvals', 'approve', id, '--reason', 'known recipient', '--url', gw.url], { env });
      expect(approved.code, approved.stderr).toBe(0);
      expect(JSON.parse(approved.stdout)).toMatchObject({ status: 'approved', approved_by: ['erin'], decisions: [{ approver: 'erin', reason: 'known recipient' }] });
      const noReason = await runGatehouse(['approvals', 'deny', id, '--url', gw.url], { env });
      expect(noReason.code).toBe(2);
      const wrongKey = await runGatehouse(['approvals', 'list', '--url', gw.url, '--key', gw.keys.mailer!]);
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.stderr).toContain('forbidden');
      await mailer.close();
    } finally {
      await gw.stop();
    }
  }, 60_000);
});

describeWithRedis('approvals across two replicas on one Redis', () => {
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  let email: EmailServer;
  let redis: RunningRedis;
  let a: TestGateway;
  let b: TestGateway;
  const clients: Client[] = [];

  beforeAll(async () => {
    fixture = await createPolicyFixture({ tenants: { acme: APPROVAL_TENANT } });
    registry = await createRegistry([agentSpec('mailer', { tools: [{ server: 'email', tools: ['*'] }] })]);
    email = await startEmailServer();
    redis = await startRedis();
    const config = () => mcpConfig({ fixture, email, registryDir: registry.dir, extra: { limits: { store: 'redis', redisUrl: redis.url, keyPrefix: 'approvals-test:' } } });
    a = await startMcpGateway(config(), APPROVAL_KEYS);
    b = await startMcpGateway(config(), APPROVAL_KEYS);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await a?.stop();
    await b?.stop();
    await redis?.stop();
    await email?.stop();
    await fixture?.cleanup();
    await registry?.remove();
  });

  it('requested on A, merged on B, approved through B, used exactly once whichever replica calls first', async () => {
    const onA = await clientFor(a, 'mailer', clients);
    const onB = await clientFor(b, 'mailer', clients);
    await untilListed(onA, 'email.send');
    await untilListed(onB, 'email.send');
    const letter = { to: ['board@customer.example'], subject: 'Replicas' };
    const id = (await refusal(onA.callTool({ name: 'email.send', arguments: letter }))).data.approval!.id;
    expect((await refusal(onB.callTool({ name: 'email.send', arguments: letter }))).data.approval!.id).toBe(id);
    expect((await approve(b, 'erin', id)).body).toMatchObject({ status: 'approved' });
    // Both replicas race for the one approved call: exactly one sends.
    const outcomes = await Promise.allSettled([
      onA.callTool({ name: 'email.send', arguments: letter, _meta: { 'gatehouse/approval_id': id } }),
      onB.callTool({ name: 'email.send', arguments: letter, _meta: { 'gatehouse/approval_id': id } }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as { data: { code: string } }).data.code).toMatch(/^approval_(used|required)$/);
    expect(email.sent.filter((m) => m.to.includes('board@customer.example'))).toHaveLength(1);
    expect((await api(a, 'erin', `/${id}`)).body).toMatchObject({ status: 'used' });
  });
});
