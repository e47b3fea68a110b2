/**
 * `POST /mcp` (and GET / DELETE for a session's stream and end): one governed MCP
 * endpoint in front of every configured tool server (docs/mcp.md). Callers
 * authenticate with their virtual key, exactly like model calls; without one they
 * get 401 with `WWW-Authenticate` naming the protected-resource metadata
 * (RFC 9728, served at /.well-known/oauth-protected-resource[/mcp]).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isJSONRPCRequest, type CallToolRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config/schema.js';
import { GatehouseError } from '../errors.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { finishRequest } from '../pipeline/finish.js';
import { readJsonBody } from '../requestBody.js';
import { A } from '../telemetry/attributes.js';
import type { Telemetry } from '../telemetry/sdk.js';
import { ToolCatalog } from './catalog.js';
import { mcpContext, type McpRequestFacts } from './mcpContext.js';
import { join, resolve } from 'node:path';
import { CatalogSnapshot, CATALOG_SNAPSHOT_FILE } from './catalogSnapshot.js';
import { MCP_PATH } from './paths.js';
import { policyToolOf } from './policyTool.js';
import { checked, invalidParams, LooseCallTool, LooseListTools } from './requestShapes.js';
import { Sessions } from './sessions.js';
import { callTool } from './toolCall.js';
import { listTools } from './toolList.js';
import { INVALID_REQUEST, jsonRpcErrorBody, PARSE_ERROR } from './wire.js';

/** host, host:port, [v6]:port — letters, digits, dots, dashes (no quotes, spaces or paths). */
const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** Methods the gateway's MCP server answers; anything else gets the SDK's "Method not found". */
const SERVED = new Set(['initialize', 'ping', 'tools/list', 'tools/call']);

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

export class McpEndpoint {
  readonly catalog: ToolCatalog;
  private readonly snapshot: CatalogSnapshot;
  private readonly sessions: Sessions;
  private readonly settings: Config['mcp'];

  constructor(private readonly deps: PipelineDeps, private readonly telemetry: Telemetry) {
    this.settings = deps.config.mcp;
    this.catalog = new ToolCatalog(this.settings.servers, () => {
      this.announce();
      this.snapshot.changed(this.catalog.tools().map(policyToolOf));
    });
    this.snapshot = new CatalogSnapshot(join(resolve(deps.config.dataDir), CATALOG_SNAPSHOT_FILE));
    this.sessions = new Sessions(this.settings.maxSessions, this.settings.sessionIdleMs, this.settings.maxSessionsPerKey);
  }

  /** Connects the tool servers in the background, and follows the agent registry (agents as tools). */
  start(): void {
    this.catalog.start();
    const registry = this.deps.agents;
    if (registry !== undefined) {
      this.catalog.useRegistry(registry.current);
      registry.onChange((directory) => this.catalog.useRegistry(directory));
    }
  }

  async shutdown(): Promise<void> {
    await this.sessions.shutdown();
    await this.catalog.close();
    await this.snapshot.flush();
  }

  /** The protected-resource metadata (RFC 9728). */
  metadata(req: IncomingMessage, res: ServerResponse): void {
    send(res, 200, {
      resource: this.resource(req),
      authorization_servers: this.settings.authorizationServers,
      bearer_methods_supported: ['header'],
      resource_name: 'Gatehouse MCP gateway',
    });
  }

  /** `mcp.resource`, else from the Host header when it is a plain host[:port]; anything else is `localhost`. */
  private resource(req: IncomingMessage): string {
    if (this.settings.resource !== undefined) return this.settings.resource;
    const host = req.headers.host;
    const port = host === undefined ? undefined : /:(\d{1,5})$/.exec(host)?.[1];
    const plain = host !== undefined && HOST.test(host) && (port === undefined || Number(port) <= 65_535);
    return `http://${plain ? host : 'localhost'}${MCP_PATH}`;
  }

