/**
 * Streaming guardrail: runs the response policy on a streamed answer, never
 * holding more than a few window lengths of text. Two modes, chosen per caller
 * by the policy (`responseHoldChars` in the caller decision):
 *
 * Hold (holdChars > 0, the default for callers whose answers are judged): text
 * reaches the client only after it was judged. Deltas are held until a sentence
 * ends (. ! ? or a line break, followed by whitespace), then the sentence is
 * judged together with the text before it (the last `windowChars` characters) and
 * released, or, on a violation, withheld: the caller ends the stream with the
 * wire's error event, and no part of the offending sentence has been sent. A
 * sentence longer than `holdChars` is judged and released except its last
 * `keepChars` characters, which stay held, so a phrase of up to `keepChars`
 * characters is never half-sent. Cost: the first token waits for the first
 * sentence, and each sentence for the next delta.
 *
 * Pass-through (holdChars = 0): every delta is forwarded at once, judged with the
 * start of its sentence; the window is also judged every `everyChars` new
 * characters and at sentence ends. A violation is caught on the delta that
 * completes it, but the earlier part of that sentence has already been sent.
 *
 * Every window the policy sees is normalized (normalize.ts) into
 * `response.normalized`. A window that does not start at the beginning of the
 * answer is prefixed with "… ", so patterns anchored at the start do not fire on a cut.
 */
import type { ResponseDecision } from './decision.js';
import type { PolicyEngine } from './engine.js';
import type { PolicyPrincipal, PolicyToolCall, ResponsePolicyInput } from './input.js';
import { normalizeText } from './normalize.js';

export interface StreamGuardOptions {
  /** Hold text until judged, up to this many characters of an unfinished sentence; 0 forwards at once. Default 0. */
  holdChars?: number;
  /** Of a sentence longer than holdChars, keep this tail held. Default 240 (min(240, holdChars/2)). */
  keepChars?: number;
  /** Characters the policy sees per evaluation (more when a held sentence is longer). Default 512. */
  windowChars?: number;
  /** Pass-through: evaluate at least every this many new characters. Default 192. */
  everyChars?: number;
  /** Pass-through: at a sentence end, evaluate when at least this many characters are new. Default 24. */
  minChars?: number;
}

/** What to do after a delta: send `release` (possibly ''), or end the stream with `blocked`. */
export type GuardStep = { release: string; blocked?: undefined } | { release: ''; blocked: ResponseDecision };

const SENTENCE_END = /[.!?\n]/;
const CUT_MARK = '… ';
const NONE: GuardStep = { release: '' };

export class StreamGuard {
  private readonly holdChars: number;
  private readonly keepChars: number;
  private readonly windowChars: number;
  private readonly everyChars: number;
  private readonly minChars: number;
  private readonly input: ResponsePolicyInput;
  /** Hold mode: text received, not yet sent. */
  private held = '';
  /** The last windowChars characters already judged (and, in hold mode, sent): the context of the next window. */
  private seen = '';
  /** Whether text before `seen` was dropped (the window does not start at the answer's start). */
  private cut = false;
  private pending = 0;
  private blocked: ResponseDecision | undefined;
  /** How many times the policy ran (for metrics and tests). */
  evaluations = 0;

  /** `engine` should be the one that decided the request, so one revision judges both. */
  constructor(
    private readonly engine: PolicyEngine,
    principal: PolicyPrincipal,
    model: string,
    options: StreamGuardOptions = {},
  ) {
    this.holdChars = Math.max(0, options.holdChars ?? 0);
    this.keepChars = Math.min(options.keepChars ?? 240, Math.floor(this.holdChars / 2));
    this.windowChars = options.windowChars ?? 512;
    this.everyChars = Math.min(options.everyChars ?? 192, this.windowChars);
    this.minChars = options.minChars ?? 24;
    this.input = { principal, request: { model }, response: { text: '', normalized: '', tool_calls: [] }, final: false };
  }

  /** The first blocking decision, once there is one. */
  get violation(): ResponseDecision | undefined {
    return this.blocked;
  }

  /** Text held back, not yet judged or sent (hold mode). */
  get holding(): number {
    return this.held.length;
  }

  /**
   * Adds a text delta. Returns the text that may be sent now, or the blocking
   * decision. Throws GatehouseError('policy_error') when the policy fails (fail closed).
   */
  push(delta: string): GuardStep {
    if (this.blocked !== undefined) return { release: '', blocked: this.blocked };
    if (this.holdChars > 0) return this.hold(delta);
    if (delta.length > this.everyChars) return this.passInSteps(delta);
    return this.pass(delta);
  }

  /** At a boundary that is not text (a tool call starts): judges and releases everything held. */
  flush(): GuardStep {
    if (this.blocked !== undefined) return { release: '', blocked: this.blocked };
    if (this.held === '') return NONE;
    return this.judgeAndRelease(this.held.length, false, undefined);
  }

