/**
 * Every tool the gateway can offer, under a stable namespaced name
 * `<server>.<tool>`: the tools of the configured MCP servers (`mcp.servers`) and
 * of registered agents that have an MCP endpoint (agents as tools, named by
 * their agent id). Tools of an unavailable server are not offered.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AgentDirectory } from '../agents/registry.js';
import { Upstream, type UpstreamConfig } from './upstreams.js';

export interface CatalogTool {
  /** `<server>.<tool>`: what callers see and call. */
  name: string;
  server: string;
  /** The tool's own name at its server. */
  tool: string;
  definition: Tool;
  upstream: Upstream;
  /** The agent behind the server, for agents as tools. */
  agent?: string;
}

export class ToolCatalog {
  private readonly configured = new Map<string, Upstream>();
  private readonly agents = new Map<string, { url: string; upstream: Upstream }>();
  private byName = new Map<string, CatalogTool>();
  private down = new Map<string, CatalogTool>();

  /** `onChange` runs after the offered tools changed (a server came up, went down or changed its list). */
  constructor(servers: Readonly<Record<string, UpstreamConfig>>, private readonly onChange: () => void = () => {}) {
    for (const [name, config] of Object.entries(servers)) this.configured.set(name, new Upstream(name, config, () => this.rebuild()));
  }

  /** Connects every server in the background: a server that is down never delays the gateway's start. */
  start(): void {
    for (const upstream of this.upstreams()) void upstream.connect();
  }

  /** Follows the registry: agents with an MCP endpoint become servers named by their id. */
  useRegistry(directory: AgentDirectory): void {
    const wanted = new Map(directory.agents.filter((a) => a.mcp !== undefined && a.status === 'active').map((a) => [a.id, a.mcp!.url]));
    for (const [id, entry] of this.agents) {
      if (wanted.get(id) !== entry.url) {
        void entry.upstream.close();
        this.agents.delete(id);
      }
    }
    for (const [id, url] of wanted) {
      if (this.agents.has(id) || this.configured.has(id)) continue;
      const upstream = new Upstream(id, { url, headers: {} }, () => this.rebuild());
      this.agents.set(id, { url, upstream });
      void upstream.connect();
    }
    this.rebuild();
  }

  upstreams(): Upstream[] {
    return [...this.configured.values(), ...[...this.agents.values()].map((a) => a.upstream)];
  }

  /** The tools of every available server, in a stable order. */
  tools(): CatalogTool[] {
    return [...this.byName.values()];
  }

  get(name: string): CatalogTool | undefined {
    return this.byName.get(name);
  }

  /**
   * A tool its server offered before it became unavailable: not listed, but a
   * call that the policy allows answers `upstream_unavailable` (503, retry later)
   * rather than `tool_not_found`.
   */
  unavailable(name: string): CatalogTool | undefined {
    return this.down.get(name);
  }

  private rebuild(): void {
    const next = new Map<string, CatalogTool>();
    const down = new Map<string, CatalogTool>();
    for (const upstream of this.upstreams()) {
      const into = upstream.available ? next : down;
      const agent = this.agents.has(upstream.name) ? upstream.name : undefined;
      for (const definition of upstream.tools) {
        const name = `${upstream.name}.${definition.name}`;
        into.set(name, { name, server: upstream.name, tool: definition.name, definition, upstream, ...(agent ? { agent } : {}) });
      }
    }
    this.byName = new Map([...next.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    this.down = down;
    this.onChange();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.upstreams().map((u) => u.close()));
  }
}
