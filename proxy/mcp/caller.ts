/**
 * Who sends an MCP request: the virtual key of the HTTP request that carried it
 * (the same Bearer / x-api-key as model calls), its per-request tags, and the
 * agent it acts as (agents/admitAgent.ts: registry, status, delegation chain).
 */
import type { KeyConfig } from '../config/schema.js';
import { admitAgent } from '../agents/admitAgent.js';
import { GatehouseError } from '../errors.js';
import { KeyRing } from '../identity/keyRing.js';
import type { RequestContext } from '../pipeline/context.js';
import type { PipelineDeps } from '../pipeline/deps.js';

export async function callerOf(ctx: RequestContext, deps: PipelineDeps): Promise<KeyConfig> {
  // As for model calls: nothing runs that cannot be recorded (audit: required).
  if (deps.audit && !deps.audit.accepting()) {
    throw new GatehouseError('audit_unavailable', 'the audit spool cannot take records; requests are refused until it can (audit: required)');
  }
  const identity = deps.keys.authenticate(ctx.headers);
  ctx.principal = identity.principal;
  ctx.claimedUser = KeyRing.claimedUser(ctx.headers);
  KeyRing.applyOverrides(identity, ctx.headers);
  await admitAgent(ctx, deps, identity.key);
  return identity.key;
}
