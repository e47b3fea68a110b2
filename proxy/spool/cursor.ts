/**
 * The shipper's resume point: every frame before (`segment`, `offset`) has been
 * acknowledged by the collector. Stored as `cursor.json` in the spool
 * directory, replaced atomically (write a temporary file, then rename), so a
 * crash leaves either the old or the new cursor. A missing or unreadable
 * cursor means "start from the oldest segment": at-least-once, never loss.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export interface Cursor {
  segment: number;
  offset: number;
}

export const START: Cursor = { segment: 0, offset: 0 };

function cursorPath(dir: string): string {
  return join(dir, 'cursor.json');
}

export async function readCursor(dir: string): Promise<Cursor> {
  try {
    const parsed: unknown = JSON.parse(await readFile(cursorPath(dir), 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'segment' in parsed && 'offset' in parsed) {
      const { segment, offset } = parsed;
      if (Number.isSafeInteger(segment) && Number.isSafeInteger(offset)) {
        return { segment: segment as number, offset: offset as number };
      }
    }
  } catch {
    // Missing or torn: fall back to the start.
  }
  return START;
}

/** Persists `cursor`; with `fsync`, the new cursor also survives a machine crash. */
export async function writeCursor(dir: string, cursor: Cursor, fsync: boolean): Promise<void> {
  const temporary = `${cursorPath(dir)}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(cursor));
    if (fsync) await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temporary, cursorPath(dir));
}
