import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../proxy/canonical.js';
import { classesFound, redact, redactChatRequest, redactionMarker } from '../../proxy/pii/index.js';
import type { PiiClass } from '../../proxy/policy/decision.js';
import { fakeSecrets } from './fixtures.js';

const ALL: PiiClass[] = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'secret'];

describe('redact', () => {
  it('replaces each value with its class marker and counts per class', () => {
    const text = `Write to a@b.io or c@d.io, call +44 20 7946 0958, pay 4111 1111 1111 1111 from DE89 3704 0044 0532 0130 00, SSN 078-05-1120, key ${fakeSecrets.openai}.`;
    const { text: out, counts } = redact(text, ALL);
    expect(out).toBe(
      `Write to ${redactionMarker('email')} or ${redactionMarker('email')}, call ${redactionMarker('phone')}, ` +
        `pay ${redactionMarker('payment_card')} from ${redactionMarker('iban')}, SSN ${redactionMarker('us_ssn')}, key ${redactionMarker('secret')}.`,
    );
    expect(counts).toEqual({ email: 2, phone: 1, payment_card: 1, iban: 1, us_ssn: 1, secret: 1 });
    expect(redactionMarker('email')).toBe('[REDACTED_EMAIL]');
  });

  it('keeps the key of an assignment and redacts its value', () => {
    expect(redact('password=hunter22', ['secret']).text).toBe('password=[REDACTED_SECRET]');
  });

  it('leaves other classes and clean text alone, returning the same string', () => {
    const clean = 'Nothing to see on 2024-01-15 in order 12345678.';
    expect(redact(clean, ALL)).toEqual({ text: clean, counts: {} });
    expect(redact('mail a@b.io', ['phone']).text).toBe('mail a@b.io');
  });

  it('is idempotent: markers are not detected again', () => {
    const once = redact(`a@b.io password=hunter22 ${fakeSecrets.aws}`, ALL).text;
    expect(redact(once, ALL)).toEqual({ text: once, counts: {} });
  });
});

describe('redactChatRequest', () => {
  const request: ChatRequest = {
    model: 'gpt-4o',
    stream: false,
    streamUsage: false,
    endUser: 'alice@example.com',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'You are helpful.' }] },
      { role: 'user', content: [{ type: 'text', text: 'My card is 4111 1111 1111 1111' }, { type: 'image', source: { kind: 'url', url: 'https://x/y.png' } }] },
      { role: 'assistant', content: [], toolCalls: [{ id: 't1', name: 'lookup', arguments: '{"email":"bob@example.com"}' }] },
      { role: 'tool', toolCallId: 't1', content: [{ type: 'text', text: 'phone +44 20 7946 0958' }] },
    ],
  };

  it('redacts text parts, tool call arguments, tool results and endUser in a copy', () => {
    const before = JSON.stringify(request);
    const { request: out, counts } = redactChatRequest(request, ALL);
    expect(JSON.stringify(request)).toBe(before);
    expect(out.endUser).toBe('[REDACTED_EMAIL]');
    expect(out.messages[1]!.content[0]).toEqual({ type: 'text', text: 'My card is [REDACTED_PAYMENT_CARD]' });
    expect(out.messages[1]!.content[1]).toBe(request.messages[1]!.content[1]);
    const assistant = out.messages[2]!;
    expect(assistant.role === 'assistant' && JSON.parse(assistant.toolCalls![0]!.arguments)).toEqual({ email: '[REDACTED_EMAIL]' });
    expect(out.messages[3]!.content[0]).toEqual({ type: 'text', text: 'phone [REDACTED_PHONE]' });
    expect(out.messages[0]).toBe(request.messages[0]);
    expect(counts).toEqual({ email: 2, payment_card: 1, phone: 1 });
    expect(classesFound(counts).sort()).toEqual(['email', 'payment_card', 'phone']);
  });

  it('returns the same request object when nothing is found', () => {
    const clean: ChatRequest = { ...request, endUser: undefined, messages: [request.messages[0]!] };
    expect(redactChatRequest(clean, ALL).request).toBe(clean);
    expect(redactChatRequest(request, []).request).toBe(request);
  });
});
