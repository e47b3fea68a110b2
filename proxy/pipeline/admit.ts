/**
 * The stages every model call passes before routing: identify the caller, pin the
 * prompt version, resolve the model alias and check the key may use it.
 */
import { admitAgent } from '../agents/admitAgent.js';
import { GatehouseError } from '../errors.js';
import { KeyRing } from '../identity/keyRing.js';
import type { Route } from '../routing/routes.js';
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

/**
 * Identifies the caller and the agent it acts as (agents/admitAgent.ts); runs
 * before the body is decoded, so an unknown key or agent never costs a parse.
 */
export async function identify(ctx: RequestContext, deps: PipelineDeps): Promise<ReturnType<KeyRing['identify']>> {
  // The prompt pinned before the agent is admitted: an agent's refusal still records the prompt it named.
  return admitCaller(ctx, deps, () => pinPrompt(ctx));
}

/**
 * The caller of any request (model calls and MCP alike): refused while the audit
 * spool cannot record, authenticated, tagged, and admitted as its agent.
 */
export async function admitCaller(ctx: RequestContext, deps: PipelineDeps, beforeAgent?: () => void): Promise<ReturnType<KeyRing['identify']>> {
  if (deps.audit && !deps.audit.accepting()) {
    throw new GatehouseError('audit_unavailable', 'the audit spool cannot take records; requests are refused until it can (audit: required)');
  }
  const identity = deps.keys.authenticate(ctx.headers);
  // Attributed from here on: a refusal below is recorded with the key, tenant and team, and the user it claimed.
  ctx.principal = identity.principal;
  ctx.claimedUser = KeyRing.claimedUser(ctx.headers);
  KeyRing.applyOverrides(identity, ctx.headers);
  beforeAgent?.();
  await admitAgent(ctx, deps, identity.key);
  return identity;
}

/** Resolves the alias (404 listing known models) and checks the key allows it (403). */
export function authorizeModel(ctx: RequestContext, deps: PipelineDeps, identity: ReturnType<KeyRing['identify']>, model: string, kind: Route['kind']): Route {
  ctx.requestedModel = model;
  const route = deps.routes.resolve(model, kind);
  ctx.routeTable = route;
  if (!KeyRing.allows(identity.key, model)) {
    throw new GatehouseError('model_not_allowed', `this key may not use model '${model}'`, { param: 'model' });
  }
  return route;
}

/** The prompt id and version the client pinned, recorded on every span and audit record. */
function pinPrompt(ctx: RequestContext): void {
  const id = header(ctx, 'x-gatehouse-prompt-id');
  const version = header(ctx, 'x-gatehouse-prompt-version');
  if (id === undefined && version === undefined) return;
  ctx.prompt = {};
  if (id !== undefined) ctx.prompt.id = id;
  if (version !== undefined) ctx.prompt.version = version;
}

function header(ctx: RequestContext, name: string): string | undefined {
  const value = ctx.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  if (text.length === 0 || text.length > 128) throw new GatehouseError('invalid_request', `${name}: expected 1 to 128 characters`, { param: name });
  return text;
}