  /**
   * The final decision at the end of the stream, over the last window and the
   * assembled tool calls (`final: true`), with the text still held. Returns the
   * earlier violation if any.
   */
  finish(toolCalls: PolicyToolCall[] = []): { release: string; decision: ResponseDecision } {
    if (this.blocked !== undefined) return { release: '', decision: this.blocked };
    const held = this.held;
    const decision = this.judge(held, true, toolCalls);
    if (decision.action === 'block') {
      this.blocked = decision;
      return { release: '', decision };
    }
    this.released(held);
    return { release: held, decision };
  }

  // ---- hold mode ----

  private hold(delta: string): GuardStep {
    this.held += delta;
    let out = '';
    // Release through the last finished sentence: a terminator followed by whitespace we have already seen.
    let end = -1;
    for (let i = this.held.length - 2; i >= 0; i--) {
      if (SENTENCE_END.test(this.held[i]!) && /\s/.test(this.held[i + 1]!)) {
        end = i + 1;
        break;
      }
    }
    if (end > 0) {
      const step = this.judgeAndRelease(end, false, undefined);
      if (step.blocked) return step;
      out += step.release;
    }
    while (this.held.length > this.holdChars) {
      const step = this.judgeAndRelease(this.held.length - this.keepChars, false, undefined, this.held.length);
      if (step.blocked) return step;
      out += step.release;
    }
    return { release: out };
  }

  /** Judges the first `judged` (default `length`) held characters with their context, and releases the first `length`. */
  private judgeAndRelease(length: number, final: boolean, toolCalls: PolicyToolCall[] | undefined, judged = length): GuardStep {
    const decision = this.judge(this.held.slice(0, judged), final, toolCalls);
    if (decision.action === 'block') {
      this.blocked = decision;
      return { release: '', blocked: decision };
    }
    const release = this.held.slice(0, length);
    this.held = this.held.slice(length);
    this.released(release);
    return { release };
  }

  /** Judges `text` after the context already seen. */
  private judge(text: string, final: boolean, toolCalls: PolicyToolCall[] | undefined): ResponseDecision {
    const room = Math.max(0, this.windowChars - text.length);
    const context = room >= this.seen.length ? this.seen : this.seen.slice(this.seen.length - room);
    const cut = this.cut || context.length < this.seen.length;
    return this.evaluate((cut ? CUT_MARK : '') + context + text, final, toolCalls);
  }

  private released(text: string): void {
    this.seen += text;
    if (this.seen.length > this.windowChars) {
      this.seen = this.seen.slice(-this.windowChars);
      this.cut = true;
    }
  }

  // ---- pass-through mode ----

  private pass(delta: string): GuardStep {
    this.seen += delta;
    this.pending += delta.length;
    if (this.seen.length > 2 * this.windowChars) {
      this.seen = this.seen.slice(-this.windowChars);
      this.cut = true;
    }
    const due = this.pending >= this.everyChars || (this.pending >= this.minChars && SENTENCE_END.test(delta));
    const decision = due ? this.evaluateWindow() : this.evaluateSentence(delta.length);
    if (decision.action === 'block') {
      this.blocked = decision;
      return { release: '', blocked: decision };
    }
    return { release: delta };
  }

  /** A delta longer than everyChars is judged in steps, so no part of it escapes every window. */
  private passInSteps(delta: string): GuardStep {
    for (let start = 0; start < delta.length; start += this.everyChars) {
      const step = this.pass(delta.slice(start, start + this.everyChars));
      if (step.blocked) return step;
    }
    return { release: delta };
  }

  /** The latest delta with the part of its sentence that came before it (at most windowChars back). */
  private evaluateSentence(deltaLength: number): ResponseDecision {
    const text = this.seen;
    const floor = Math.max(0, text.length - this.windowChars);
    let start = text.length - deltaLength;
    while (start > floor && !SENTENCE_END.test(text[start - 1]!)) start--;
    const cut = start > 0 && !SENTENCE_END.test(text[start - 1]!);
    const sentence = text.slice(start).trimStart();
    return this.evaluate(cut ? CUT_MARK + sentence : sentence, false, undefined);
  }

  private evaluateWindow(): ResponseDecision {
    const long = this.seen.length > this.windowChars;
    const window = long ? this.seen.slice(-this.windowChars) : this.seen;
    this.pending = 0;
    return this.evaluate(this.cut || long ? CUT_MARK + window : window, false, undefined);
  }

  private evaluate(text: string, final: boolean, toolCalls: PolicyToolCall[] | undefined): ResponseDecision {
    this.input.response.text = text;
    this.input.response.normalized = normalizeText(text);
    if (toolCalls !== undefined) this.input.response.tool_calls = toolCalls;
    this.input.final = final;
    this.evaluations++;
    return this.engine.evaluateResponse(this.input);
  }
}
