/**
 * A chat request, from decoded body to answer: admit, route with failover, then
 * answer whole or relay the stream. Works the same for every client wire.
 */
import { textOf, type ChatRequest, type ChatResponse, type StreamEvent, type Usage } from '../canonical.js';
import { withFailover } from '../routing/failover.js';
import type { Route } from '../routing/routes.js';
import { authorizeModel, identify } from './admit.js';
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { enforceRequest } from './enforce.js';
import { failRequest, finishRequest } from './finish.js';
import { guardResponse } from './guardResponse.js';
import { relayStream, type OpenStream } from './relay.js';
import type { ResponseSink } from './sink.js';
import { estimateChatUsage } from './usageEstimate.js';
import { renderPrompt } from '../prompts/promptStage.js';

export async function handleChat(ctx: RequestContext, deps: PipelineDeps, body: () => Promise<unknown>, sink: ResponseSink): Promise<void> {
  try {
    const identity = await identify(ctx, deps);
    const request = renderPrompt(ctx, deps, ctx.wire.decodeChat(await body()));
    ctx.chat = request;
    const allowed = authorizeModel(ctx, deps, identity, request.model, 'chat');
    const { request: upstream, route } = await enforceRequest(ctx, deps, request, allowed);
    // From here on the request is the one sent upstream: redacted, so spans never hold raw PII.
    ctx.chat = upstream;
    if (upstream.stream) await streamChat(ctx, deps, route, upstream, sink);
    else await completeChat(ctx, deps, route, upstream, sink);
  } catch (error) {
    await failRequest(ctx, deps, sink, error);
  }
}

async function completeChat(ctx: RequestContext, deps: PipelineDeps, route: Route, request: ChatRequest, sink: ResponseSink): Promise<void> {
  const { routing } = deps.config;
  const { value: response, target } = await withFailover(
    route,
    { maxAttempts: routing.maxAttempts, maxRetryWaitMs: routing.maxRetryWaitMs, signal: ctx.signal, attempts: ctx.attempts },
    (t) => t.provider.chat(request, t.model, { signal: ctx.signal, timeoutMs: routing.attemptTimeoutMs }),
  );
  ctx.target = target;
  ctx.outcome = 'ok';
  // A 200 without usage is an answer, never a reason to retry (and pay again): its tokens are counted here.
  ctx.usageEstimated = response.usage === undefined;
  const usage = response.usage ?? await estimateChatUsage(request, { text: textOf(response.content), toolCalls: response.toolCalls });
  response.usage = usage;
  const { answer, recorded } = guardResponse(ctx, response);
  recordResponse(ctx, deps, response, usage, recorded);
  const body = JSON.stringify(ctx.wire.encodeChat(answer));
  ctx.status = 200;
  await finishRequest(ctx, deps);
  sink.send(200, { ...ctx.responseHeaders, 'content-type': 'application/json' }, body);
}

/**
 * Usage and cost come from what the provider produced; the recorded answer is what
 * the client got, with pseudonymized values still masked (raw PII never reaches a span).
 */
function recordResponse(ctx: RequestContext, deps: PipelineDeps, response: ChatResponse, usage: Usage, answer: ChatResponse): void {
  ctx.responseId = response.id;
  ctx.responseModel = response.model;
  ctx.finishReason = answer.finishReason;
  ctx.toolCalls = answer.toolCalls;
  ctx.usage = usage;
  ctx.cost = deps.prices.costOf([ctx.target?.model, response.model], usage);
  if (deps.emit.captureContent) ctx.outputText = textOf(answer.content);
}

async function streamChat(ctx: RequestContext, deps: PipelineDeps, route: Route, request: ChatRequest, sink: ResponseSink): Promise<void> {
  const { routing } = deps.config;
  // The first event is awaited inside the attempt: until it arrives nothing has
  // reached the client, so a failure up to then can still fail over.
  const { value: open, target, record } = await withFailover(
    route,
    { maxAttempts: routing.maxAttempts, maxRetryWaitMs: routing.maxRetryWaitMs, signal: ctx.signal, attempts: ctx.attempts },
    async (t): Promise<OpenStream> => {
      const events = await t.provider.chatStream(request, t.model, { signal: ctx.signal, timeoutMs: routing.attemptTimeoutMs });
      const iterator = events[Symbol.asyncIterator]();
      let first: IteratorResult<StreamEvent>;
      try {
        first = await iterator.next();
      } catch (error) {
        await iterator.return?.();
        throw error;
      }
      return { iterator, first };
    },
  );
  ctx.target = target;
  await relayStream(ctx, deps, request, open, record, sink);
}
