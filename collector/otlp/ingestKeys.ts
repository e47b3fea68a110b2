/**
 * Who may write the audit trail: one ingest key per gateway instance. A proxy
 * (or any OTLP exporter) sends its key as `Authorization: Bearer <key>`; the
 * collector keeps only `sha256:` hashes, in `<data dir>/ingest-keys.json`
 * (mode 0600), and the id of the matching entry becomes the record's
 * `gateway_instance`. Spans without a valid key never become audit records.
 *
 * The file is re-read when it changes (checked every `reloadMs`), so adding a
 * key for a new replica, or revoking one, needs no restart. Rotation: add the
 * new key, move the replica to it, then revoke the old one; a spool that was
 * written under the old key ships under the new one.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateIngestKey, hashKey } from '../../proxy/identity/keyHash.js';
import { log } from '../../proxy/log.js';

export const INGEST_KEYS_FILE = 'ingest-keys.json';
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const INGEST_KEY_ID_RULE = '1 to 128 of A-Z a-z 0-9 . _ : -, starting with a letter or digit';

/** Whether `id` may name an ingest key (it becomes the records' `gateway_instance`). */
export function validIngestKeyId(id: string): boolean {
  return ID.test(id);
}

export interface IngestKeyEntry {
  id: string;
  /** `sha256:<64 hex>` of the key. */
  hash: string;
  created_at?: string;
}

/** A key given to the collector in memory (the embedded default's own proxy). */
export interface IngestKeySecret { id: string; token: string }

export type AuthResult = { instance: string } | { refused: 'missing' | 'unknown' };

export { generateIngestKey };

export function ingestKeysPath(dataDir: string): string {
  return join(dataDir, INGEST_KEYS_FILE);
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space <= 0 || header.slice(0, space).toLowerCase() !== 'bearer') return undefined;
  return header.slice(space + 1).trim() || undefined;
}

/** Parses the file's JSON; throws with the path and the entry at fault. */
export function parseIngestKeys(text: string, file: string): IngestKeyEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message})`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error(`${file}: expected {"keys": [...]}`);
  const seen = new Set<string>();
  return keys.map((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    if (typeof e.id !== 'string' || !ID.test(e.id)) throw new Error(`${file}: keys[${i}].id: expected ${INGEST_KEY_ID_RULE}`);
    if (typeof e.hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(e.hash)) throw new Error(`${file}: keys[${i}].hash: expected sha256:<64 lowercase hex>`);
    if (seen.has(e.id)) throw new Error(`${file}: keys[${i}].id: '${e.id}' appears twice`);
    seen.add(e.id);
    return { id: e.id, hash: e.hash, ...(typeof e.created_at === 'string' ? { created_at: e.created_at } : {}) };
  });
}

export async function readIngestKeys(file: string): Promise<IngestKeyEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return parseIngestKeys(text, file);
}

/** Writes the file atomically, mode 0600; throws, writing nothing, when the collector could not read it back. */
export async function writeIngestKeys(file: string, keys: readonly IngestKeyEntry[]): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  const text = `${JSON.stringify({ keys }, null, 2)}\n`;
  parseIngestKeys(text, file);
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, file);
}

export class IngestKeys {
  private byHash = new Map<string, string>();
  private fileKeys: IngestKeyEntry[] = [];
  private mtimeMs = -1;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;

  private constructor(
    readonly file: string,
    private readonly secrets: readonly IngestKeySecret[],
  ) {}

  /** Loads the file (a missing file means no file keys) and watches it for changes. */
  static async open(file: string, secrets: readonly IngestKeySecret[] = [], reloadMs = 2_000): Promise<IngestKeys> {
    const keys = new IngestKeys(file, secrets);
    await keys.reload();
    keys.timer = setInterval(() => void keys.reloadIfChanged(), reloadMs);
    keys.timer.unref();
    return keys;
  }

  /** How many keys are accepted now. */
  get size(): number {
    return this.byHash.size;
  }

  /** The instance id of the key in an `Authorization` header, or why it was refused. */
  authenticate(authorization: string | undefined): AuthResult {
    const token = bearer(authorization);
    if (token === undefined) return { refused: 'missing' };
    // Looked up by digest: timing can reveal at most a prefix of a hash, never of a key.
    const instance = this.byHash.get(hashKey(token));
    return instance === undefined ? { refused: 'unknown' } : { instance };
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Re-reads the file when its mtime or size changed. A broken file keeps the keys loaded before and is logged. */
  reloadIfChanged(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        const info = await stat(this.file).catch(() => undefined);
        const mtime = info ? info.mtimeMs + info.size : 0;
        if (mtime !== this.mtimeMs) await this.reload();
      } catch (error) {
        log.error('collector: ingest keys file is invalid; keeping the keys loaded before', { file: this.file, error });
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  private async reload(): Promise<void> {
    const info = await stat(this.file).catch(() => undefined);
    const entries = await readIngestKeys(this.file);
    const byHash = new Map<string, string>();
    for (const s of this.secrets) byHash.set(hashKey(s.token), s.id);
    for (const e of entries) byHash.set(e.hash, e.id);
    const before = new Set(this.fileKeys.map((k) => k.id));
    const after = new Set(entries.map((k) => k.id));
    if (this.mtimeMs !== -1) {
      const added = [...after].filter((id) => !before.has(id));
      const removed = [...before].filter((id) => !after.has(id));
      if (added.length + removed.length > 0) log.info('collector: ingest keys reloaded', { file: this.file, added, removed });
    }
    this.fileKeys = entries;
    this.byHash = byHash;
    this.mtimeMs = info ? info.mtimeMs + info.size : 0;
  }
}
