/**
 * The packs' corpus (policies/testdata/corpus.yaml) end to end, through the
 * real gateway and the official SDKs, in both wires:
 *  - injection: every must-block request is refused 403 (policy code
 *    prompt_injection) before any upstream call; every must-allow one is served;
 *  - finance: every must-block answer is replaced when whole, and cut when
 *    streamed without the client receiving any part of what made it blocked
 *    (asserted on the bytes received: the unsent rest, judged alone, is still
 *    blocked); every must-allow answer arrives whole, streamed or not.
 * Streams arrive in 3-character deltas, so sentences are split mid-word.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyMessage } from '../../proxy/policy/input.js';
import { normalizeText } from '../../proxy/policy/normalize.js';
import { anthropicClient, openaiClient, spanOf, type TestGateway } from '../support/gateway.js';
import { createPolicyFixture, REPO_ROOT, tenantSettings, type PolicyFixture } from '../support/policyFixture.js';
import { startEnforcedGateway } from './enforcedGateway.js';
import { startScriptedUpstream, type ScriptedUpstream } from './scriptedUpstream.js';

interface Corpus {
  finance: { block: Array<{ text: string }>; allow: Array<{ text: string }> };
  injection: { block: Array<{ messages: PolicyMessage[] }>; allow: Array<{ messages: PolicyMessage[] }> };
}
const corpus = (JSON.parse(readFileSync(join(REPO_ROOT, 'policies', 'testdata', 'corpus.json'), 'utf8')) as { corpus: Corpus }).corpus;

/** The upstream answers request "answer #i of list L" with that corpus text, in 3-character deltas. */
const MARK = /answer #(\d+) of (block|allow)/;

function chunks(text: string, size = 3): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

let fixture: PolicyFixture;
let upstream: ScriptedUpstream;
let gw: TestGateway;

beforeAll(async () => {
  fixture = await createPolicyFixture({
    tenants: { wealth: tenantSettings({ packs: { finance: { investment_recommendation: true, promissory_statement: true } } }) },
  });
  upstream = await startScriptedUpstream((body) => {
    const messages = body.messages as Array<{ content: unknown }>;
    const last = JSON.stringify(messages.at(-1)?.content ?? '');
    const match = MARK.exec(last);
    if (!match) return chunks('Bond yields rose this quarter.');
    return chunks(corpus.finance[match[2] as 'block' | 'allow'][Number(match[1])]!.text);
  });
  gw = await startEnforcedGateway({ fixture, upstream, keys: [{ id: 'advisor', tenant: 'wealth', team: 'advisory', user: 'advisor-7' }] });
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
  await fixture?.cleanup();
});

/** The OpenAI wire's messages for a corpus entry. */
function openaiMessages(messages: PolicyMessage[]): Array<{ role: 'system' | 'user' | 'assistant'; content: string }> {
  return messages.map((m) => ({ role: m.role === 'tool' ? 'user' : m.role, content: m.text })) as never;
}

/** The Anthropic wire's body: system turns in `system`, the rest as messages (merged so roles alternate, starting with user). */
function anthropicBody(messages: PolicyMessage[]): { system?: string; messages: Array<{ role: 'user' | 'assistant'; content: string }> } {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.text).join('\n');
  const turns: Array<{ role: 'user' | 'assistant'; content: string }> = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    const last = turns.at(-1);
    if (last?.role === role) last.content += `\n${m.text}`;
    else turns.push({ role, content: m.text });
  }
  if (turns[0]?.role !== 'user') turns.unshift({ role: 'user', content: 'Hello.' });
  return system ? { system, messages: turns } : { messages: turns };
}

describe('injection corpus through both wires', () => {
  it('refuses every must-block request before any upstream call', async () => {
    const before = upstream.requests.length;
    for (const [i, entry] of corpus.injection.block.entries()) {
      const openai = await openaiClient(gw, 'advisor').chat.completions.create({ model: 'gpt-4o-mini', messages: openaiMessages(entry.messages) }).withResponse().catch((e: unknown) => e);
      expect(openai, `openai #${i}: ${entry.messages[0]!.text}`).toMatchObject({ status: 403, code: 'policy_denied' });
      const requestId = (openai as { headers: Headers }).headers.get('x-request-id');
      const span = await spanOf(gw, requestId);
      expect(span.attributes['gatehouse.policy.code'], `#${i}`).toBe('prompt_injection');
      const anthropic = await anthropicClient(gw, 'advisor').messages.create({ model: 'gpt-4o-mini', max_tokens: 50, ...anthropicBody(entry.messages) }).catch((e: unknown) => e);
      expect(anthropic, `anthropic #${i}: ${entry.messages[0]!.text}`).toMatchObject({ status: 403, errorCode: 'policy_denied' });
    }
    expect(upstream.requests.length).toBe(before);
  }, 60_000);

  it('serves every must-allow request', async () => {
    for (const [i, entry] of corpus.injection.allow.entries()) {
      const openai = await openaiClient(gw, 'advisor').chat.completions.create({ model: 'gpt-4o-mini', messages: openaiMessages(entry.messages) });
      expect(openai.choices[0]?.message.content, `openai #${i}`).toBeTruthy();
      const anthropic = await anthropicClient(gw, 'advisor').messages.create({ model: 'gpt-4o-mini', max_tokens: 50, ...anthropicBody(entry.messages) });
      expect(anthropic.content.length, `anthropic #${i}`).toBeGreaterThan(0);
    }
  }, 60_000);
});

