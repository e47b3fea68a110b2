/**
 * Issue 13, "Done means": the 217 e-mails, reproduced. An agent whose prompt says
 * to send directly calls email.send through the gateway; nothing is sent until an
 * approver approves that exact call; a second send with other recipients is held
 * again; the audit trail shows who approved what. Then: two-approver money
 * movement, denial, expiry, replay and argument tampering.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/cli/index.js';
import { collectorCommands } from '../../collector/cli/index.js';
import { captureStdout, makeTempDir, removeDir, startTestCollector, TEST_INGEST } from '../collector/support.js';
import { agentSpec, createRegistry, type TestRegistry } from '../agents/agentRegistry.js';
import type { TestGateway } from '../support/gateway.js';
import { startEmailServer, type EmailServer } from '../support/mcp/emailServer.js';
import { createPolicyFixture, type PolicyFixture } from '../support/policyFixture.js';
import { argumentsDigest, mcpClient, mcpConfig, startMcpGateway, untilListed } from '../mcp/mcpGateway.js';
import { api, APPROVAL_KEYS, APPROVAL_TENANT, approvalExtra, approve, clientFor, deny, refusal } from './approvalGateway.js';

const CUSTOMERS = Array.from({ length: 217 }, (_, i) => `customer${i + 1}@customer.example`);
const WRONG_NEWS = { to: CUSTOMERS, subject: 'Your account', body: 'Your balance is 0.00 EUR.' };

describe('approvals: human sign-off on risky tool calls', () => {
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  let email: EmailServer;
  let collector: RunningCollector;
  let dataDir: string;
  let gw: TestGateway;
  const clients: Client[] = [];

  beforeAll(async () => {
    fixture = await createPolicyFixture({ tenants: { acme: APPROVAL_TENANT } });
    registry = await createRegistry([
      agentSpec('mailer', { purpose: 'Send customers their account news directly.', tools: [{ server: 'email', tools: ['*'] }] }),
      agentSpec('payroll-bot', { owner: { team: 'finance', contact: 'payroll-owner' }, tools: [{ server: 'hr', tools: ['*'] }], data: ['hr:compensation'] }),
    ]);
    email = await startEmailServer();
    dataDir = await makeTempDir();
    collector = await startTestCollector({ dataDir, port: 0 });
    gw = await startMcpGateway(
      mcpConfig({ fixture, email, registryDir: registry.dir, extra: approvalExtra({ audit: { collectorUrl: collector.url, collectorToken: TEST_INGEST.token } }) }),
      APPROVAL_KEYS,
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

  it('the 217 e-mails: held until an approver approves that exact call, then sent once; other recipients are held again', async () => {
    const mailer = await clientFor(gw, 'mailer', clients);
    await untilListed(mailer, 'email.send');
    const held = await refusal(mailer.callTool({ name: 'email.send', arguments: WRONG_NEWS }));
    expect(held.data).toMatchObject({ code: 'approval_required', status: 403, approval: { status: 'pending', required: 1, approved: 0 } });
    const id = held.data.approval!.id;
    expect(held.data.approval!.url).toBe(`${gw.url}/v1/gatehouse/approvals/${id}`);
    expect(held.message).toContain(id);
    expect(email.sent).toEqual([]);

    // The agent retries: the same pending approval, not a second one.
    const again = await refusal(mailer.callTool({ name: 'email.send', arguments: WRONG_NEWS }));
    expect(again.data.approval!.id).toBe(id);
    const pending = await api(gw, 'erin', '?status=pending');
    expect(pending.status).toBe(200);
    const listed = (pending.body.data as Array<{ id: string; arguments: { to: string[] }; tool: string; requester: unknown }>).filter((a) => a.tool === 'email.send');
    expect(listed).toHaveLength(1);
    // The approver sees exactly what would be sent, and who asks.
    expect(listed[0]).toMatchObject({ id, requester: { key_id: 'mailer', user: 'bob', agent: 'mailer' } });
    expect(listed[0]!.arguments.to).toHaveLength(217);

    // An approver outside support-leads cannot approve it; another tenant's approver does not even see it.
    expect((await approve(gw, 'mallory', id)).body.error?.code).toBe('forbidden');
    expect((await approve(gw, 'other-tenant-approver', id)).status).toBe(404);
    // A key without the approver role cannot approve at all.
    expect((await approve(gw, 'mailer', id)).status).toBe(403);

    const approved = await approve(gw, 'erin', id, 'recipients and text checked');
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', approved_by: ['erin'] });

    const sent = await mailer.callTool({ name: 'email.send', arguments: WRONG_NEWS });
    expect(sent.isError).toBeFalsy();
    expect(email.sent).toHaveLength(1);
    expect(email.sent[0]!.to).toHaveLength(217);

    // Exactly once: the same call again is held again, with a new approval.
    const replay = await refusal(mailer.callTool({ name: 'email.send', arguments: WRONG_NEWS }));
    expect(replay.data.code).toBe('approval_required');
    expect(replay.data.approval!.id).not.toBe(id);
    // Presenting the used approval is refused as used.
    const reused = await refusal(mailer.callTool({ name: 'email.send', arguments: WRONG_NEWS, _meta: { 'gatehouse/approval_id': id } }));
    expect(reused.data.code).toBe('approval_used');

    // Other recipients: held again, whatever approval is presented.
    const tampered = await refusal(mailer.callTool({ name: 'email.send', arguments: { ...WRONG_NEWS, to: ['everyone@customer.example'] }, _meta: { 'gatehouse/approval_id': id } }));
    expect(tampered.data.code).toBe('approval_required');
    expect(tampered.data.approval!.id).not.toBe(id);
    expect(email.sent).toHaveLength(1);

    // The audit trail: requested, approved (by erin, why), used; the call that ran names its approval and approver.
    const digest = argumentsDigest(WRONG_NEWS);
    let steps: Array<Record<string, unknown>> = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
      steps = await collector.store.db.query(
        `SELECT approval_event, approval_actor, approval_reason, key_id, agent_id, gen_ai_tool_name, tool_arguments_sha256 FROM audit_records
          WHERE record_type = 'approval' AND approval_id = $1 ORDER BY seq`, [id]);
      if (steps.length >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(steps.map((s) => s.approval_event)).toEqual(['requested', 'approved', 'used']);
    expect(steps[1]).toMatchObject({ approval_actor: 'erin', approval_reason: 'recipients and text checked', key_id: 'erin' });
    expect(steps[0]).toMatchObject({ agent_id: 'mailer', gen_ai_tool_name: 'email.send', tool_arguments_sha256: digest });
    const ran = await collector.store.db.query(
      `SELECT outcome, approval_approvers, policy_decision FROM audit_records WHERE record_type = 'tool_call' AND approval_id = $1 AND outcome = 'ok'`, [id]);
    expect(ran).toEqual([{ outcome: 'ok', approval_approvers: ['erin'], policy_decision: 'allow' }]);
    let heldRows: Array<Record<string, unknown>> = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
      heldRows = await collector.store.db.query(
        `SELECT outcome, error_code FROM audit_records WHERE record_type = 'tool_call' AND approval_id = $1 AND outcome <> 'ok' ORDER BY seq`, [id]);
      if (heldRows.some((r) => r.error_code === 'approval_used')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(heldRows[0]).toEqual({ outcome: 'denied', error_code: 'approval_required' });
    expect(heldRows.some((r) => r.error_code === 'approval_used')).toBe(true);

    // `audit show` on the call that ran tells the whole story.
    const [callRow] = await collector.store.db.query(`SELECT request_id FROM audit_records WHERE record_type = 'tool_call' AND approval_id = $1 AND outcome = 'ok'`, [id]);
    const shown = await captureStdout(() => collectorCommands['audit show']!([String(callRow!.request_id), '--data-dir', dataDir]));
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/approval[\s\S]*requested[\s\S]*approved[\s\S]*erin[\s\S]*used/);
  });

  it('money moves on two distinct approvers: one is not enough, nor the same one twice, and the requester cannot approve', async () => {
    const payroll = await clientFor(gw, 'payroll', clients);
    await untilListed(payroll, 'hr.update_salary');
    const raise = { name: 'Ada', salary: 150_000 };
    const held = await refusal(payroll.callTool({ name: 'hr.update_salary', arguments: raise }));
    const id = held.data.approval!.id;
    expect(held.data.approval).toMatchObject({ required: 2, approved: 0 });
    // alice asked (she is the key's user), so she cannot approve, though she is a finance approver.
    expect((await approve(gw, 'alice-approver', id)).body.error?.code).toBe('forbidden');
    expect((await approve(gw, 'carol', id)).body).toMatchObject({ status: 'pending', approved_by: ['carol'] });
    expect((await approve(gw, 'carol', id)).body.error?.code).toBe('approval_conflict');
    expect((await refusal(payroll.callTool({ name: 'hr.update_salary', arguments: raise }))).data).toMatchObject({ code: 'approval_required', approval: { id, approved: 1 } });
    expect((await approve(gw, 'mallory', id)).body.error?.code).toBe('forbidden');
    expect((await approve(gw, 'dave', id)).body).toMatchObject({ status: 'approved', approved_by: ['carol', 'dave'] });
    // Tampering after approval: a bigger raise is another call.
    const bigger = await refusal(payroll.callTool({ name: 'hr.update_salary', arguments: { ...raise, salary: 990_000 }, _meta: { 'gatehouse/approval_id': id } }));
    expect(bigger.data.code).toBe('approval_required');
    expect(bigger.data.approval!.id).not.toBe(id);
    const done = await payroll.callTool({ name: 'hr.update_salary', arguments: raise, _meta: { 'gatehouse/approval_id': id } });
    expect(done.content).toEqual([{ type: 'text', text: 'updated Ada' }]);
    expect((await refusal(payroll.callTool({ name: 'hr.update_salary', arguments: raise, _meta: { 'gatehouse/approval_id': id } }))).data.code).toBe('approval_used');

    // The auditor's proof: every executed salary change had two distinct approvers.
    let proof: Array<Record<string, unknown>> = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
      proof = await collector.store.db.query(`
        SELECT c.request_id, count(DISTINCT a.approval_actor) AS approvers
          FROM audit_records c JOIN audit_records a ON a.approval_id = c.approval_id AND a.record_type = 'approval' AND a.approval_event = 'approved'
         WHERE c.record_type = 'tool_call' AND c.gen_ai_tool_name = 'hr.update_salary' AND c.outcome = 'ok'
         GROUP BY ALL`);
      if (proof.length > 0 && Number(proof[0]!.approvers) === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(proof.map((p) => Number(p.approvers))).toEqual([2]);
  });

  it('a requester cannot approve their own call, even when the call named another user', async () => {
    const own = await mcpClient(gw, 'erin-bot', { 'x-gatehouse-user': 'someone-else' });
    clients.push(own);
    await untilListed(own, 'email.send');
    const id = (await refusal(own.callTool({ name: 'email.send', arguments: { to: ['x@customer.example'], subject: 'Mine' } }))).data.approval!.id;
    expect((await approve(gw, 'erin', id)).body.error?.code).toBe('forbidden');
    expect((await api(gw, 'erin', `/${id}`)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it('a denial stands: the call is refused as denied, and nothing is sent', async () => {
    const mailer = await clientFor(gw, 'mailer', clients);
    await untilListed(mailer, 'email.send');
    const call = { to: ['vip@customer.example'], subject: 'Offer' };
    const id = (await refusal(mailer.callTool({ name: 'email.send', arguments: call }))).data.approval!.id;
    expect((await deny(gw, 'erin', id, 'wrong offer')).body).toMatchObject({ status: 'denied' });
    expect((await approve(gw, 'erin', id)).body.error?.code).toBe('approval_conflict');
    expect((await refusal(mailer.callTool({ name: 'email.send', arguments: call }))).data).toMatchObject({ code: 'approval_denied', approval: { id } });
    expect((await refusal(mailer.callTool({ name: 'email.send', arguments: call, _meta: { 'gatehouse/approval_id': id } }))).data.code).toBe('approval_denied');
    expect(email.sent.some((m) => m.to.includes('vip@customer.example'))).toBe(false);
  });

  it('an approval expires: it cannot be approved, the call asks again, and the expiry is recorded', async () => {
    const mailer = await clientFor(gw, 'mailer', clients);
    await untilListed(mailer, 'email.whoami');
    const id = (await refusal(mailer.callTool({ name: 'email.whoami', arguments: {} }))).data.approval!.id;
    await new Promise((r) => setTimeout(r, 1_300));
    expect((await approve(gw, 'erin', id)).body.error?.code).toBe('approval_expired');
    expect((await refusal(mailer.callTool({ name: 'email.whoami', arguments: {}, _meta: { 'gatehouse/approval_id': id } }))).data.code).toBe('approval_expired');
    const next = await refusal(mailer.callTool({ name: 'email.whoami', arguments: {} }));
    expect(next.data.code).toBe('approval_required');
    expect(next.data.approval!.id).not.toBe(id);
    let expired: Array<Record<string, unknown>> = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && expired.length === 0;) {
      expired = await collector.store.db.query(`SELECT approval_event FROM audit_records WHERE approval_id = $1 AND approval_event = 'expired'`, [id]);
      if (expired.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(expired).toHaveLength(1);
  });

  it('the approvers\' API refuses bad input with 4xx and stable codes', async () => {
    expect((await api(gw, 'erin', '?status=bogus')).body.error?.code).toBe('invalid_request');
    expect((await api(gw, 'erin', '?limit=100000')).body.error?.code).toBe('invalid_request');
    expect((await api(gw, 'erin', '/apr_nope')).status).toBe(404);
    expect((await api(gw, 'erin', '/apr_nope/approve', { reason: 'x' })).body.error?.code).toBe('approval_not_found');
    const anyPending = ((await api(gw, 'erin', '?status=pending')).body.data as Array<{ id: string }>)[0]!.id;
    expect((await api(gw, 'erin', `/${anyPending}/approve`, { reason: '' })).body.error?.code).toBe('invalid_request');
    expect((await api(gw, 'erin', `/${anyPending}/approve`, {})).body.error?.code).toBe('invalid_request');
    const noKey = await fetch(`${gw.url}/v1/gatehouse/approvals`);
    expect(noKey.status).toBe(401);
  });
});
