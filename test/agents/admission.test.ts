/**
 * No shadow agents: a request that names an agent the registry does not have, or
 * one that is not active, is refused in the caller's wire format; an admin
 * suspends an agent at runtime (recorded in the audit trail) and the next
 * request is refused; `x-gatehouse-agent` and baggage claims follow the key.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { anthropicClient, openaiClient, spanOf, startTestGateway, type TestGateway } from '../support/gateway.js';
import { agentSpec, createRegistry, type TestRegistry } from './agentRegistry.js';

describe('agent admission', () => {
  let fixture: PolicyFixture;
  let registry: TestRegistry;
  let gw: TestGateway;

  beforeAll(async () => {
    fixture = await createPolicyFixture({ tenants: { acme: tenantSettings(), globex: tenantSettings() } });
    registry = await createRegistry([
      agentSpec('advisor-bot', { models: ['gpt-4o-mini', 'claude-haiku-4-5'] }),
      agentSpec('paused-bot', { status: 'suspended', statusReason: 'leaked a salary table in review' }),
      agentSpec('globex-bot', { tenant: 'globex' }),
    ]);
    gw = await startTestGateway(
      {
        providers: { sim: { type: 'simulated', outputTokens: 4 } },
        models: {
          'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] },
          'claude-haiku-4-5': { targets: [{ provider: 'sim', model: 'claude-haiku-4-5' }] },
        },
        policy: { enabled: true, dir: fixture.dir, watch: false },
        agents: { dir: registry.dir, watch: false },
      },
      [
        { id: 'advisor', tenant: 'acme', agent: 'advisor-bot' },
        { id: 'ghost', tenant: 'acme', agent: 'ghost-bot' },
        { id: 'paused', tenant: 'acme', agent: 'paused-bot' },
        { id: 'cross-tenant', tenant: 'acme', agent: 'globex-bot' },
        { id: 'app', tenant: 'acme' },
        { id: 'platform', tenant: 'acme', allowHeaders: ['agent'] },
        { id: 'admin', tenant: 'acme', user: 'ciso', roles: ['agents:admin'] },
        { id: 'globex-admin', tenant: 'globex', roles: ['agents:admin'] },
      ],
    );
  });
  afterAll(async () => {
    await gw?.stop();
    await fixture?.cleanup();
    await registry?.remove();
  });

  const chat = (key: string, headers: Record<string, string> = {}) =>
    openaiClient(gw, key, { headers }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
  const message = (key: string) =>
    anthropicClient(gw, key).messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] });
  const openaiFailure = async (promise: Promise<unknown>) => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    return error as InstanceType<typeof OpenAI.APIError>;
  };
  const anthropicFailure = async (promise: Promise<unknown>) => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    return error as InstanceType<typeof Anthropic.APIError> & { errorCode?: string };
  };

  it('a registered, active agent is served, and its span names it (gen_ai.agent.*, chain, depth)', async () => {
    const { response } = await chat('advisor');
    expect(response.status).toBe(200);
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gatehouse.agent.id': 'advisor-bot', 'gen_ai.agent.id': 'advisor-bot', 'gen_ai.agent.name': 'advisor-bot (test)',
      'gatehouse.agent.chain': ['advisor-bot'], 'gatehouse.agent.depth': 0,
    });
    expect((await message('advisor')).type).toBe('message');
  });

  it('an unregistered agent is refused with agent_not_registered in both wires, and the refusal names it', async () => {
    const openai = await openaiFailure(chat('ghost'));
    expect(openai.status).toBe(403);
    expect(openai.code).toBe('agent_not_registered');
    const anthropic = await anthropicFailure(message('ghost'));
    expect(anthropic.status).toBe(403);
    expect(anthropic.errorCode).toBe('agent_not_registered');
    const span = gw.requestSpans().findLast((s) => s.attributes['gatehouse.error.code'] === 'agent_not_registered');
    expect(span?.attributes).toMatchObject({ 'gatehouse.agent.id': 'ghost-bot', 'gatehouse.key.id': 'ghost', 'gatehouse.tenant.id': 'acme' });
  });

  it('an agent registered for another tenant is not registered for this one', async () => {
    expect((await openaiFailure(chat('cross-tenant'))).code).toBe('agent_not_registered');
  });

  it('an agent suspended in the registry is refused with agent_suspended in both wires', async () => {
    const openai = await openaiFailure(chat('paused'));
    expect(openai.status).toBe(403);
    expect(openai.code).toBe('agent_suspended');
    expect(openai.message).toContain('leaked a salary table');
    expect((await anthropicFailure(message('paused'))).errorCode).toBe('agent_suspended');
  });

  it('x-gatehouse-agent and baggage claims: only for keys allowed to name an agent, and only registered agents', async () => {
    expect((await chat('platform', { 'x-gatehouse-agent': 'advisor-bot' })).response.status).toBe(200);
    expect((await openaiFailure(chat('platform', { 'x-gatehouse-agent': 'shadow-bot' }))).code).toBe('agent_not_registered');
    expect((await openaiFailure(chat('platform', { baggage: 'gatehouse.agent.id=shadow-bot' }))).code).toBe('agent_not_registered');
    const notAllowed = await openaiFailure(chat('app', { 'x-gatehouse-agent': 'advisor-bot' }));
    expect(notAllowed.status).toBe(403);
    expect(notAllowed.code).toBe('header_not_allowed');
    // A key bound to an agent may not claim another.
    expect((await openaiFailure(chat('advisor', { 'x-gatehouse-agent': 'paused-bot' }))).code).toBe('header_not_allowed');
    // An application key (no agent) is not affected by the registry.
    expect((await chat('app')).response.status).toBe(200);
  });

  it('a malformed delegation chain in baggage is a 400 naming baggage', async () => {
    const error = await openaiFailure(chat('advisor', { baggage: `gatehouse.agent.chain=${encodeURIComponent('planner,Bad Id!')}` }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_request');
    expect(error.param).toBe('baggage');
  });

  it('an admin suspends an agent: the next request is refused; the change is an agent_status audit record; resume restores it', async () => {
    const admin = (action: string, key: string, body: unknown = { reason: 'investigating a runaway loop' }) =>
      fetch(`${gw.url}/v1/gatehouse/agents/advisor-bot/${action}`, {
        method: 'POST', headers: { authorization: `Bearer ${gw.keys[key]}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
    // Only agents:admin keys, only for their own tenant, and a reason is required.
    const notAdmin = await admin('suspend', 'app');
    expect(notAdmin.status).toBe(403);
    expect(((await notAdmin.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    expect((await admin('suspend', 'globex-admin')).status).toBe(403);
    const noReason = await admin('suspend', 'admin', {});
    expect(noReason.status).toBe(400);
    expect(((await noReason.json()) as { error: { param: string } }).error.param).toBe('reason');

    const suspended = await admin('suspend', 'admin');
    expect(suspended.status).toBe(200);
    expect(await suspended.json()).toMatchObject({ agent: 'advisor-bot', status: 'suspended', by: 'ciso (key admin)', reason: 'investigating a runaway loop' });
    const refused = await openaiFailure(chat('advisor'));
    expect(refused.code).toBe('agent_suspended');
    expect(refused.message).toContain('investigating a runaway loop');
    const record = gw.spans.getFinishedSpans().find((s) => s.attributes['gatehouse.record.type'] === 'agent_status');
    expect(record?.attributes).toMatchObject({
      'gatehouse.audit': true, 'gatehouse.agent.id': 'advisor-bot', 'gatehouse.agent.status': 'suspended',
      'gatehouse.key.id': 'admin', 'gatehouse.user.id': 'ciso', 'gatehouse.tenant.id': 'acme',
    });
    expect(String(record?.attributes['gatehouse.agent.status_reason'])).toContain('investigating a runaway loop');

    const state = await fetch(`${gw.url}/v1/gatehouse/agents/advisor-bot`, { headers: { authorization: `Bearer ${gw.keys.admin}` } });
    expect(await state.json()).toMatchObject({ agent: 'advisor-bot', status: 'suspended', registry_status: 'active' });

    expect((await admin('resume', 'admin', { reason: 'loop fixed' })).status).toBe(200);
    expect((await chat('advisor')).response.status).toBe(200);
    expect((await admin('decommission', 'admin', { reason: 'replaced by advisor-bot-2' })).status).toBe(200);
    expect((await openaiFailure(chat('advisor'))).code).toBe('agent_suspended');
    const resumeDecommissioned = await admin('resume', 'admin', { reason: 'oops' });
    expect(resumeDecommissioned.status).toBe(400);
    // Decommissioning is final: not even a suspension replaces it.
    expect((await admin('suspend', 'admin', { reason: 'then resume' })).status).toBe(400);
    expect((await openaiFailure(chat('advisor'))).code).toBe('agent_suspended');
    // A status set in the registry file is not lifted through the API.
    const lift = await fetch(`${gw.url}/v1/gatehouse/agents/paused-bot/resume`, {
      method: 'POST', headers: { authorization: `Bearer ${gw.keys.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'lift it' }),
    });
    expect(lift.status).toBe(400);
    expect((await openaiFailure(chat('paused'))).code).toBe('agent_suspended');
  });

  it('refuses a chain with unencoded commas or stated twice, instead of reading part of it', async () => {
    for (const baggage of ['gatehouse.agent.chain=planner,advisor-bot', 'gatehouse.agent.chain=advisor-bot,gatehouse.agent.chain=x']) {
      const error = await openaiFailure(chat('app', { baggage }));
      expect(error.status).toBe(400);
      expect(error.param).toBe('baggage');
    }
    const badId = await openaiFailure(chat('platform', { baggage: 'gatehouse.agent.id=Bad' }));
    expect(badId.param).toBe('baggage');
  });

  it('an unregistered agent may not list models either', async () => {
    const response = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${gw.keys.ghost}` } });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('agent_not_registered');
  });
});
