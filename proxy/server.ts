/**
 * The node:http adapter: routes, reads and limits bodies, builds the request
 * context, and hands over to the pipeline. Nothing here knows about providers,
 * policies or wire formats beyond picking the wire for a route.
 */
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { context as otelContext, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { AGENTS_ADMIN_PREFIX, handleAgentAdmin } from './agents/adminRoutes.js';
import { isApprovalsPath } from './approvals/paths.js';
import type { McpEndpoint } from './mcp/endpoint.js';
import { MCP_PATH, RESOURCE_METADATA_PATHS } from './mcp/paths.js';
import { GatehouseError } from './errors.js';
import { handleChat } from './pipeline/chat.js';
import type { Operation, RequestContext } from './pipeline/context.js';
import type { PipelineDeps } from './pipeline/deps.js';
import { handleEmbeddings } from './pipeline/embeddings.js';
import { handleModels } from './pipeline/models.js';
import { NodeSink } from './nodeSink.js';
import type { Telemetry } from './telemetry/sdk.js';
import { anthropicWire } from './wire/anthropic/index.js';
import { openaiWire } from './wire/openai/index.js';
import type { ClientWire } from './wire/types.js';
import { readJsonBody } from './requestBody.js';

export interface ServerOptions {
  deps: PipelineDeps;
  telemetry: Telemetry;
  /** The MCP endpoint (`/mcp`); absent when policy is disabled (tools are never offered unjudged). */
  mcp?: McpEndpoint;
  /** Whether config, providers, policies and exporters are initialised. */
  ready(): boolean;
}

export function createGatewayServer(options: ServerOptions): Server {
  const { deps } = options;
  const limits = deps.config.server;
  // Node checks headersTimeout/requestTimeout only every connectionsCheckingInterval
  // (30 s by default): check often enough that a stalled client is cut near its limit.
  const connectionsCheckingInterval = Math.max(50, Math.min(1_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 4)));
  const server = createServer({ connectionsCheckingInterval }, (req, res) => {
    route(req, res, options).catch((error: unknown) => {
      // A bug, not a request failure: answer if still possible, never crash.
      if (!res.headersSent) writeJson(res, 500, openaiWire.renderError(new GatehouseError('internal_error', 'internal error', { cause: error })).body);
      else res.destroy();
    });
  });
  server.headersTimeout = limits.headersTimeoutMs;
  // The body limit is enforced while reading it (requestBody.ts), answered in the caller's wire;
  // node's own request timeout is only the backstop for a request that never reaches a handler.
  server.requestTimeout = limits.headersTimeoutMs + limits.bodyTimeoutMs + 1_000;
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = limits.idleTimeoutMs;
  return server;
}

async function route(req: IncomingMessage, res: ServerResponse, options: ServerOptions): Promise<void> {
  const path = pathOf(req.url);
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    switch (path) {
      case '/healthz':
        return writeJson(res, 200, { status: 'ok' });
      case '/readyz':
        return options.ready() ? writeJson(res, 200, { status: 'ready' }) : writeJson(res, 503, { status: 'starting' });
      case '/metrics':
        return options.telemetry.serveMetrics(req, res);
      case '/v1/models':
        return modelsRoute(req, res, options);
    }
    if (options.mcp && RESOURCE_METADATA_PATHS.includes(path)) return options.mcp.metadata(req, res);
  }
  if (path === MCP_PATH && options.mcp) return options.mcp.handle(req, res);
  if (path.startsWith(AGENTS_ADMIN_PREFIX)) return handleAgentAdmin(req, res, path, options.deps);
  if (isApprovalsPath(path)) {
    const { handleApprovals } = await import('./approvals/routes.js');
    return handleApprovals(req, res, path, new URL(req.url ?? '/', 'http://gatehouse').searchParams, options.deps);
  }
  const wire = wireFor(path, req);
  if (path === '/v1/chat/completions' || path === '/v1/messages' || path === '/v1/embeddings') {
    if (method !== 'POST') return writeError(res, wire, new GatehouseError('method_not_allowed', `${method} is not allowed on ${path}; use POST`));
    return modelCall(req, res, options, wire, path);
  }
  return writeError(res, wire, new GatehouseError('not_found', `no route for ${method} ${path}`));
}

