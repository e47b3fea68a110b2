/**
 * The upstream MCP servers: one SDK client each, over Streamable HTTP or stdio,
 * with the server's credentials from the config (never from callers). Each
 * server's tools are listed at connect and again on `tools/list_changed`. A
 * server that cannot be reached or fails is marked unavailable and reconnected
 * with backoff; the others keep working.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { log } from '../log.js';
import { upstreamFetch } from './upstreamFetch.js';

export type UpstreamConfig =
  | { url: string; headers: Record<string, string> }
  | { command: string; args: string[]; env: Record<string, string>; cwd?: string | undefined };

/** Tools of one server at most (a server listing more is cut, and the cut logged). */
const MAX_TOOLS_PER_SERVER = 1_000;
const MAX_BACKOFF_MS = 30_000;

export class UpstreamUnavailable extends Error {}

/** The server is up but answered this call with something that is not a tool result (an HTTP error, a malformed result). */
export class UpstreamBadAnswer extends Error {}

/** Pages of `tools/list` read at most, and how long a whole listing may take. */
const MAX_LIST_PAGES = 50;
const LIST_DEADLINE_MS = 30_000;

/**
 * What went wrong, in words that never carry the upstream's own text (an error
 * body may echo credentials): an HTTP status, a socket error code, an error class.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof StreamableHTTPError) return `HTTP ${error.code ?? 'error'}`;
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (error instanceof Error && /^[A-Z][A-Za-z]*Error$/.test(error.name) && error.name !== 'Error') return error.name;
  return 'transport failure';
}

/** A failure that means the connection is gone (reconnect), as opposed to one bad answer on a live connection. */
function connectionLost(error: unknown): boolean {
  if (error instanceof StreamableHTTPError) return error.code === 404 || error.code === undefined || error.code === -1;
  if (error instanceof TypeError) return true; // fetch failed: refused, reset, DNS
  return error instanceof Error && /not connected|connection closed/i.test(error.message);
}

/** One upstream server and its tools. */
export class Upstream {
  private client: Client | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  /** The server's tools as it lists them (names without the namespace). */
  tools: Tool[] = [];
  /** Why the server is unavailable, when it is. */
  unavailable: string | undefined = 'not connected yet';

  constructor(readonly name: string, private readonly config: UpstreamConfig, private readonly onChange: () => void) {}

  get available(): boolean {
    return this.unavailable === undefined;
  }

  /** Connects (once at a time); never throws: a failure marks the server unavailable and schedules a retry. */
  connect(): Promise<void> {
    this.connecting ??= this.open().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private transport(): Transport {
    if ('url' in this.config) {
      return new StreamableHTTPClientTransport(new URL(this.config.url), { requestInit: { headers: this.config.headers }, fetch: upstreamFetch });
    }
    return new StdioClientTransport({
      command: this.config.command, args: this.config.args, env: { ...getDefaultEnvironment(), ...this.config.env },
      stderr: 'ignore', ...(this.config.cwd ? { cwd: this.config.cwd } : {}),
    });
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ name: 'gatehouse', version: '1' });
    client.onclose = () => {
      if (this.client !== client) return;
      this.markDown('the connection closed');
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void this.refresh(client));
    try {
      await client.connect(this.transport(), { timeout: 10_000 });
      this.client = client;
      await this.refresh(client);
      this.failures = 0;
      this.unavailable = undefined;
      this.onChange();
    } catch (error) {
      await client.close().catch(() => undefined);
      this.markDown(describeFailure(error));
    }
  }

  private async refresh(client: Client): Promise<void> {
    const tools: Tool[] = [];
    const seen = new Set<string>();
    const deadline = Date.now() + LIST_DEADLINE_MS;
    let cursor: string | undefined;
    // Bounded: at most MAX_LIST_PAGES pages, no cursor twice, LIST_DEADLINE_MS in all.
    for (let pages = 0; pages < MAX_LIST_PAGES; pages++) {
      const page = await client.listTools(cursor === undefined ? undefined : { cursor }, { timeout: Math.max(1, Math.min(10_000, deadline - Date.now())) });
      tools.push(...page.tools);
      cursor = page.nextCursor;
      if (cursor === undefined || seen.has(cursor) || tools.length >= MAX_TOOLS_PER_SERVER || Date.now() >= deadline) break;
      seen.add(cursor);
    }
    // Cut by the tool count, the page count, the deadline or a repeated cursor: said every time.
    if (tools.length > MAX_TOOLS_PER_SERVER || cursor !== undefined) {
      log.warn('mcp: the server\'s tool list was cut; the rest are not offered', { server: this.name, tools: Math.min(tools.length, MAX_TOOLS_PER_SERVER), maxTools: MAX_TOOLS_PER_SERVER, maxPages: MAX_LIST_PAGES });
    }
    this.tools = tools.slice(0, MAX_TOOLS_PER_SERVER);
    if (this.client === client) this.onChange();
  }

  private markDown(reason: string): void {
    const wasUp = this.unavailable === undefined;
    this.unavailable = reason;
    // The old client is closed (a stdio server's process ends with it), never left behind.
    const old = this.client;
    this.client = undefined;
    void old?.close().catch(() => undefined);
    if (wasUp) {
      log.warn('mcp: upstream server unavailable', { server: this.name, reason });
      this.onChange();
    }
    if (this.stopped || this.retryTimer !== undefined) return;
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(this.failures++, 7));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  /** Calls a tool by its own (unprefixed) name. Throws UpstreamUnavailable when the server is down or fails the transport. */
  async call(tool: string, args: Record<string, unknown>, meta: Record<string, unknown>, options: { timeoutMs: number; signal: AbortSignal }): Promise<CallToolResult> {
    const client = this.client;
    if (client === undefined) throw new UpstreamUnavailable(`server '${this.name}' is unavailable (${this.unavailable ?? 'not connected'})`);
    try {
      return (await client.callTool({ name: tool, arguments: args, _meta: meta }, undefined, { timeout: options.timeoutMs, signal: options.signal })) as CallToolResult;
    } catch (error) {
      // The SDK's own "Connection closed" (a stdio server that exited mid-call) is a lost connection, not an answer.
      if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed && /connection closed/i.test(error.message)) {
        this.markDown('connection closed');
        throw new UpstreamUnavailable(`server '${this.name}' failed (connection closed)`, { cause: error });
      }
      // Any other JSON-RPC error (from the server, or the SDK's timeout) is an answer.
      if (error instanceof McpError) throw error;
      const what = describeFailure(error);
      // A lost connection marks the server down; one bad answer on a live connection fails this call only.
      if (!connectionLost(error)) throw new UpstreamBadAnswer(`server '${this.name}' answered ${tool} with an invalid result (${what})`, { cause: error });
      this.markDown(what);
      throw new UpstreamUnavailable(`server '${this.name}' failed (${what})`, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }
}
