/**
 * The agent registry: every `*.yaml` / `*.yml` file under the registry folder
 * holds one agent (agentSchema.ts). Loaded whole and swapped atomically: a
 * reload that finds any invalid file keeps the previous registry answering and
 * says which file and path are wrong. Reloads on file changes (debounced) and on
 * `reload()` (SIGHUP).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describeIssue } from '../config/load.js';
import { watchFolder, type FolderWatch } from '../folderWatch.js';
import { agentSchema, type Agent } from './agentSchema.js';

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(readonly problems: string[]) {
    super(`invalid agent registry:\n  ${problems.join('\n  ')}`);
  }
}

/** The registry as loaded at one moment; never changes once built. */
export class AgentDirectory {
  private readonly byId: ReadonlyMap<string, Agent>;
  /** What Rego sees as `data.agents` (built once per load). */
  readonly policyData: Readonly<Record<string, Agent>>;

  constructor(readonly agents: readonly Agent[], readonly revision: string) {
    this.byId = new Map(agents.map((agent) => [agent.id, agent]));
    this.policyData = Object.freeze(Object.fromEntries(agents.map((agent) => [agent.id, agent])));
  }

  get(id: string): Agent | undefined {
    return this.byId.get(id);
  }
}

/** Reads and validates every agent file under `dir`; throws RegistryError naming each bad file and path. */
export async function readAgentDirectory(dir: string): Promise<AgentDirectory> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files = entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
  const problems: string[] = [];
  const agents: Agent[] = [];
  const seen = new Map<string, string>();
  const texts: string[] = [];
  for (const file of files) {
    const inside = relative(process.cwd(), file);
    const shown = inside === '' || inside.startsWith('..') ? file : inside;
    let raw: unknown;
    try {
      const text = await readFile(file, 'utf8');
      texts.push(shown, text);
      raw = parseYaml(text);
    } catch (error) {
      problems.push(`${shown}: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    const result = agentSchema.safeParse(raw);
    if (!result.success) {
      for (const issue of result.error.issues) problems.push(`${shown}: ${describeIssue(issue)}`);
      continue;
    }
    const other = seen.get(result.data.id);
    if (other !== undefined) {
      problems.push(`${shown}: id: '${result.data.id}' is already registered by ${other}`);
      continue;
    }
    seen.set(result.data.id, shown);
    agents.push(result.data);
  }
  if (problems.length > 0) throw new RegistryError(problems);
  const revision = createHash('sha256').update(texts.join('\0')).digest('hex').slice(0, 12);
  return new AgentDirectory(agents, revision);
}

export interface RegistryOptions {
  dir: string;
  watch?: boolean;
  debounceMs?: number;
  /** Called after every reload attempt. */
  onReload?: (result: { ok: boolean; revision: string; agents: number; error?: string }) => void;
}

/** The registry answering now, reloaded on change. */
export class AgentRegistry {
  private directory: AgentDirectory | undefined;
  private watcher: FolderWatch | undefined;
  private readonly listeners: Array<(directory: AgentDirectory) => void> = [];
  readonly dir: string;

  constructor(private readonly options: RegistryOptions) {
    this.dir = resolve(options.dir);
  }

  /** The registry answering now. */
  get current(): AgentDirectory {
    if (this.directory === undefined) throw new Error('AgentRegistry.start() has not completed');
    return this.directory;
  }

  /** Called with every new registry (after start). */
  onChange(listener: (directory: AgentDirectory) => void): void {
    this.listeners.push(listener);
  }

  /** Loads the registry; throws RegistryError (the gateway does not start on an invalid registry). */
  async start(): Promise<void> {
    this.directory = await readAgentDirectory(this.dir);
    if (this.options.watch !== false) this.watchFiles();
  }

  /** Re-reads the files; on any error the previous registry keeps answering. */
  async reload(): Promise<boolean> {
    try {
      const next = await readAgentDirectory(this.dir);
      const changed = next.revision !== this.directory?.revision;
      this.directory = next;
      if (changed) for (const listener of this.listeners) listener(next);
      this.options.onReload?.({ ok: true, revision: next.revision, agents: next.agents.length });
      return true;
    } catch (error) {
      this.options.onReload?.({ ok: false, revision: this.directory?.revision ?? '', agents: this.directory?.agents.length ?? 0, error: (error as Error).message });
      return false;
    }
  }

  shutdown(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private watchFiles(): void {
    this.watcher = watchFolder(this.dir, this.options.debounceMs ?? 100, () => void this.reload());
  }
}
