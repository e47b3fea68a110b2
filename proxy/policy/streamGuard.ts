/**
 * Streaming guardrail: runs the response policy on a sliding window of a streamed
 * answer, never holding more than a few window lengths of text.
 *
 * The window is the last `windowChars` characters. The policy is evaluated once at
 * least `everyChars` new characters arrived, or at a sentence end (. ! ? newline)
 * once `minChars` new characters arrived, and always at `finish()`. Any phrase up
 * to `windowChars - everyChars` characters long is therefore seen whole by at
 * least one evaluation, however the stream splits it (the defaults allow 320).
 * A window that does not start at the beginning of the answer is prefixed with
 * "…", so patterns anchored at the start of the text do not fire on a cut.
 *
 * With `eachDelta`, every delta is also judged at once, together with the start
 * of the sentence it continues (at most `windowChars`), so a sentence-sized
 * violation is caught on the delta that completes it, before that delta is
 * forwarded: the client never receives the offending phrase whole. This costs one
 * short evaluation per delta; without it, text up to the next evaluation point
 * reaches the client before it is judged.
 *
 * Text already forwarded before a violation is detected has been seen by the
 * client; the caller ends the stream with an error event carrying the decision.
 */
import type { ResponseDecision } from './decision.js';
import type { PolicyEngine } from './engine.js';
import type { PolicyPrincipal, PolicyToolCall, ResponsePolicyInput } from './input.js';

export interface StreamGuardOptions {
  /** Characters the policy sees per evaluation. Default 512. */
  windowChars?: number;
  /** Evaluate at least every this many new characters. Default 192. */
  everyChars?: number;
  /** At a sentence end, evaluate when at least this many characters are new. Default 24. */
  minChars?: number;
  /** Also judge every delta with its sentence so far (see the file comment). Default false. */
  eachDelta?: boolean;
}

const SENTENCE_END = /[.!?\n]/;
const CUT_MARK = '… ';

export class StreamGuard {
  private readonly windowChars: number;
  private readonly everyChars: number;
  private readonly minChars: number;
  private readonly eachDelta: boolean;
  private readonly input: ResponsePolicyInput;
  private text = '';
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
    this.windowChars = options.windowChars ?? 512;
    this.everyChars = Math.min(options.everyChars ?? 192, this.windowChars);
    this.minChars = options.minChars ?? 24;
    this.eachDelta = options.eachDelta ?? false;
    this.input = { principal, request: { model }, response: { text: '', tool_calls: [] }, final: false };
  }

  /** The first blocking decision, once there is one. */
  get violation(): ResponseDecision | undefined {
    return this.blocked;
  }

  /**
   * Adds a text delta. Returns the blocking decision when this delta (or an
   * earlier one) completed a violation, else undefined: forward the delta.
   * Throws GatehouseError('policy_error') when the policy fails (fail closed).
   */
  push(delta: string): ResponseDecision | undefined {
    if (this.blocked !== undefined) return this.blocked;
    if (delta.length > this.everyChars) return this.pushInSteps(delta);
    this.text += delta;
    this.pending += delta.length;
    if (this.text.length > 2 * this.windowChars) {
      this.text = this.text.slice(-this.windowChars);
      this.cut = true;
    }
    const due =
      this.pending >= this.everyChars || (this.pending >= this.minChars && SENTENCE_END.test(delta));
    if (!due && !this.eachDelta) return undefined;
    const decision = due ? this.evaluate(false, undefined) : this.evaluateSentence(delta.length);
    return decision.action === 'block' ? (this.blocked = decision) : undefined;
  }

  /**
   * Judges the latest delta with the part of its sentence that came before it: the
   * text from the last sentence end before the delta (looking back at most
   * windowChars), so the window starts at a real sentence start, or with "…" when
   * the sentence is longer than that.
   */
  private evaluateSentence(deltaLength: number): ResponseDecision {
    const text = this.text;
    const floor = Math.max(0, text.length - this.windowChars);
    let start = text.length - deltaLength;
    while (start > floor && !SENTENCE_END.test(text[start - 1]!)) start--;
    const cut = start > 0 && !SENTENCE_END.test(text[start - 1]!);
    const sentence = text.slice(start).trimStart();
    this.input.response.text = cut ? CUT_MARK + sentence : sentence;
    this.input.final = false;
    this.evaluations++;
    return this.engine.evaluateResponse(this.input);
  }

  /** A delta longer than everyChars is judged in steps, so no part of it escapes every window. */
  private pushInSteps(delta: string): ResponseDecision | undefined {
    for (let start = 0; start < delta.length; start += this.everyChars) {
      const blocked = this.push(delta.slice(start, start + this.everyChars));
      if (blocked !== undefined) return blocked;
    }
    return undefined;
  }

  /**
   * The final decision at the end of the stream, over the last window and the
   * assembled tool calls (`final: true`). Returns the earlier violation if any.
   */
  finish(toolCalls: PolicyToolCall[] = []): ResponseDecision {
    if (this.blocked !== undefined) return this.blocked;
    const decision = this.evaluate(true, toolCalls);
    if (decision.action === 'block') this.blocked = decision;
    return decision;
  }

  private evaluate(final: boolean, toolCalls: PolicyToolCall[] | undefined): ResponseDecision {
    const long = this.text.length > this.windowChars;
    const window = long ? this.text.slice(-this.windowChars) : this.text;
    this.input.response.text = this.cut || long ? CUT_MARK + window : window;
    if (toolCalls !== undefined) this.input.response.tool_calls = toolCalls;
    this.input.final = final;
    this.pending = 0;
    this.evaluations++;
    return this.engine.evaluateResponse(this.input);
  }
}