  private unauthorized(req: IncomingMessage, res: ServerResponse, error: GatehouseError): void {
    const origin = new URL(this.resource(req)).origin;
    send(res, 401, jsonRpcErrorBody(error), {
      'www-authenticate': `Bearer realm="gatehouse", resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
    });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let keyId: string;
    try {
      keyId = this.deps.keys.authenticate(req.headers).key.id;
    } catch (error) {
      return this.unauthorized(req, res, error as GatehouseError);
    }
    const method = req.method ?? 'GET';
    const sessionHeader = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      return send(res, 405, jsonRpcErrorBody(new GatehouseError('method_not_allowed', `${method} is not allowed on ${MCP_PATH}`)), { allow: 'GET, POST, DELETE' });
    }
    let body: unknown;
    if (method === 'POST') {
      try {
        body = await readJsonBody(req, this.deps.config.server.maxBodyBytes, this.deps.config.server.bodyTimeoutMs);
      } catch (error) {
        const failure = error instanceof GatehouseError ? error : new GatehouseError('invalid_request', 'unreadable body');
        if (failure.code === 'invalid_request') return send(res, 400, { jsonrpc: '2.0', error: { code: PARSE_ERROR, message: `Parse error: ${failure.message}` }, id: null });
        return send(res, failure.status, jsonRpcErrorBody(failure));
      }
      if (!isMessageShaped(body)) {
        return send(res, 400, { jsonrpc: '2.0', error: { code: INVALID_REQUEST, message: 'Invalid Request: expected a JSON-RPC 2.0 message' }, id: null });
      }
    }
    let transport: StreamableHTTPServerTransport;
    if (sessionId !== undefined) {
      const session = this.sessions.get(sessionId, keyId);
      if (session === undefined) {
        // Unknown, ended, or another key's: the same answer, and recorded (a key presenting someone else's session is worth seeing).
        this.recordRefusal(body, req, method, new GatehouseError('not_found', 'Session not found'), '-32001');
        return send(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      }
      transport = session.transport;
    } else {
      if (!isInitialize(body)) {
        const message = 'Bad Request: Mcp-Session-Id header is required';
        this.recordRefusal(body, req, method, new GatehouseError('invalid_request', message), String(INVALID_REQUEST));
        return send(res, 400, { jsonrpc: '2.0', error: { code: INVALID_REQUEST, message }, id: null });
      }
      transport = await this.sessions.create(keyId, (t) => this.connect(t));
    }
    const invalid = body === undefined ? undefined : this.recordOthers(body, req, sessionId);
    // One request whose params do not fit, in a session: answered here, with the Gatehouse code the SDK's answer lacks.
    if (invalid !== undefined && sessionId !== undefined && !Array.isArray(body)) {
      return send(res, 200, jsonRpcErrorBody(invalid.error, invalid.id));
    }
    await transport.handleRequest(req, res, body);
  }

  /** A new SDK server for one session: tools/list and tools/call go through the gateway's stages. */
  private async connect(transport: StreamableHTTPServerTransport): Promise<Server> {
    const server = new Server({ name: 'gatehouse', version: '1' }, { capabilities: { tools: { listChanged: true } } });
    const limits = { callTimeoutMs: this.settings.callTimeoutMs, maxResultBytes: this.settings.maxResultBytes };
    server.setRequestHandler(LooseListTools, (loose, extra) => {
      const request = checked('tools/list', loose);
      return listTools(mcpContext(this.facts('tools/list', request.params?._meta, extra), this.deps, this.telemetry, 'tools/list'), this.deps, this.catalog);
    });
    // The SDK's Server checks a tools/call against CallToolRequestSchema (-32602) before this handler runs.
    server.setRequestHandler(LooseCallTool, (loose, extra) => {
      const request = loose as unknown as CallToolRequest;
      const name = request.params.name;
      const ctx = mcpContext(this.facts('tools/call', request.params._meta, extra), this.deps, this.telemetry, `tools/call ${name}`);
      const meta = typeof request.params._meta === 'object' && request.params._meta !== null ? request.params._meta as Record<string, unknown> : undefined;
      return callTool(ctx, this.deps, this.catalog, limits, name, request.params.arguments ?? {}, meta);
    });
    await server.connect(transport);
    return server;
  }

  private facts(method: string, meta: unknown, extra: { requestId: string | number; sessionId?: string; signal: AbortSignal; requestInfo?: { headers: Record<string, string | string[] | undefined> } }): McpRequestFacts {
    const headers = (extra.requestInfo?.headers ?? {}) as McpRequestFacts['headers'];
    const version = headers['mcp-protocol-version'];
    return {
      method, requestId: extra.requestId, sessionId: extra.sessionId,
      protocolVersion: typeof version === 'string' ? version : undefined,
      headers, meta: typeof meta === 'object' && meta !== null ? meta as Record<string, unknown> : undefined,
      clientAddress: undefined, signal: extra.signal,
    };
  }

  /**
   * Requests other than tools/list and tools/call are audit records too, made
   * here because the SDK answers them itself: initialize and ping as received,
   * any other method as refused with "Method not found", and a tools/list or
   * tools/call whose params do not fit as refused with "Invalid params".
   */
  private recordOthers(body: unknown, req: IncomingMessage, sessionId: string | undefined): { id: string | number; error: GatehouseError } | undefined {
    let firstInvalid: { id: string | number; error: GatehouseError } | undefined;
    const messages = (Array.isArray(body) ? body : [body]) as JSONRPCMessage[];
    for (const message of messages) {
      if (!isJSONRPCRequest(message)) continue;
      const invalid = message.method === 'tools/list' || message.method === 'tools/call' ? invalidParams(message) : undefined;
      if ((message.method === 'tools/list' || message.method === 'tools/call') && invalid === undefined) continue;
      const params = message.params as { protocolVersion?: unknown; _meta?: unknown } | undefined;
      const ctx = mcpContext({
        method: message.method, requestId: message.id, sessionId,
        protocolVersion: typeof params?.protocolVersion === 'string' ? params.protocolVersion : undefined,
        headers: req.headers, meta: typeof params?._meta === 'object' && params._meta !== null ? params._meta as Record<string, unknown> : undefined,
        clientAddress: req.socket.remoteAddress, signal: new AbortController().signal,
      }, this.deps, this.telemetry, message.method);
      try {
        const identity = this.deps.keys.authenticate(req.headers);
        ctx.principal = identity.principal;
      } catch {
        // authenticated above; nothing to add
      }
      if (invalid !== undefined) {
        ctx.status = 400;
        ctx.outcome = 'error';
        ctx.annotations[A.errorType] = '-32602';
        ctx.error = new GatehouseError('invalid_request', invalid);
        firstInvalid ??= { id: message.id, error: ctx.error };
      } else if (SERVED.has(message.method)) {
        ctx.status = 200;
        ctx.outcome = 'ok';
      } else {
        ctx.status = 404;
        ctx.annotations[A.errorType] = '-32601';
        ctx.error = new GatehouseError('not_found', `Method not found: ${message.method}`);
      }
      void finishRequest(ctx, this.deps).catch(() => undefined);
    }
    return firstInvalid;
  }

  /** A request refused before the SDK saw it, as an audit record (one per JSON-RPC request in the body, or one for the HTTP request). */
  private recordRefusal(body: unknown, req: IncomingMessage, httpMethod: string, error: GatehouseError, errorType: string): void {
    const messages = body === undefined ? [] : (Array.isArray(body) ? body : [body]).filter((m) => isJSONRPCRequest(m as JSONRPCMessage)) as Array<{ method: string; id: string | number }>;
    const targets = messages.length > 0 ? messages : [{ method: `${httpMethod} ${MCP_PATH}`, id: '' }];
    for (const message of targets) {
      const ctx = mcpContext({
        method: message.method, requestId: message.id, sessionId: undefined, protocolVersion: undefined, headers: req.headers, meta: undefined,
        clientAddress: req.socket.remoteAddress, signal: new AbortController().signal,
      }, this.deps, this.telemetry, message.method);
      try {
        ctx.principal = this.deps.keys.authenticate(req.headers).principal;
      } catch {
        // authenticated before any refusal recorded here
      }
      ctx.status = error.status;
      ctx.outcome = 'error';
      ctx.error = error;
      ctx.annotations[A.errorType] = errorType;
      // Refused before it was a tool call: an `mcp` record, never counted in `report tools`.
      ctx.annotations[A.recordType] = 'mcp';
      const presented = req.headers['mcp-session-id'];
      if (typeof presented === 'string') ctx.annotations[A.mcpSessionId] = presented.slice(0, 128);
      void finishRequest(ctx, this.deps).catch(() => undefined);
    }
  }

  /** Tells every open session that the tool list changed (a server came up or went down, the registry changed). */
  private announce(): void {
    for (const server of this.sessions.servers()) void server.sendToolListChanged().catch(() => undefined);
  }
}

/** A single `initialize` request: the only message that may come without a session. */
function isInitialize(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && (body as { method?: unknown }).method === 'initialize';
}

/** A JSON-RPC 2.0 message or a batch of them, by shape; the SDK checks the rest. */
function isMessageShaped(body: unknown): boolean {
  const one = (m: unknown): boolean => typeof m === 'object' && m !== null && !Array.isArray(m) && (m as { jsonrpc?: unknown }).jsonrpc === '2.0';
  return Array.isArray(body) ? body.length > 0 && body.every(one) : one(body);
}
