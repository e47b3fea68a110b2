/**
 * The memory store's budget snapshot file: JSON, written to a temp file in the same
 * folder and renamed over the old one, so a crash mid-write leaves the previous
 * snapshot intact. Only asynchronous fs calls; never on the request path.
 */
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

const SnapshotSchema = z.object({
  /** 2: USD as pico-USD integer text (exact); 1 (older): USD as a number. */
  version: z.union([z.literal(1), z.literal(2)]),
  savedAt: z.number(),
  /** Counter id (`d:YYYY-MM-DD|scope:key` or `m:YYYY-MM|scope:key`) → [tokens, pico-USD]. */
  budgets: z.record(z.string(), z.tuple([z.number(), z.union([z.string().regex(/^-?\d{1,30}$/), z.number()])])),
  /** The journal entries (journal.ts) this snapshot includes: entries up to this sequence are not replayed. */
  journalSeq: z.number().int().nonnegative().optional(),
});

export type BudgetSnapshot = z.infer<typeof SnapshotSchema>;

/** The snapshot at `path`, or undefined when there is none yet. A corrupt file is an error naming the path. */
export async function readSnapshot(path: string): Promise<BudgetSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new Error(`${path}: budget snapshot is not valid JSON; fix or remove it to start with empty budgets`, { cause });
  }
  const result = SnapshotSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${path}: budget snapshot ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

let sequence = 0;

/**
 * Writes atomically: temp file, then rename. Creates the folder when missing.
 * With `fsync`, the file and then its folder are flushed, so the snapshot is on
 * disk before the journal it replaces is deleted (survives power loss too).
 */
export async function writeSnapshot(path: string, snapshot: BudgetSnapshot, fsync = false): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${++sequence}.tmp`;
  if (!fsync) {
    await writeFile(temp, JSON.stringify(snapshot), { mode: 0o600 });
    await rename(temp, path);
    return;
  }
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(JSON.stringify(snapshot));
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
