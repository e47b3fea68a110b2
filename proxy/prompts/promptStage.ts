/**
 * The pipeline stage for registry prompts (docs/prompts.md): a request that asks
 * for a prompt (body field or headers) gets it resolved (exact version, or a
 * label, default `production`), rendered and applied; the id, version, content
 * hash and label go on the context, so the span, the audit record, the metrics
 * and the policy input all carry them. Requests that ask for none pass untouched.
 */
import type { ChatRequest } from '../canonical.js';
import { GatehouseError } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { promptReferenceFromHeaders } from './reference.js';
import { applyPrompt } from './render.js';

export const DEFAULT_LABEL = 'production';

export function renderPrompt(ctx: RequestContext, deps: PipelineDeps, request: ChatRequest): ChatRequest {
  const reference = request.prompt ?? promptReferenceFromHeaders(ctx.headers);
  if (reference === undefined) return request;
  const registry = deps.prompts;
  if (registry === undefined) throw new GatehouseError('prompt_not_found', 'this gateway has no prompt registry (prompts.dir)');
  const directory = registry.current;
  const label = reference.version === undefined ? reference.label ?? DEFAULT_LABEL : undefined;
  const number = reference.version ?? directory.label(reference.id, label!);
  const version = number === undefined ? undefined : directory.version(reference.id, number);
  if (version === undefined) {
    throw new GatehouseError('prompt_not_found', reference.version !== undefined
      ? `prompt ${reference.id} has no released version ${reference.version}`
      : `prompt ${reference.id} has no label '${label}'`);
  }
  ctx.prompt = {
    id: version.id, version: String(version.version), sha256: version.sha256, ...(label !== undefined ? { label } : {}),
    registry: { id: version.id, version: version.version, sha256: version.sha256, label: label ?? null },
  };
  const { prompt: _reference, ...rest } = request;
  return applyPrompt(rest, version, reference.variables);
}
