/**
 * MCP sessions (Streamable HTTP, protocol revisions 2025-11-25 and 2025-06-18):
 * one SDK server and transport per session, created by `initialize`, owned by the
 * key that created it (another key gets 404, as for an unknown session), closed
 * by DELETE, after `idleMs` without a request, or, past `max` sessions, the least
 * recently used first.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

export interface Session {
  id: string;
  keyId: string;
  server: Server;
  transport: StreamableHTTPServerTransport;
  lastUsed: number;
}

export class Sessions {
  private readonly open = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly max: number, private readonly idleMs: number, private readonly maxPerKey: number) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, idleMs));
    this.sweeper.unref();
  }

  get size(): number {
    return this.open.size;
  }

  /** The session `id` if `keyId` owns it (touched), else undefined. */
  get(id: string, keyId: string): Session | undefined {
    const session = this.open.get(id);
    if (session === undefined || session.keyId !== keyId) return undefined;
    session.lastUsed = Date.now();
    // Re-inserted: the map's order is last use.
    this.open.delete(id);
    this.open.set(id, session);
    return session;
  }

  /**
   * A transport that becomes a session of `keyId` once the SDK initializes it;
   * `connect` attaches a new SDK server to it.
   */
  async create(keyId: string, connect: (transport: StreamableHTTPServerTransport) => Promise<Server>): Promise<StreamableHTTPServerTransport> {
    let server: Server | undefined;
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        if (server === undefined) return;
        this.open.set(id, { id, keyId, server, transport, lastUsed: Date.now() });
        // One key never holds more than maxPerKey sessions: its own least recently used goes first,
        // so one caller opening sessions in a loop cannot evict everybody else's.
        const own = [...this.open.values()].filter((s) => s.keyId === keyId);
        for (let i = 0; i < own.length - this.maxPerKey; i++) void this.close(own[i]!.id);
        while (this.open.size > this.max) void this.close(this.open.keys().next().value as string);
      },
      onsessionclosed: (id) => void this.close(id),
    });
    server = await connect(transport);
    return transport;
  }

  /** Every open session's server (e.g. to announce a changed tool list). */
  servers(): Server[] {
    return [...this.open.values()].map((s) => s.server);
  }

  async close(id: string): Promise<void> {
    const session = this.open.get(id);
    if (session === undefined) return;
    this.open.delete(id);
    await session.server.close().catch(() => undefined);
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const session of this.open.values()) if (session.lastUsed < cutoff) void this.close(session.id);
  }

  async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.open.keys()].map((id) => this.close(id)));
  }
}
