/**
 * Watching a registry folder (agents, prompts): changes anywhere under it,
 * debounced into one call. A folder that is missing or whose watcher fails is
 * not an error here: the watch simply stops, and its owner may arm it again.
 */
import { watch, type FSWatcher } from 'node:fs';

export interface FolderWatch {
  close(): void;
}

export function watchFolder(dir: string, debounceMs: number, onChange: () => void): FolderWatch {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { recursive: true }, () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        onChange();
      }, debounceMs);
      timer.unref();
    });
    watcher.on('error', () => watcher?.close());
    watcher.unref();
  } catch {
    // The folder is gone for now.
  }
  return {
    close() {
      watcher?.close();
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
