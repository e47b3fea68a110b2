/**
 * One MCP request as a request context, so it passes the same stages as a model
 * call (identify, agent admission, policy, run budget, telemetry, the audit
 * spool) rather than copies of them. Trace context and baggage come from the
 * request's `params._meta` (`traceparent`, `baggage`), where MCP carries them,
 * else from the HTTP headers.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { context as otelContext, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import type { RequestContext } from '../pipeline/context.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import type { Telemetry } from '../telemetry/sdk.js';
import { A } from '../telemetry/attributes.js';
import { mcpWire } from './wire.js';

export interface McpRequestFacts {
  method: string;
  /** The JSON-RPC id of the request. */
  requestId: string | number;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  /** The HTTP headers of the POST that carried the message. */
  headers: IncomingHttpHeaders;
  meta: Record<string, unknown> | undefined;
  clientAddress: string | undefined;
  signal: AbortSignal;
}

/** Headers with `traceparent` / `baggage` taken from `_meta` when it has them. */
function withMeta(headers: IncomingHttpHeaders, meta: Record<string, unknown> | undefined): IncomingHttpHeaders {
  if (meta === undefined) return headers;
  const out: IncomingHttpHeaders = { ...headers };
  for (const name of ['traceparent', 'tracestate', 'baggage'] as const) {
    const value = meta[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

export function mcpContext(facts: McpRequestFacts, deps: PipelineDeps, telemetry: Telemetry, spanName: string): RequestContext {
  const headers = withMeta(facts.headers, facts.meta);
  const startTime = Date.now();
  const parent = telemetry.extract(headers, ROOT_CONTEXT);
  const span = deps.emit.tracer.startSpan(spanName, { kind: SpanKind.SERVER, startTime }, parent ?? otelContext.active());
  const ctx: RequestContext = {
    id: randomUUID(),
    startTime,
    startMark: performance.now(),
    wire: mcpWire,
    operation: facts.method === 'tools/call' ? 'execute_tool' : 'mcp',
    route: '/mcp',
    spanName,
    headers,
    clientAddress: facts.clientAddress,
    signal: facts.signal,
    span,
    baggage: telemetry.baggage(parent),
    responseHeaders: {},
    attempts: [],
    status: 0,
    outcome: 'error',
    annotations: {
      [A.recordType]: facts.method === 'tools/call' ? 'tool_call' : 'mcp',
      [A.mcpMethod]: facts.method,
      [A.jsonrpcRequestId]: String(facts.requestId),
    },
  };
  if (facts.sessionId !== undefined) ctx.annotations[A.mcpSessionId] = facts.sessionId;
  if (facts.protocolVersion !== undefined) ctx.annotations[A.mcpProtocolVersion] = facts.protocolVersion;
  return ctx;
}
