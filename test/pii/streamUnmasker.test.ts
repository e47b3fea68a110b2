import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../proxy/canonical.js';
import { Pseudonymizer, StreamEventUnmasker, type StreamUnmasker } from '../../proxy/pii/index.js';
import type { PiiClass } from '../../proxy/policy/decision.js';
import { fakeSecrets } from './fixtures.js';

const ALL: PiiClass[] = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'secret'];

/** A pseudonymizer with several issued placeholders, including <EMAIL_1> and <EMAIL_10>–<EMAIL_12>. */
function setup(): { p: Pseudonymizer; issued: string[] } {
  const p = new Pseudonymizer();
  const emails = Array.from({ length: 12 }, (_, i) => `user${i + 1}@example.com`);
  const masked = p.mask(`${emails.join(' ')} 078-05-1120 +44 20 7946 0958`, ALL);
  return { p, issued: masked.match(/<[A-Z]+_\d+>/g)! };
}

/** The answer a model writes back: placeholders next to each other, to text and to a stray '<'. */
function answerFor(issued: string[]): string {
  return `Hi ${issued[0]},${issued[11]}<${issued[10]}> x < y ${issued[12]}${issued[13]} <EMAIL_99> <EM end`;
}

function drain(unmasker: StreamUnmasker, chunks: string[]): string {
  let out = '';
  for (const chunk of chunks) out += unmasker.push(chunk);
  return out + unmasker.flush();
}

/** What may be held after `consumed`: the tail from its last '<', if that is a proper prefix of an issued placeholder. */
function allowedHold(consumed: string, issued: string[]): number {
  const at = consumed.lastIndexOf('<');
  if (at < 0) return 0;
  const tail = consumed.slice(at);
  return issued.some((token) => token.length > tail.length && token.startsWith(tail)) ? tail.length : 0;
}

describe('createStreamUnmasker', () => {
  it('restores placeholders split at every position into two chunks', () => {
    const { p, issued } = setup();
    const answer = answerFor(issued);
    const expected = p.unmask(answer);
    expect(expected).toContain('user1@example.com');
    for (let i = 0; i <= answer.length; i++) {
      expect(drain(p.createStreamUnmasker(), [answer.slice(0, i), answer.slice(i)]), `split at ${i}`).toBe(expected);
    }
  });

  it('restores placeholders split at every pair of positions into three chunks', () => {
    const { p, issued } = setup();
    const answer = answerFor(issued).slice(0, 60);
    const expected = p.unmask(answer);
    for (let i = 0; i <= answer.length; i++) {
      for (let j = i; j <= answer.length; j++) {
        const chunks = [answer.slice(0, i), answer.slice(i, j), answer.slice(j)];
        expect(drain(p.createStreamUnmasker(), chunks), `split at ${i},${j}`).toBe(expected);
      }
    }
  });

  it('holds back only the minimal possible-prefix tail, one character at a time', () => {
    const { p, issued } = setup();
    const answer = answerFor(issued);
    const unmasker = p.createStreamUnmasker();
    let emitted = '';
    for (let i = 1; i <= answer.length; i++) {
      emitted += unmasker.push(answer[i - 1]!);
      const consumed = answer.slice(0, i);
      const hold = allowedHold(consumed, issued);
      expect(emitted, `after ${i} characters`).toBe(p.unmask(consumed.slice(0, consumed.length - hold)));
    }
    expect(emitted + unmasker.flush()).toBe(p.unmask(answer));
  });

  it('passes text without "<" through unchanged and at once', () => {
    const { p } = setup();
    const unmasker = p.createStreamUnmasker();
    expect(unmasker.push('plain text, no tags')).toBe('plain text, no tags');
    expect(unmasker.push('a < b')).toBe('a < b');
    expect(unmasker.flush()).toBe('');
    expect(unmasker.flush()).toBe('');
  });

  it('restores JSON-escaped values in tool call argument deltas split anywhere', () => {
    const p = new Pseudonymizer();
    const masked = p.mask(`key:\n${fakeSecrets.pem}\nmail alice@example.com`, ALL);
    const [secret, email] = masked.match(/<[A-Z]+_\d+>/g)!;
    const args = `{"key":"${secret}","to":"${email}"}`;
    for (let i = 0; i <= args.length; i++) {
      const restored = drain(p.createStreamUnmasker({ json: true }), [args.slice(0, i), args.slice(i)]);
      expect(JSON.parse(restored)).toEqual({ key: fakeSecrets.pem, to: 'alice@example.com' });
    }
  });
});

describe('StreamEventUnmasker', () => {
  it('restores text and tool call deltas, releasing held tails before other events and finish', () => {
    const p = new Pseudonymizer();
    const masked = p.mask('alice@example.com', ['email']);
    const events: StreamEvent[] = [
      { type: 'start', id: 's', model: 'm', created: 0 },
      { type: 'text', text: `Hello ${masked.slice(0, 3)}` },
      { type: 'text', text: `${masked.slice(3)}! <EMA` },
      { type: 'tool_call_start', index: 0, id: 't', name: 'send' },
      { type: 'tool_call_delta', index: 0, arguments: `{"to":"${masked.slice(0, 5)}` },
      { type: 'tool_call_delta', index: 0, arguments: `${masked.slice(5)}"}` },
      { type: 'tool_call_delta', index: 0, arguments: ' <EMAIL_' },
      { type: 'finish', reason: 'tool_calls' },
    ];
    const unmasker = new StreamEventUnmasker(p);
    const out = events.flatMap((e) => unmasker.push(e)).concat(unmasker.end());
    expect(out.map((e) => e.type)).toEqual([
      'start', 'text', 'text', 'text', 'tool_call_start',
      'tool_call_delta', 'tool_call_delta', 'tool_call_delta', 'tool_call_delta', 'finish',
    ]);
    // The held '<EMA' comes out before the tool call starts; the held '<EMAIL_' before finish.
    expect(out[3]).toEqual({ type: 'text', text: '<EMA' });
    expect(out[8]).toEqual({ type: 'tool_call_delta', index: 0, arguments: '<EMAIL_' });
    const text = out.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('');
    const args = out.flatMap((e) => (e.type === 'tool_call_delta' ? [e.arguments] : [])).join('');
    expect(text).toBe('Hello alice@example.com! <EMA');
    expect(args).toBe('{"to":"alice@example.com"} <EMAIL_');
    expect(out.at(-1)!.type).toBe('finish');
  });

  it('releases everything on end() when a stream stops without finish', () => {
    const p = new Pseudonymizer();
    p.mask('alice@example.com', ['email']);
    const unmasker = new StreamEventUnmasker(p);
    expect(unmasker.push({ type: 'text', text: 'cut <EMAIL' })).toEqual([{ type: 'text', text: 'cut ' }]);
    expect(unmasker.end()).toEqual([{ type: 'text', text: '<EMAIL' }]);
    expect(unmasker.end()).toEqual([]);
  });
});
