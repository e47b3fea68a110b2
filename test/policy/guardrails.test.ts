import { describe, expect, it } from 'vitest';
import { StreamGuard } from '../../proxy/policy/streamGuard.js';
import { advisor, committedEngine, responseInput } from './policyFixtures.js';

const engine = await committedEngine();

const RECOMMENDATION =
  'Markets were volatile this week as rates moved. Given your situation, I recommend selling your AAPL position before earnings.';
const EDUCATION =
  'Markets were volatile this week as rates moved. Diversification spreads risk across many holdings, and a licensed advisor can help you decide what fits your goals. ';

/** Splits text into chunks of `size`, which cuts words in half. */
function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe('finance guardrail on a complete answer', () => {
  it('blocks a specific investment recommendation with a replacement and a stable code', () => {
    const d = engine.evaluateResponse(responseInput(advisor, 'You should buy 500 shares of X.'));
    expect(d.action).toBe('block');
    expect(d.code).toBe('investment_recommendation');
    expect(d.replacement?.length).toBeGreaterThan(0);
    expect(d.replacement).not.toMatch(/500 shares/);
    expect(d.reasons.length).toBeGreaterThan(0);
  });

  it('blocks a recommendation sent through a tool call', () => {
    const input = responseInput(advisor, '');
    input.response.tool_calls = [{ name: 'send_email', arguments: '{"body":"I recommend selling your AAPL position."}' }];
    expect(engine.evaluateResponse(input).code).toBe('investment_recommendation');
  });

  it('allows education', () => {
    const d = engine.evaluateResponse(responseInput(advisor, EDUCATION));
    expect(d).toEqual({ action: 'allow', reasons: [] });
  });

  it('does not apply to a tenant without the pack', () => {
    const d = engine.evaluateResponse(responseInput({ tenant: 'globex' }, 'You should buy 500 shares of X.'));
    expect(d.action).not.toBe('block');
  });
});

describe('StreamGuard, pass-through (responseHoldChars 0)', () => {
  it.each([1, 3, 7, 16])('blocks a recommendation streamed in %i-character chunks (split mid-word)', (size) => {
    const guard = new StreamGuard(engine, advisor, 'gpt-4o');
    let blockedAt = -1;
    const parts = chunks(RECOMMENDATION, size);
    parts.forEach((part, i) => {
      if (blockedAt < 0 && guard.push(part).blocked !== undefined) blockedAt = i;
    });
    const final = guard.finish().decision;
    expect(final.action).toBe('block');
    expect(final.code).toBe('investment_recommendation');
    expect(guard.violation?.code).toBe('investment_recommendation');
    // found at the sentence end, before the stream finished
    expect(blockedAt).toBeGreaterThanOrEqual(0);
  });

  it('keeps a long benign stream flowing with a bounded number of evaluations', () => {
    const guard = new StreamGuard(engine, advisor, 'gpt-4o');
    const text = EDUCATION.repeat(40);
    for (const part of chunks(text, 5)) expect(guard.push(part)).toEqual({ release: part });
    expect(guard.finish().decision.action).toBe('allow');
  });

  it('finds a recommendation deep in a long stream (not only in the first window)', () => {
    const guard = new StreamGuard(engine, advisor, 'gpt-4o', { windowChars: 256, everyChars: 96 });
    const text = EDUCATION.repeat(20) + 'You should buy 500 shares of NVDA. ' + EDUCATION;
    let blocked = false;
    for (const part of chunks(text, 4)) blocked ||= guard.push(part).blocked !== undefined;
    expect(blocked).toBe(true);
  });

  it('judges a single oversized delta in windows', () => {
    const guard = new StreamGuard(engine, advisor, 'gpt-4o', { windowChars: 256, everyChars: 96 });
    const text = 'You should buy 500 shares of NVDA. ' + EDUCATION.repeat(10);
    expect(guard.push(text).blocked?.code).toBe('investment_recommendation');
  });

  it('checks tool calls at finish', () => {
    const guard = new StreamGuard(engine, advisor, 'gpt-4o');
    guard.push('Sending the note now.');
    const final = guard.finish([{ name: 'send_email', arguments: '{"body":"you should sell 300 shares of ACME"}' }]);
    expect(final.decision.code).toBe('investment_recommendation');
  });
});

describe('StreamGuard, hold (responseHoldChars > 0)', () => {
  /** Streams `text` in `size`-character deltas; returns what was released before a block, and the block. */
  function stream(text: string, size: number, holdChars = 400): { sent: string; blocked: string | undefined } {
    const guard = new StreamGuard(engine, advisor, 'gpt-4o', { holdChars });
    let sent = '';
    for (const part of chunks(text, size)) {
      const step = guard.push(part);
      if (step.blocked) return { sent, blocked: step.blocked.code };
      sent += step.release;
    }
    const final = guard.finish();
    if (final.decision.action === 'block') return { sent, blocked: final.decision.code };
    return { sent: sent + final.release, blocked: undefined };
  }

  it.each([1, 2, 5, 13, 64])('never sends a fragment of the offending sentence (%i-character deltas)', (size) => {
    const intro = 'Markets were volatile this week as rates moved. ';
    const { sent, blocked } = stream(`${intro}NVDA is a strong buy right now. More text follows here.`, size);
    expect(blocked).toBe('investment_recommendation');
    expect(sent).toBe(intro.trimEnd());
  });

  it('sends a benign answer whole, sentence by sentence', () => {
    const text = EDUCATION.repeat(6);
    const { sent, blocked } = stream(text, 7);
    expect(blocked).toBeUndefined();
    expect(sent).toBe(text);
  });

  it('holds at most holdChars of a sentence that never ends, keeping its tail until judged', () => {
    const guard = new StreamGuard(engine, advisor, 'gpt-4o', { holdChars: 120 });
    let sent = 0;
    for (const part of chunks('word '.repeat(200), 10)) {
      sent += guard.push(part).release.length;
      expect(guard.holding).toBeLessThanOrEqual(120);
    }
    expect(sent).toBeGreaterThan(600);
  });
});
