/**
 * A chat request, from decoded body to answer: admit, route with failover, then
 * answer whole or relay the stream. Works the same for every client wire.
 */
import { textOf, type ChatRequest, type ChatResponse, type StreamEvent } from '../canonical.js';
import { withFailover } from '../routing/failover.js';
import type { Route } from '../routing/routes.js';
import { authorizeModel, identify } from './admit.js';
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { failRequest, finishRequest } from './finish.js';
import { relayStream, type OpenStream } from './relay.js';
import type { ResponseSink } from './sink.js';

export async function handleChat(ctx: RequestContext, deps: PipelineDeps, body: () => unknown, sink: ResponseSink): Promise<void> {
  try {
    const identity = identify(ctx, deps);
    const request = ctx.wire.decodeChat(body());
    ctx.chat = request;
    const route = authorizeModel(ctx, deps, identity, request.model, 'chat');
    if (request.stream) await streamChat(ctx, deps, route, request, sink);
    else await completeChat(ctx, deps, route, request, sink);
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
  recordResponse(ctx, deps, response);
  const body = JSON.stringify(ctx.wire.encodeChat(response));
  ctx.status = 200;
  ctx.outcome = 'ok';
  await finishRequest(ctx, deps);
  sink.send(200, { ...ctx.responseHeaders, 'content-type': 'application/json' }, body);
}

function recordResponse(ctx: RequestContext, deps: PipelineDeps, response: ChatResponse): void {
  ctx.responseId = response.id;
  ctx.responseModel = response.model;
  ctx.finishReason = response.finishReason;
  ctx.toolCalls = response.toolCalls;
  ctx.usage = response.usage;
  ctx.usageEstimated = false;
  ctx.cost = deps.prices.costOf([ctx.target?.model, response.model], response.usage);
  if (deps.emit.captureContent) ctx.outputText = textOf(response.content);
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
