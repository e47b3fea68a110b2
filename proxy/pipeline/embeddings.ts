/** `POST /v1/embeddings`: admit, route with failover, answer. */
import { GatehouseError } from '../errors.js';
import { UpstreamFailure } from '../providers/types.js';
import { withFailover } from '../routing/failover.js';
import type { EmbeddingsWire } from '../wire/types.js';
import { authorizeModel, identify } from './admit.js';
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { enforceEmbeddings } from './enforce.js';
import { failRequest, finishRequest } from './finish.js';
import type { ResponseSink } from './sink.js';
import { estimateEmbeddingTokens } from './usageEstimate.js';

export async function handleEmbeddings(ctx: RequestContext, deps: PipelineDeps, wire: EmbeddingsWire, body: () => Promise<unknown>, sink: ResponseSink): Promise<void> {
  try {
    const identity = await identify(ctx, deps);
    const decoded = wire.decodeEmbeddings(await body());
    ctx.embeddings = decoded;
    const allowed = authorizeModel(ctx, deps, identity, decoded.model, 'embeddings');
    const { request, route } = await enforceEmbeddings(ctx, deps, decoded, allowed);
    ctx.embeddings = request;
    const { routing } = deps.config;
    const { value: response, target } = await withFailover(
      route,
      { maxAttempts: routing.maxAttempts, maxRetryWaitMs: routing.maxRetryWaitMs, signal: ctx.signal, attempts: ctx.attempts },
      (t) => {
        if (!t.provider.embed) throw new UpstreamFailure('client_error', `provider ${t.provider.name} has no embeddings API`, { upstreamStatus: 400 });
        return t.provider.embed(request, t.model, { signal: ctx.signal, timeoutMs: routing.attemptTimeoutMs });
      },
    );
    ctx.target = target;
    ctx.responseModel = response.model;
    ctx.usageEstimated = response.usage === undefined;
    response.usage ??= { inputTokens: await estimateEmbeddingTokens(request.input) };
    ctx.usage = { inputTokens: response.usage.inputTokens, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0 };
    ctx.cost = deps.prices.costOf([target.model, response.model], ctx.usage);
    if (response.vectors.length !== request.input.length) throw new GatehouseError('upstream_error', 'upstream returned a different number of embeddings than inputs');
    const payload = JSON.stringify(wire.encodeEmbeddings(response, request));
    ctx.status = 200;
    ctx.outcome = 'ok';
    await finishRequest(ctx, deps);
    sink.send(200, { ...ctx.responseHeaders, 'content-type': 'application/json' }, payload);
  } catch (error) {
    await failRequest(ctx, deps, sink, error);
  }
}
