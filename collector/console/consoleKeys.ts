/**
 * Who may open the console: console keys, one per person (or per service that
 * reads the console's JSON), each with a role and a tenant. Only `sha256:`
 * hashes are kept, in `<data dir>/console-keys.json` (mode 0600); a running
 * console re-reads the file within seconds, and a revoked key's sessions end at
 * their next request.
 *
 * Roles (docs/console.md): `viewer` (costs and budgets), `auditor` (costs,
 * requests, records, audit integrity and export, agents, prompts), `approver`
 * (the approval queue, and costs), `admin` (everything). `tenant: "*"` is global;
 * any other tenant sees only its own rows.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { hashKey } from '../../proxy/identity/keyHash.js';
import { log } from '../../proxy/log.js';

export const CONSOLE_KEYS_FILE = 'console-keys.json';
export const CONSOLE_ROLES = ['viewer', 'auditor', 'approver', 'admin'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];
/** The tenant of a key that sees every tenant. */
export const GLOBAL_TENANT = '*';

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
export const CONSOLE_KEY_ID_RULE = '1 to 128 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit';

const entrySchema = z.strictObject({
  id: z.string().regex(ID, `expected ${CONSOLE_KEY_ID_RULE}`),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 lowercase hex>'),
  role: z.enum(CONSOLE_ROLES),
  tenant: z.string().min(1).max(256),
  /** The person: an approver's decisions are recorded under this name. */
  user: z.string().min(1).max(256).optional(),
  created_at: z.string().optional(),
});
const fileSchema = z.strictObject({ keys: z.array(entrySchema) });

export type ConsoleKeyEntry = z.infer<typeof entrySchema>;

export function consoleKeysPath(dataDir: string): string {
  return join(dataDir, CONSOLE_KEYS_FILE);
}

export function validConsoleKeyId(id: string): boolean {
  return ID.test(id);
}

/** Parses the file's JSON; throws with the path and the entry at fault. */
export function parseConsoleKeys(text: string, file: string): ConsoleKeyEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message})`);
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const seen = new Set<string>();
  for (const [i, k] of result.data.keys.entries()) {
    if (seen.has(k.id)) throw new Error(`${file}: keys.${i}.id: '${k.id}' appears twice`);
    seen.add(k.id);
  }
  return result.data.keys;
}

export async function readConsoleKeys(file: string): Promise<ConsoleKeyEntry[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return text === undefined ? [] : parseConsoleKeys(text, file);
}

/** Writes the file atomically, mode 0600, after checking it parses. */
export async function writeConsoleKeys(file: string, keys: readonly ConsoleKeyEntry[]): Promise<void> {
  const text = `${JSON.stringify({ keys }, null, 2)}\n`;
  parseConsoleKeys(text, file);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, file);
}

/** The console keys in force, re-read when the file changes. */
export class ConsoleKeys {
  private byHash = new Map<string, ConsoleKeyEntry>();
  private byId = new Map<string, ConsoleKeyEntry>();
  private version = -1;
  private timer: NodeJS.Timeout | undefined;

  private constructor(readonly file: string) {}

  static async open(file: string, reloadMs = 2_000): Promise<ConsoleKeys> {
    const keys = new ConsoleKeys(file);
    await keys.reload();
    keys.timer = setInterval(() => void keys.reload().catch((error: unknown) => {
      log.error('console: console keys file is invalid; keeping the keys loaded before', { file, error: String(error) });
    }), reloadMs);
    keys.timer.unref();
    return keys;
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * The key's entry, looked up by digest (timing reveals at most a prefix of a
   * hash). An unknown key first re-reads the file if it changed (one stat), so
   * a key made a moment ago works at once.
   */
  async authenticate(secret: string): Promise<ConsoleKeyEntry | undefined> {
    if (secret === '') return undefined;
    const hash = hashKey(secret);
    const found = this.byHash.get(hash);
    if (found !== undefined) return found;
    await this.reload().catch(() => undefined);
    return this.byHash.get(hash);
  }

  /** The entry now in force for an id (undefined once revoked). */
  current(id: string): ConsoleKeyEntry | undefined {
    return this.byId.get(id);
  }

  close(): void {
    clearInterval(this.timer);
  }

  async reload(): Promise<void> {
    const info = await stat(this.file).catch(() => undefined);
    const version = info ? info.mtimeMs + info.size : 0;
    if (version === this.version) return;
    const entries = await readConsoleKeys(this.file);
    this.byHash = new Map(entries.map((e) => [e.hash, e]));
    this.byId = new Map(entries.map((e) => [e.id, e]));
    this.version = version;
  }
}
