/**
 * Data files are private to the service user: the spool and the audit store
 * hold prompts and answers when capture is on, keys and budgets always. The CLI
 * sets the process umask to 077 (every file DuckDB, the spool or the OS creates
 * for Gatehouse is 0600, every directory 0700), and each data directory is
 * tightened at start, so files an earlier version or another tool created with
 * looser modes are fixed too.
 */
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from './log.js';

/** Makes new files 0600 and directories 0700 for the rest of this process (main thread only). */
export function restrictUmask(): void {
  try {
    process.umask(0o077);
  } catch {
    // worker threads cannot change the umask; files they create carry explicit modes
  }
}

/**
 * Creates `dir` (0700) if missing, and sets it to 0700 and every file and
 * directory inside (to `depth` levels) to 0600 / 0700 when group or others
 * may read them. Failures are logged, never thrown: a read-only mount must not
 * stop the gateway.
 */
export async function makePrivate(dir: string, depth = 2): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await tighten(dir, true);
    if (depth > 0) await tightenInside(dir, depth);
  } catch (error) {
    log.warn('could not make the data directory private to the service user', { dir, error });
  }
}

async function tightenInside(dir: string, depth: number): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await tighten(path, true);
      if (depth > 1) await tightenInside(path, depth - 1);
    } else if (entry.isFile()) {
      await tighten(path, false);
    }
  }
}

async function tighten(path: string, directory: boolean): Promise<void> {
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) await chmod(path, directory ? 0o700 : 0o600);
}
