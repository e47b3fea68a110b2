/**
 * Reversible pseudonymization, end to end: the provider sees placeholders, never
 * the values; the client gets its values back, whole or streamed (with
 * placeholders split across chunks); spans and the audit spool hold neither the
 * values nor the mapping.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicClient, openaiClient, spanOf, type TestGateway } from '../support/gateway.js';
import { createPolicyFixture, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startEnforcedGateway } from './enforcedGateway.js';
import { receivedText, startScriptedUpstream, type ScriptedUpstream } from './scriptedUpstream.js';

const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
const IBAN = 'DE89370400440532013000';
const RAW = [EMAIL, CARD, IBAN];
const PROMPT = `Please update my records: email ${EMAIL}, card ${CARD}, IBAN ${IBAN}.`;
const PLACEHOLDER = /<(?:EMAIL|CARD|IBAN)_\d+>/g;

/** Echoes every placeholder it received, each split in the middle across two chunks. */
function echoPlaceholders(body: Record<string, unknown>): string[] {
  const found = receivedText(body).match(PLACEHOLDER) ?? [];
  const chunks = ['Noted:'];
  for (const placeholder of found) {
    const middle = Math.floor(placeholder.length / 2);
    chunks.push(` ${placeholder.slice(0, middle)}`, placeholder.slice(middle), ',');
  }
  chunks.push(' all saved.');
  return chunks;
}

describe('reversible PII pseudonymization', () => {
  let fixture: PolicyFixture;
  let upstream: ScriptedUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    fixture = await createPolicyFixture({
      tenants: { clinic: tenantSettings({ pii: { redact: ['email', 'payment_card', 'iban'], pseudonymize: true, response_redact: [] } }) },
    });
    upstream = await startScriptedUpstream(echoPlaceholders);
    // Content capture on: spans would carry the messages, so they must carry placeholders only.
    gw = await startEnforcedGateway({ fixture, upstream, captureContent: true, keys: [{ id: 'front-desk', tenant: 'clinic', user: 'desk-1' }] });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.stop();
    await fixture?.cleanup();
  });

  function expectUpstreamSawPlaceholdersOnly(): void {
    const seen = receivedText(upstream.requests.at(-1)!);
    for (const value of RAW) expect(seen).not.toContain(value);
    expect(seen.match(PLACEHOLDER)?.sort()).toEqual(['<CARD_1>', '<EMAIL_1>', '<IBAN_1>']);
  }

  it('restores the values in a whole answer', async () => {
    const { data, response } = await openaiClient(gw, 'front-desk').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] }).withResponse();
    expectUpstreamSawPlaceholdersOnly();
    const answer = data.choices[0]?.message.content ?? '';
    for (const value of RAW) expect(answer).toContain(value);
    expect(answer).not.toMatch(PLACEHOLDER);
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    // The clinic has no response rule, so its answers skip the response policy: restoring happens anyway.
    expect(span.attributes).toMatchObject({ 'gatehouse.policy.decision': 'allow', 'gatehouse.policy.response_decision': 'not_inspected', 'gatehouse.outcome': 'ok' });
    expect([...(span.attributes['gatehouse.redaction.classes'] as string[])].sort()).toEqual(['email', 'iban', 'payment_card']);
    expect(String(span.attributes['gen_ai.input.messages'])).toContain('<EMAIL_1>');
    expect(String(span.attributes['gen_ai.output.messages'])).toContain('<EMAIL_1>');
  });

  it('restores placeholders split across stream chunks (OpenAI)', async () => {
    const stream = await openaiClient(gw, 'front-desk').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], stream: true });
    let answer = '';
    for await (const chunk of stream) answer += chunk.choices[0]?.delta.content ?? '';
    expectUpstreamSawPlaceholdersOnly();
    for (const value of RAW) expect(answer).toContain(value);
    expect(answer).not.toMatch(/<(?:EMAIL|CARD|IBAN)/);
  });

  it('restores placeholders split across stream chunks (Anthropic)', async () => {
    const message = await anthropicClient(gw, 'front-desk').messages.stream({ model: 'gpt-4o-mini', max_tokens: 200, messages: [{ role: 'user', content: PROMPT }] }).finalMessage();
    expectUpstreamSawPlaceholdersOnly();
    const answer = message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    for (const value of RAW) expect(answer).toContain(value);
  });

  it('keeps the values and the mapping out of every span and of the audit spool', async () => {
    const spans = gw.spans.getFinishedSpans();
    expect(spans.length).toBeGreaterThanOrEqual(3);
    const recorded = JSON.stringify(spans.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })));
    for (const value of [...RAW, CARD.replaceAll(' ', '')]) expect(recorded).not.toContain(value);
    expect(recorded).toContain('<CARD_1>');
    // The spool holds the same spans as OTLP; it is durable before each response ended.
    const spoolDir = join(gw.config.dataDir, 'spool');
    const files = (await readdir(spoolDir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    const bytes = Buffer.concat(await Promise.all(files.map((file) => readFile(join(file.parentPath, file.name)))));
    expect(bytes.includes('<EMAIL_1>')).toBe(true);
    for (const value of [...RAW, CARD.replaceAll(' ', '')]) expect(bytes.includes(value)).toBe(false);
  });
});