async function modelCall(req: IncomingMessage, res: ServerResponse, options: ServerOptions, wire: ClientWire, path: string): Promise<void> {
  const operation: Operation = path === '/v1/embeddings' ? 'embeddings' : 'chat';
  const ctx = startContext(req, res, options, wire, operation, path);
  const sink = new NodeSink(res);
  // Read only once the caller is identified: an unknown key never makes the gateway buffer a body.
  const body = async (): Promise<unknown> => {
    const { maxBodyBytes, bodyTimeoutMs } = options.deps.config.server;
    try {
      return await readJsonBody(req, maxBodyBytes, bodyTimeoutMs);
    } catch (error) {
      // The rest of an oversized or stalled body is not read: close the connection after answering.
      if (error instanceof GatehouseError && (error.code === 'request_too_large' || error.code === 'request_timeout')) res.setHeader('connection', 'close');
      throw error;
    }
  };
  if (operation === 'embeddings') return handleEmbeddings(ctx, options.deps, openaiWire, body, sink);
  return handleChat(ctx, options.deps, body, sink);
}

async function modelsRoute(req: IncomingMessage, res: ServerResponse, options: ServerOptions): Promise<void> {
  const wire = req.headers['anthropic-version'] !== undefined ? anthropicWire : openaiWire;
  const ctx = startContext(req, res, options, wire, 'models', '/v1/models');
  await handleModels(ctx, options.deps, new NodeSink(res));
}

function startContext(req: IncomingMessage, res: ServerResponse, options: ServerOptions, wire: ClientWire, operation: Operation, path: string): RequestContext {
  const startTime = Date.now();
  const startMark = performance.now();
  const id = randomUUID();
  const parent = options.telemetry.extract(req.headers, ROOT_CONTEXT);
  const span = options.deps.emit.tracer.startSpan(operation, { kind: SpanKind.SERVER, startTime }, parent ?? otelContext.active());
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort(new GatehouseError('cancelled', 'client disconnected'));
  });
  return {
    id,
    startTime,
    startMark,
    wire,
    operation,
    route: path,
    headers: req.headers,
    clientAddress: req.socket.remoteAddress,
    signal: abort.signal,
    span,
    baggage: options.telemetry.baggage(parent),
    responseHeaders: { 'x-request-id': id },
    attempts: [],
    status: 0,
    outcome: 'error',
    annotations: {},
  };
}

/** The Anthropic wire for its routes, or for any request that carries Anthropic SDK headers. */
function wireFor(path: string, req: IncomingMessage): ClientWire {
  if (path === '/v1/messages' || req.headers['anthropic-version'] !== undefined) return anthropicWire;
  return openaiWire;
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Errors node's HTTP parser raises before a request reaches a handler (headers too
 * large, a malformed request line, the backstop timeout) answered with a JSON body
 * in the OpenAI shape, or the Anthropic one when the raw request names
 * /v1/messages or sends anthropic-version, instead of node's bare status line.
 */
function answerClientError(error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const failure = error.code === 'HPE_HEADER_OVERFLOW'
    ? new GatehouseError('request_header_too_large', 'request headers are larger than the limit')
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new GatehouseError('request_timeout', 'the request did not arrive within the time limit')
      : new GatehouseError('invalid_request', 'malformed HTTP request', { param: 'request' });
  const head = error.rawPacket?.subarray(0, 4096).toString('latin1') ?? '';
  const wire = /\/v1\/messages|anthropic-version/i.test(head) ? anthropicWire : openaiWire;
  const rendered = wire.renderError(failure);
  const payload = JSON.stringify(rendered.body);
  socket.end(`HTTP/1.1 ${rendered.status} ${STATUS_CODES[rendered.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\nconnection: close\r\n\r\n${payload}`);
}

function writeError(res: ServerResponse, wire: ClientWire, error: GatehouseError): void {
  const rendered = wire.renderError(error);
  writeJson(res, rendered.status, rendered.body);
}

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
