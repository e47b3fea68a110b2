/** `GET /v1/models`: the aliases the caller's key may use, in the caller's wire. */
import { admitAgent } from '../agents/admitAgent.js';
import { KeyRing } from '../identity/keyRing.js';
import type { ModelInfo } from '../wire/types.js';
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import type { ResponseSink } from './sink.js';
import { failRequest } from './finish.js';

export async function handleModels(ctx: RequestContext, deps: PipelineDeps, sink: ResponseSink): Promise<void> {
  try {
    const { key, principal } = deps.keys.identify(ctx.headers);
    ctx.principal = principal;
    // An agent that may not act may not list models either.
    await admitAgent(ctx, deps, key);
    const created = Math.floor(deps.startedAt / 1000);
    const models: ModelInfo[] = deps.routes
      .aliases()
      .filter((alias) => KeyRing.allows(key, alias))
      .map((id) => ({ id, created, ownedBy: 'gatehouse' }));
    sink.send(200, { ...ctx.responseHeaders, 'content-type': 'application/json' }, JSON.stringify(ctx.wire.renderModels(models)));
    // Listing models is not a model call: its span is not an audit record.
    ctx.span.end();
  } catch (error) {
    await failRequest(ctx, deps, sink, error);
  }
}
