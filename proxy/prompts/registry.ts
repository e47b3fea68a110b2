/**
 * The prompt registry (docs/prompts.md): versions, labels and the lock, read
 * whole, checked (checkPrompts), compiled (templates parsed, variable schemas
 * compiled) and swapped atomically. A reload that finds a problem keeps the
 * previous registry answering. Reloads on file changes (debounced) and on
 * `reload()` (SIGHUP); listeners hear every label move.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { watchFolder, type FolderWatch } from '../folderWatch.js';
import { checkPrompts, type CheckedPrompts } from './check.js';
import { compileVersion, type CompiledVersion } from './render.js';

/** How often the folder is checked for a swap the watcher did not see. */
const POLL_MS = 2_000;

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

export type Labels = Record<string, Record<string, number>>;

/** What moved between two registries. */
export function labelMoves(before: PromptDirectory | undefined, after: PromptDirectory): LabelMove[] {
  return movesBetween(before?.checked.labels ?? {}, after.checked.labels);
}

/** What moved between two label sets. */
export function movesBetween(old: Labels, now: Labels): LabelMove[] {
  const moves: LabelMove[] = [];
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
  private watcher: FolderWatch | undefined;
  private poller: NodeJS.Timeout | undefined;
  private stamp = '';
  private reloading: Promise<unknown> = Promise.resolve();
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
    if (this.options.watch !== false) {
      this.stamp = await this.stampNow();
      this.watchFiles();
      // A watcher misses a folder swapped under it (a mv deploy, a ConfigMap update): a cheap stat poll catches those.
      this.poller = setInterval(() => void this.poll(), POLL_MS);
      this.poller.unref();
    }
  }

  private async poll(): Promise<void> {
    const stamp = await this.stampNow();
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    this.watcher?.close();
    this.watchFiles();
    await this.reload();
  }

  /** The folder's and the two index files' identity and size: changes on every deploy. */
  private async stampNow(): Promise<string> {
    const parts = await Promise.all(['', 'labels.yaml', 'versions.lock'].map((name) =>
      stat(join(this.dir, name)).then((s) => `${s.ino}:${s.mtimeMs}:${s.size}`, () => '-')));
    return parts.join('|');
  }

  /** Reloads one at a time (a slow reload never lands after a newer one). */
  reload(): Promise<boolean> {
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.catch(() => false);
    return run;
  }

  private async reloadNow(): Promise<boolean> {
    try {
      const next = await readPromptDirectory(this.dir);
      // A served version whose content changed (its lock entry rewritten with it) is refused: versions are immutable.
      const changed = this.directory === undefined ? [] : next.checked.versions.filter((v) => {
        const served = this.directory!.version(v.id, v.version);
        return served !== undefined && served.sha256 !== v.sha256;
      });
      if (changed.length > 0) {
        throw new PromptRegistryError(changed.map((v) => `version ${v.version} of ${v.id} is served as ${this.directory!.version(v.id, v.version)!.sha256} and its file is now ${v.sha256}: released versions never change`));
      }
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
    if (this.poller !== undefined) clearInterval(this.poller);
  }

  private watchFiles(): void {
    // A folder that is gone for now: the poll arms the watcher again when it is back.
    this.watcher = watchFolder(this.dir, this.options.debounceMs ?? 100, () => void this.reload());
  }
}
