/**
 * Issue 18, "Done means": the unusual spellings never reach the upstream, whole
 * or streamed, and the client gets its own text back; content capture is on, so
 * spans and the spool must not hold them either.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openaiClient, type TestGateway } from '../support/gateway.js';
import { createPolicyFixture, describeWithOpa, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startEnforcedGateway } from './enforcedGateway.js';
import { receivedText, startScriptedUpstream, type ScriptedUpstream } from './scriptedUpstream.js';

const VALUES = [
  '4111.1111.1111.1111',
  '5500-0000.0000 0004',
  '４１１１ １１１１ １１１１ １１１１',
  '4111\u200b1111\u200b1111\u200b1111',
  'jöhn.döe@exämple.com',
  'j\u0430ne@example.com',
  'bob＠example.com',
  '123456789',
];
const PROMPT = `Cards ${VALUES[0]}, ${VALUES[1]}, ${VALUES[2]} and ${VALUES[3]}; mail ${VALUES[4]}, ${VALUES[5]}, ${VALUES[6]}; my ssn is ${VALUES[7]}. Order 1234.5678.9012.3456 ships 2024.01.15.`;
const PLACEHOLDER = /<(?:EMAIL|CARD|SSN)_\d+>/g;

/** Echoes every placeholder it received, each split across two chunks. */
function echo(body: Record<string, unknown>): string[] {
  const chunks = ['Noted:'];
  for (const placeholder of receivedText(body).match(PLACEHOLDER) ?? []) {
    const middle = Math.floor(placeholder.length / 2);
    chunks.push(` ${placeholder.slice(0, middle)}`, placeholder.slice(middle), ';');
  }
  return chunks;
}

describeWithOpa('PII in unusual spellings, end to end', () => {
  let fixture: PolicyFixture;
  let upstream: ScriptedUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    fixture = await createPolicyFixture({
      tenants: { clinic: tenantSettings({ pii: { redact: ['email', 'payment_card', 'us_ssn', 'phone', 'iban'], pseudonymize: true, response_redact: [] } }) },
    });
    upstream = await startScriptedUpstream(echo);
    gw = await startEnforcedGateway({ fixture, upstream, captureContent: true, keys: [{ id: 'desk', tenant: 'clinic', user: 'desk-1' }] });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.stop();
    await fixture?.cleanup();
  });

  function expectUpstreamSawNone(): void {
    const seen = receivedText(upstream.requests.at(-1)!);
    for (const value of VALUES) expect(seen).not.toContain(value);
    for (const digits of ['4111111111111111', '5500000000000004', '１１１１']) expect(seen).not.toContain(digits);
    expect(seen.match(PLACEHOLDER)).toHaveLength(VALUES.length);
    // The must-not-redact parts reach it as they were.
    expect(seen).toContain('Order 1234.5678.9012.3456 ships 2024.01.15.');
  }

  it('whole: the upstream sees placeholders, the client its own spellings', async () => {
    const answer = await openaiClient(gw, 'desk').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] });
    expectUpstreamSawNone();
    const text = answer.choices[0]?.message.content ?? '';
    for (const value of VALUES) expect(text).toContain(value);
  });

  it('streamed: the same, with placeholders split across chunks', async () => {
    const stream = await openaiClient(gw, 'desk').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expectUpstreamSawNone();
    for (const value of VALUES) expect(text).toContain(value);
    expect(text).not.toMatch(/<(?:EMAIL|CARD|SSN)/);
  });

  it('keeps them out of the spans and the audit spool', async () => {
    const recorded = JSON.stringify(gw.spans.getFinishedSpans().map((span) => span.attributes));
    const spoolDir = join(gw.config.dataDir, 'spool');
    const files = (await readdir(spoolDir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    const spool = Buffer.concat(await Promise.all(files.map((file) => readFile(join(file.parentPath, file.name))))).toString('utf8');
    for (const value of VALUES) {
      expect(recorded).not.toContain(value);
      expect(spool).not.toContain(value);
    }
    expect(recorded).toContain('<CARD_1>');
  });
});
