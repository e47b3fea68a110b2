/**
 * Who sends an MCP request: the virtual key of the HTTP request that carried it
 * (the same Bearer / x-api-key as model calls), its per-request tags, and the
 * agent it acts as: the model calls' admission (pipeline/admit.ts), without the
 * prompt headers, which mean nothing to a tool call.
 */
import type { KeyConfig } from '../config/schema.js';
import { admitCaller } from '../pipeline/admit.js';
import type { RequestContext } from '../pipeline/context.js';
import type { PipelineDeps } from '../pipeline/deps.js';

export async function callerOf(ctx: RequestContext, deps: PipelineDeps): Promise<KeyConfig> {
  return (await admitCaller(ctx, deps)).key;
}
