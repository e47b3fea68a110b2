import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ChatRequest, ChatResponse } from '../../proxy/canonical.js';
import { Pseudonymizer, pseudonymizeChatRequest, unmaskChatResponse } from '../../proxy/pii/index.js';
import type { PiiClass } from '../../proxy/policy/decision.js';
import { fakeSecrets } from './fixtures.js';

const ALL: PiiClass[] = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'secret'];
const VALUES = ['alice@example.com', '+44 20 7946 0958', '4111 1111 1111 1111', 'DE89370400440532013000', '078-05-1120', fakeSecrets.github];

describe('Pseudonymizer', () => {
  it('masks every value and restores the original exactly', () => {
    const p = new Pseudonymizer();
    const text = `Hi ${VALUES.join(', then ')}; again ${VALUES[0]}.`;
    const masked = p.mask(text, ALL);
    for (const value of VALUES) expect(masked).not.toContain(value);
    expect(p.unmask(masked)).toBe(text);
    expect(p.counts()).toEqual({ email: 2, phone: 1, payment_card: 1, iban: 1, us_ssn: 1, secret: 1 });
  });

  it('gives the same value the same placeholder, and different values different ones', () => {
    const p = new Pseudonymizer();
    const a = p.mask('from alice@example.com', ALL);
    const b = p.mask('cc bob@example.com and alice@example.com', ALL);
    const placeholderOfAlice = a.slice('from '.length);
    expect(placeholderOfAlice).toMatch(/^<EMAIL_\d+>$/);
    expect(b).toBe(`cc <EMAIL_2> and ${placeholderOfAlice}`);
    expect(p.size).toBe(2);
  });

  it('survives a model that reorders and repeats placeholders', () => {
    const p = new Pseudonymizer();
    const masked = p.mask('alice@example.com and 078-05-1120', ALL);
    const [email, ssn] = masked.split(' and ');
    expect(p.unmask(`SSN ${ssn} belongs to ${email} (${email})`)).toBe('SSN 078-05-1120 belongs to alice@example.com (alice@example.com)');
  });

  it('cannot collide with placeholder-shaped text the user typed', () => {
    const p = new Pseudonymizer();
    const text = 'template <EMAIL_1> is for alice@example.com, also <SSN_2> and <EMAIL_9>';
    const masked = p.mask(text, ['email']);
    expect(p.unmask(masked)).toBe(text);
    const tokens = masked.match(/<[A-Z]+_\d+>/g)!;
    expect(new Set(tokens).size).toBe(4);
    expect(p.counts()).toEqual({ email: 1 });
  });

  it('leaves unknown placeholders and clean text untouched', () => {
    const p = new Pseudonymizer();
    expect(p.mask('nothing here', ALL)).toBe('nothing here');
    expect(p.unmask('a <EMAIL_7> b < c')).toBe('a <EMAIL_7> b < c');
  });

  it('restores values in their JSON form inside tool call arguments', () => {
    const p = new Pseudonymizer();
    const masked = p.mask(`my key:\n${fakeSecrets.pem}\nand alice@example.com`, ALL);
    const [secret] = masked.match(/<SECRET_\d+>/)!;
    const args = p.unmask(`{"key":"${secret}","to":"<EMAIL_1>"}`, { json: true });
    expect(JSON.parse(args)).toEqual({ key: fakeSecrets.pem, to: 'alice@example.com' });
  });

  it('masks JSON text without breaking it, and round-trips it byte for byte', () => {
    const p = new Pseudonymizer();
    const json = JSON.stringify({ note: 'line\nalice@example.com', auth: 'password="hunter22"', pem: fakeSecrets.pem });
    const masked = p.mask(json, ALL, { json: true });
    const parsed = JSON.parse(masked) as Record<string, string>;
    expect(parsed.note).toMatch(/^line\n<EMAIL_1>$/);
    expect(parsed.auth).toMatch(/^password="<SECRET_\d>"$/);
    expect(masked).not.toContain('hunter22');
    expect(p.unmask(masked, { json: true })).toBe(json);
    expect(p.unmask(`pem: ${parsed.pem}`)).toBe(`pem: ${fakeSecrets.pem}`);
  });

  it('reveals no value and no mapping through JSON, String or inspect', () => {
    const p = new Pseudonymizer();
    p.mask(VALUES.join(' '), ALL);
    const shown = [JSON.stringify(p), JSON.stringify({ p }), String(p), `${p}`, inspect(p), inspect({ nested: p }, { depth: 5, showHidden: true })];
    for (const text of shown) {
      for (const value of VALUES) expect(text).not.toContain(value);
      expect(text).not.toMatch(/<[A-Z]+_\d+>/);
    }
    expect(Object.keys(p)).toEqual([]);
  });
});

describe('pseudonymizeChatRequest / unmaskChatResponse', () => {
  const request: ChatRequest = {
    model: 'claude',
    stream: false,
    streamUsage: false,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Email alice@example.com about IBAN DE89 3704 0044 0532 0130 00' }] },
      { role: 'assistant', content: [], toolCalls: [{ id: 'c1', name: 'send', arguments: '{"to":"alice@example.com"}' }] },
      { role: 'tool', toolCallId: 'c1', content: [{ type: 'text', text: 'sent to alice@example.com' }] },
    ],
  };

  it('masks the request copy and restores the answer', () => {
    const p = new Pseudonymizer();
    const { request: masked, counts } = pseudonymizeChatRequest(request, ALL, p);
    const wire = JSON.stringify(masked);
    expect(wire).not.toContain('alice@example.com');
    expect(wire).not.toContain('DE89');
    expect(JSON.stringify(request)).toContain('alice@example.com');
    expect(counts).toEqual({ email: 3, iban: 1 });

    const userText = masked.messages[0]!.content[0]!;
    const emailToken = userText.type === 'text' ? userText.text.match(/<EMAIL_\d+>/)![0] : '';
    const response: ChatResponse = {
      id: 'r1', model: 'claude', created: 0, finishReason: 'tool_calls',
      usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0 },
      content: [{ type: 'text', text: `Sending to ${emailToken}.` }],
      toolCalls: [{ id: 'c2', name: 'send', arguments: `{"to":"${emailToken}"}` }],
    };
    const answer = unmaskChatResponse(response, p);
    expect(answer.content).toEqual([{ type: 'text', text: 'Sending to alice@example.com.' }]);
    expect(JSON.parse(answer.toolCalls[0]!.arguments)).toEqual({ to: 'alice@example.com' });
    expect(response.content[0]).toEqual({ type: 'text', text: `Sending to ${emailToken}.` });
  });

  it('counts each request separately on a shared pseudonymizer', () => {
    const p = new Pseudonymizer();
    pseudonymizeChatRequest(request, ALL, p);
    const clean: ChatRequest = { ...request, messages: [{ role: 'user', content: [{ type: 'text', text: 'call +44 20 7946 0958' }] }] };
    expect(pseudonymizeChatRequest(clean, ALL, p).counts).toEqual({ phone: 1 });
  });
});