describe('finance corpus through both wires, whole and streamed', () => {
  const ask = (list: 'block' | 'allow', i: number) => [{ role: 'user' as const, content: `Please give me answer #${i} of ${list}.` }];

  /** The text a streamed answer delivered, and whether it ended with the wire's error event. */
  async function streamOpenAI(list: 'block' | 'allow', i: number): Promise<{ received: string; cut: boolean }> {
    let received = '';
    try {
      const stream = await openaiClient(gw, 'advisor').chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: ask(list, i) });
      for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
      return { received, cut: false };
    } catch {
      return { received, cut: true };
    }
  }

  async function streamAnthropic(list: 'block' | 'allow', i: number): Promise<{ received: string; cut: boolean }> {
    let received = '';
    const stream = anthropicClient(gw, 'advisor').messages.stream({ model: 'gpt-4o-mini', max_tokens: 200, messages: ask(list, i) });
    stream.on('text', (delta) => { received += delta; });
    try {
      await stream.finalMessage();
      return { received, cut: false };
    } catch {
      return { received, cut: true };
    }
  }

  /** Nothing that made the answer blocked was sent: the unsent rest, judged alone, is still blocked. */
  function expectNothingOffendingSent(text: string, received: string, label: string): void {
    expect(text.startsWith(received), `${label}: received text is a prefix of the answer`).toBe(true);
    const rest = text.slice(received.length);
    const decision = gw.enforcement.policies!.current!.evaluateResponse({
      principal: { tenant: 'wealth', team: 'advisory', user: 'advisor-7', key_id: 'advisor' },
      request: { model: 'gpt-4o-mini' },
      response: { text: rest, normalized: normalizeText(rest), tool_calls: [] },
      final: true,
    });
    expect(decision.action, `${label}: the offending part was withheld (received ${JSON.stringify(received)})`).toBe('block');
  }

  it('replaces every must-block answer when whole, in both wires', async () => {
    for (const [i] of corpus.finance.block.entries()) {
      const openai = await openaiClient(gw, 'advisor').chat.completions.create({ model: 'gpt-4o-mini', messages: ask('block', i) });
      expect(openai.choices[0]?.finish_reason, `openai #${i}: ${corpus.finance.block[i]!.text}`).toBe('content_filter');
      const anthropic = await anthropicClient(gw, 'advisor').messages.create({ model: 'gpt-4o-mini', max_tokens: 200, messages: ask('block', i) });
      expect(anthropic.stop_reason, `anthropic #${i}`).toBe('refusal');
    }
  }, 60_000);

  it('cuts every must-block answer when streamed, before any part of the offending sentence reaches the client', async () => {
    for (const [i, entry] of corpus.finance.block.entries()) {
      const openai = await streamOpenAI('block', i);
      expect(openai.cut, `openai #${i}: ${entry.text}`).toBe(true);
      expectNothingOffendingSent(entry.text, openai.received, `openai #${i}`);
      const anthropic = await streamAnthropic('block', i);
      expect(anthropic.cut, `anthropic #${i}: ${entry.text}`).toBe(true);
      expectNothingOffendingSent(entry.text, anthropic.received, `anthropic #${i}`);
    }
  }, 120_000);

  it('delivers every must-allow answer whole, streamed or not, in both wires', async () => {
    for (const [i, entry] of corpus.finance.allow.entries()) {
      const whole = await openaiClient(gw, 'advisor').chat.completions.create({ model: 'gpt-4o-mini', messages: ask('allow', i) });
      expect(whole.choices[0]?.message.content, `openai #${i}`).toBe(entry.text);
      const openai = await streamOpenAI('allow', i);
      expect(openai, `openai stream #${i}`).toEqual({ received: entry.text, cut: false });
      const anthropic = await streamAnthropic('allow', i);
      expect(anthropic, `anthropic stream #${i}`).toEqual({ received: entry.text, cut: false });
    }
  }, 120_000);
});
