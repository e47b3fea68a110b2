/**
 * Relays an upstream stream to the client in its own wire, event by event, with
 * no buffering. Tallies usage as it goes, so a stream that is aborted or cut is
 * still costed for the tokens produced. A failure after the first byte ends the
 * stream with the wire's error event.
 */
import type { ChatRequest, StreamEvent, ToolCall, Usage } from '../canonical.js';
import { GatehouseError } from '../errors.js';
import { UpstreamFailure } from '../providers/types.js';
import type { AttemptRecord } from '../routing/failover.js';
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { finishRequest } from './finish.js';
import { StreamCheck } from './guardResponse.js';
import type { ResponseSink } from './sink.js';
import { estimateChatUsage } from './usageEstimate.js';

export interface OpenStream {
  iterator: AsyncIterator<StreamEvent>;
  first: IteratorResult<StreamEvent>;
}

export async function relayStream(ctx: RequestContext, deps: PipelineDeps, request: ChatRequest, open: OpenStream, record: AttemptRecord, sink: ResponseSink): Promise<void> {
  const encoder = ctx.wire.streamEncoder(request);
  const tally = new StreamTally();
  const check = new StreamCheck(ctx, ctx.target?.model ?? request.model);
  const { iterator } = open;
  let item = open.first;
  let failure: GatehouseError | undefined;
  sink.startStream({ ...ctx.responseHeaders, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  try {
    while (!item.done) {
      const event = item.value;
      tally.observe(event);
      if (check.active) {
        for (const checked of check.push(event)) await send(ctx, sink, encoder.event(checked), checked);
      } else {
        await send(ctx, sink, encoder.event(event), event);
      }
      if (ctx.signal.aborted) throw new UpstreamFailure('cancelled', 'client disconnected');
      item = await iterator.next();
    }
    for (const held of check.end()) await send(ctx, sink, encoder.event(held), held);
    if (tally.reportedUsage === undefined) {
      // The provider reported none: the client gets the gateway's count, flagged estimated in the record.
      const counted: StreamEvent = { type: 'usage', usage: await tally.countedUsage(request) };
      tally.observe(counted);
      tally.estimated = true;
      await send(ctx, sink, encoder.event(counted), counted);
    }
  } catch (error) {
    failure = ctx.signal.aborted ? new GatehouseError('cancelled', 'client disconnected') : streamFailure(error);
    await iterator.return?.().catch(() => undefined);
  }
  record.endTime = Date.now();
  const blocked = failure?.code === 'policy_denied';
  // The response policy stopping (or failing on) a stream is the gateway's doing: the upstream attempt was fine.
  const byPolicy = blocked || failure?.code === 'policy_error';
  if (failure && failure.code !== 'cancelled' && !byPolicy) {
    record.outcome = 'failed';
    record.reason = 'stream_cut';
  }
  ctx.responseId = tally.id;
  ctx.responseModel = tally.model;
  // A stream the response policy stopped ended on a content filter, whatever the upstream was about to say.
  ctx.finishReason = blocked ? 'content_filter' : (tally.finishReason ?? (failure ? 'error' : undefined));
  ctx.toolCalls = tally.toolCalls();
  // Counted when the provider reported none (it did not send it, or the stream was aborted or cut).
  const usage = tally.reportedUsage ?? await tally.countedUsage(request);
  ctx.usage = usage;
  ctx.usageEstimated = tally.estimated || tally.reportedUsage === undefined;
  ctx.cost = deps.prices.costOf([ctx.target?.model, tally.model], usage);
  if (deps.emit.captureContent) ctx.outputText = tally.text;
  ctx.status = 200;
  ctx.outcome = !failure ? 'ok' : failure.code === 'cancelled' ? 'cancelled' : blocked ? 'blocked' : 'error';
  if (failure) ctx.error = failure;
  await finishRequest(ctx, deps);
  if (ctx.signal.aborted) return sink.end();
  sink.end(failure ? encoder.error(failure) : encoder.end());
}

async function send(ctx: RequestContext, sink: ResponseSink, out: string, event: StreamEvent): Promise<void> {
  if (!out) return;
  if (ctx.firstTokenMs === undefined && (event.type === 'text' || event.type === 'tool_call_start')) ctx.firstTokenMs = performance.now() - ctx.startMark;
  await sink.write(out);
}

function streamFailure(error: unknown): GatehouseError {
  if (error instanceof UpstreamFailure) {
    return new GatehouseError('upstream_error', `upstream stream failed after the response started (${error.reason})`, { cause: error });
  }
  if (error instanceof GatehouseError) return error;
  return new GatehouseError('upstream_error', 'upstream stream failed after the response started', { cause: error });
}

/** What a stream produced so far. */
class StreamTally {
  id: string | undefined;
  model: string | undefined;
  text = '';
  finishReason: StreamEvent extends infer E ? (E extends { type: 'finish'; reason: infer R } ? R : never) | undefined : never = undefined;
  /** The usage was counted by the gateway (the provider sent none). */
  estimated = false;
  private inputTokens: number | undefined;
  private reported: Usage | undefined;
  private readonly calls: ToolCall[] = [];

  observe(event: StreamEvent): void {
    switch (event.type) {
      case 'start':
        this.id = event.id;
        this.model = event.model;
        this.inputTokens = event.inputTokens;
        break;
      case 'text':
        this.text += event.text;
        break;
      case 'tool_call_start':
        this.calls[event.index] = { id: event.id, name: event.name, arguments: '' };
        break;
      case 'tool_call_delta': {
        const call = this.calls[event.index];
        if (call) call.arguments += event.arguments;
        break;
      }
      case 'finish':
        this.finishReason = event.reason;
        break;
      case 'usage':
        this.reported = event.usage;
        break;
    }
  }

  toolCalls(): ToolCall[] {
    return this.calls.filter(Boolean);
  }

  /** The usage the provider reported, if it did. */
  get reportedUsage(): Usage | undefined {
    return this.reported;
  }

  /** Usage counted from the request and what was produced, for a stream whose provider reported none. */
  countedUsage(request: ChatRequest): Promise<Usage> {
    return estimateChatUsage(request, { text: this.text, toolCalls: this.toolCalls() }, this.inputTokens);
  }
}
