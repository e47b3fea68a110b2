/**
 * The response side of policy enforcement. The response policy judges the answer
 * as the provider wrote it (placeholders, not the user's raw values); then
 * pseudonymized values are restored for the client. Streams are judged on a
 * sliding window, never buffered whole.
 */
import { text, textOf, type ChatResponse, type StreamEvent, type ToolCall } from '../canonical.js';
import { GatehouseError } from '../errors.js';
import { redact, StreamEventUnmasker, unmaskChatResponse } from '../pii/index.js';
import type { ResponseDecision } from '../policy/decision.js';
import { responsePolicyInput } from '../policy/input.js';
import { StreamGuard, type GuardStep } from '../policy/streamGuard.js';
import { A } from '../telemetry/attributes.js';
import type { RequestContext } from './context.js';
import { logPolicyError } from './enforce.js';

const DEFAULT_REPLACEMENT = 'This answer was withheld by policy.';

/**
 * Judges a whole answer. `answer` is what the client gets; `recorded` is the same
 * answer with pseudonymized values still masked, for spans and the audit record.
 */
export function guardResponse(ctx: RequestContext, response: ChatResponse): { answer: ChatResponse; recorded: ChatResponse } {
  const enforcement = ctx.enforcement;
  if (!enforcement?.engine) return { answer: response, recorded: response };
  if (!inspectsResponses(ctx)) {
    recordNotInspected(ctx);
    return { answer: enforcement.pseudonymizer ? unmaskChatResponse(response, enforcement.pseudonymizer) : response, recorded: response };
  }
  const engine = enforcement.engine;
  let decision: ResponseDecision;
  try {
    decision = engine.evaluateResponse(responsePolicyInput(enforcement.policyPrincipal, response.model, response));
  } catch (error) {
    logPolicyError(ctx, 'response', engine.revision, error);
    throw error;
  }
  recordResponseDecision(ctx, decision);
  let out = response;
  if (decision.action === 'block') {
    ctx.outcome = 'blocked';
    out = { ...response, content: text(decision.replacement ?? DEFAULT_REPLACEMENT), toolCalls: [], finishReason: 'content_filter' };
  } else if (decision.action === 'redact' && decision.redact?.length) {
    out = { ...response, content: text(redact(textOf(response.content), decision.redact).text) };
  }
  return { answer: enforcement.pseudonymizer ? unmaskChatResponse(out, enforcement.pseudonymizer) : out, recorded: out };
}

/**
 * Per-stream response enforcement: `push` returns the events to send now
 * (placeholders restored), or throws `policy_denied` on the first violation.
 * With the caller's `responseHoldChars` > 0, text is held until it is judged
 * (streamGuard.ts), so no part of an offending sentence is ever sent; held text
 * goes out as one text event per release, before the tool call or finish that
 * follows it.
 */
export class StreamCheck {
  private readonly guard: StreamGuard | undefined;
  private readonly unmasker: StreamEventUnmasker | undefined;
  private readonly calls: ToolCall[] = [];
  private finished = false;

  constructor(private readonly ctx: RequestContext, model: string) {
    const enforcement = ctx.enforcement;
    const holdChars = enforcement?.decision?.responseHoldChars ?? 0;
    this.guard = enforcement?.engine && inspectsResponses(ctx) ? new StreamGuard(enforcement.engine, enforcement.policyPrincipal, model, { holdChars }) : undefined;
    if (enforcement?.engine && !this.guard) recordNotInspected(ctx);
    if (this.guard) ctx.annotations['gatehouse.policy.response_hold_chars'] = holdChars;
    this.unmasker = enforcement?.pseudonymizer ? new StreamEventUnmasker(enforcement.pseudonymizer) : undefined;
  }

  get active(): boolean {
    return this.guard !== undefined || this.unmasker !== undefined;
  }

  push(event: StreamEvent): StreamEvent[] {
    let out: StreamEvent[];
    try {
      out = this.judge(event);
    } catch (error) {
      if (error instanceof GatehouseError && error.code === 'policy_error') logPolicyError(this.ctx, 'response', this.ctx.enforcement?.engine?.revision ?? '', error);
      throw error;
    }
    return this.unmasker ? out.flatMap((e) => this.unmasker!.push(e)) : out;
  }

  /** Runs the response policy on the event; returns what may be sent; throws policy_denied on a violation. */
  private judge(event: StreamEvent): StreamEvent[] {
    const guard = this.guard;
    if (!guard) return [event];
    switch (event.type) {
      case 'text':
        return this.released(guard.push(event.text), []);
      case 'tool_call_start':
        this.calls[event.index] = { id: event.id, name: event.name, arguments: '' };
        return this.released(guard.flush(), [event]);
      case 'tool_call_delta': {
        const call = this.calls[event.index];
        if (call) call.arguments += event.arguments;
        return [event];
      }
      case 'finish':
        return this.finish([event]);
      default:
        return [event];
    }
  }

  private finish(after: StreamEvent[]): StreamEvent[] {
    const guard = this.guard!;
    this.finished = true;
    const final = guard.finish(this.calls.filter(Boolean).map((c) => ({ name: c.name, arguments: c.arguments })));
    recordResponseDecision(this.ctx, final.decision);
    if (final.decision.action === 'block') this.fail(final.decision);
    return final.release ? [{ type: 'text', text: final.release }, ...after] : after;
  }

  private released(step: GuardStep, after: StreamEvent[]): StreamEvent[] {
    if (step.blocked) this.fail(step.blocked);
    return step.release ? [{ type: 'text', text: step.release }, ...after] : after;
  }

  /** Events still held back at the end of the stream: text a stream without `finish` left held, a placeholder split at the very end. */
  end(): StreamEvent[] {
    let out: StreamEvent[] = [];
    if (this.guard && !this.finished && this.guard.holding > 0) out = this.finish([]);
    if (!this.unmasker) return out;
    return [...out.flatMap((e) => this.unmasker!.push(e)), ...this.unmasker.end()];
  }

  private fail(decision: ResponseDecision): never {
    recordResponseDecision(this.ctx, decision);
    this.ctx.outcome = 'blocked';
    const reasons = decision.reasons.join(' ') || 'the answer violates policy';
    throw new GatehouseError('policy_denied', `response blocked by policy${decision.code ? ` (${decision.code})` : ''}: ${reasons}`);
  }
}

/**
 * False when the request policy said no response rule applies to this caller
 * (RequestDecision.inspectResponses): its answers are then passed without
 * evaluating the response policy, which saves a policy evaluation per answer and
 * per streamed delta.
 */
function inspectsResponses(ctx: RequestContext): boolean {
  return ctx.enforcement?.decision?.inspectResponses !== false;
}

function recordNotInspected(ctx: RequestContext): void {
  ctx.annotations[A.responsePolicyDecision] = 'not_inspected';
}

function recordResponseDecision(ctx: RequestContext, decision: ResponseDecision): void {
  const a = ctx.annotations;
  a[A.responsePolicyDecision] = decision.action;
  if (decision.action !== 'allow') {
    if (decision.code !== undefined) a['gatehouse.policy.response_code'] = decision.code;
    if (decision.reasons.length > 0) a['gatehouse.policy.response_reasons'] = decision.reasons;
  }
}
