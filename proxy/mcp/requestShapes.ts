/**
 * The shapes of `tools/list` and `tools/call` requests. The SDK's server parses a
 * request against its handler's schema before anything else, and a request that
 * does not fit (a `tools/call` without `name`, a `cursor` that is a number) would
 * be answered -32603 Internal error. Invalid params are the caller's mistake: the
 * gateway registers its handlers under these loose schemas and checks the real
 * ones itself, so the caller gets -32602 Invalid params (data.code
 * `invalid_request`), and the request is recorded like any other.
 */
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { GatehouseError } from '../errors.js';
import { mcpErrorOf } from './wire.js';

export const LooseListTools = z.looseObject({ method: z.literal('tools/list'), params: z.unknown().optional() });
export const LooseCallTool = z.looseObject({ method: z.literal('tools/call'), params: z.unknown().optional() });

const REAL = { 'tools/list': ListToolsRequestSchema, 'tools/call': CallToolRequestSchema } as const;

/** Why a tools/list or tools/call request does not fit its schema, or undefined when it does (or is another method). */
export function invalidParams(message: { method: string; params?: unknown }): string | undefined {
  const schema = REAL[message.method as keyof typeof REAL];
  if (schema === undefined) return undefined;
  const parsed = schema.safeParse({ method: message.method, ...(message.params === undefined ? {} : { params: message.params }) });
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  return `Invalid params for ${message.method}: ${issue ? `${issue.path.join('.') || '(params)'}: ${issue.message}` : 'malformed'}`;
}

/** Throws the -32602 answer when the request does not fit; returns the parsed request otherwise. */
export function checked<M extends keyof typeof REAL>(method: M, request: { params?: unknown }): z.infer<(typeof REAL)[M]> {
  const problem = invalidParams({ method, params: request.params });
  if (problem !== undefined) throw mcpErrorOf(new GatehouseError('invalid_request', problem));
  return REAL[method].parse({ method, ...(request.params === undefined ? {} : { params: request.params }) }) as z.infer<(typeof REAL)[M]>;
}
