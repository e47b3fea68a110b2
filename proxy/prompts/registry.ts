/**
 * The prompt registry (docs/prompts.md): versions, labels and the lock, read
 * whole, checked (checkPrompts), compiled (templates parsed, variable schemas
 * compiled) and swapped atomically. A reload that finds a problem keeps the
 * previous registry answering. Reloads on file changes (debounced) and on
 * `reload()` (SIGHUP); listeners hear every label move.
 */
import { watch, type FSWatcher } from 'node:fs';
import { resolve } from 'node:path';
import { checkPrompts, type CheckedPrompts } from './check.js';
import { compileVersion, type CompiledVersion } from './render.js';

export class PromptRegistryError extends Error {
  override readonly name = 'PromptRegistryError';
  constructor(readonly problems: string[]) {
    super(`invalid prompt registry:\n  ${problems.join('\n  ')}`);
  }
}

/** A label that points somewhere else after a reload. */
export interface LabelMove {
  prompt: string;
  label: string;
  from: number | undefined;
  to: number | undefined;
}

/** The registry at one moment; never changes once built. */
export class PromptDirectory {
  private readonly versions = new Map<string, Map<number, CompiledVersion>>();

  constructor(readonly checked: CheckedPrompts) {
    for (const version of checked.versions) {
      let byNumber = this.versions.get(version.id);
      if (byNumber === undefined) this.versions.set(version.id, (byNumber = new Map()));
      byNumber.set(version.version, compileVersion(version));
    }
  }

  get ids(): string[] {
    return [...this.versions.keys()].sort();
  }

  version(id: string, version: number): CompiledVersion | undefined {
    return this.versions.get(id)?.get(version);
  }

  /** Every version of a prompt, oldest first. */
  versionsOf(id: string): CompiledVersion[] {
    return [...(this.versions.get(id)?.values() ?? [])].sort((a, b) => a.version - b.version);
  }

  label(id: string, label: string): number | undefined {
    return this.checked.labels[id]?.[label];
  }

  labelsOf(id: string): Record<string, number> {
    return { ...(this.checked.labels[id] ?? {}) };
  }
}

/** What moved between two registries. */
export function labelMoves(before: PromptDirectory | undefined, after: PromptDirectory): LabelMove[] {
  const moves: LabelMove[] = [];
  const old = before?.checked.labels ?? {};
  const now = after.checked.labels;
  for (const prompt of new Set([...Object.keys(old), ...Object.keys(now)])) {
    for (const label of new Set([...Object.keys(old[prompt] ?? {}), ...Object.keys(now[prompt] ?? {})])) {
      const from = old[prompt]?.[label];
      const to = now[prompt]?.[label];
      if (from !== to) moves.push({ prompt, label, from, to });
    }
  }
  return moves;
}

export async function readPromptDirectory(dir: string): Promise<PromptDirectory> {
  const checked = await checkPrompts(dir);
  if (checked.problems.length > 0) throw new PromptRegistryError(checked.problems);
  return new PromptDirectory(checked);
}

export interface PromptRegistryOptions {
  dir: string;
  watch?: boolean;
  debounceMs?: number;
  onReload?: (result: { ok: boolean; error?: string; moves: LabelMove[] }) => void;
}

export class PromptRegistry {
  private directory: PromptDirectory | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(moves: LabelMove[], directory: PromptDirectory) => void> = [];
  readonly dir: string;

  constructor(private readonly options: PromptRegistryOptions) {
    this.dir = resolve(options.dir);
  }

  get current(): PromptDirectory {
    if (this.directory === undefined) throw new Error('PromptRegistry.start() has not completed');
    return this.directory;
  }

  /** Called with the label moves of every reload that moved one. */
  onMove(listener: (moves: LabelMove[], directory: PromptDirectory) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    this.directory = await readPromptDirectory(this.dir);
    if (this.options.watch !== false) this.watchFiles();
  }

  async reload(): Promise<boolean> {
    try {
      const next = await readPromptDirectory(this.dir);
      const moves = labelMoves(this.directory, next);
      this.directory = next;
      if (moves.length > 0) for (const listener of this.listeners) listener(moves, next);
      this.options.onReload?.({ ok: true, moves });
      return true;
    } catch (error) {
      this.options.onReload?.({ ok: false, error: (error as Error).message, moves: [] });
      return false;
    }
  }

  shutdown(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private watchFiles(): void {
    this.watcher = watch(this.dir, { recursive: true }, () => {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.reload();
      }, this.options.debounceMs ?? 100);
      this.timer.unref();
    });
    this.watcher.unref();
  }
}
