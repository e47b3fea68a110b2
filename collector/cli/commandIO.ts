/**
 * What a CLI command may use: output sinks and access to the audit store.
 * From a shell, the store is opened from the file; inside a running collector
 * (remote commands), the collector's own open store is used.
 */
import { readFile } from 'node:fs/promises';
import { makePrivate } from '../../proxy/privateFiles.js';
import { dirname, join, resolve } from 'node:path';
import { AuditDatabase } from '../store/auditDatabase.js';
import { AuditWriter, type WriterOptions } from '../store/auditWriter.js';
import { keyIdOf, loadOrCreateSigningKey, PUBLIC_KEY_FILE, type SigningKey } from '../audit/signing.js';

export const DB_FILE = 'audit.duckdb';

export interface StoreHandle {
  db: AuditDatabase;
  /** Present when opened for writing. */
  writer?: AuditWriter;
  dataDir: string;
  /** The collector's own public key (derived from the key file outside the database). */
  trustedKeys: Map<string, string>;
  close(): Promise<void>;
}

export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /** Opens the store at `location`; 'write' also opens the chain writer and signing key. */
  store(location: StoreLocation, mode: 'read' | 'write'): Promise<StoreHandle>;
}

export interface StoreLocation { dataDir: string; dbFile: string }

/** Resolves --db / --data-dir (default $GATEHOUSE_DATA_DIR or ./data). The key lives next to the database. */
export function storeLocation(values: { db?: string | undefined; 'data-dir'?: string | undefined }): StoreLocation {
  if (values.db !== undefined) return { dbFile: resolve(values.db), dataDir: dirname(resolve(values.db)) };
  const dataDir = resolve(values['data-dir'] ?? process.env.GATEHOUSE_DATA_DIR ?? 'data');
  return { dataDir, dbFile: join(dataDir, DB_FILE) };
}

export async function openStore(location: StoreLocation, mode: 'read' | 'write', options: WriterOptions = {}): Promise<StoreHandle> {
  if (mode === 'write') await makePrivate(location.dataDir, 1);
  let key: SigningKey | undefined;
  if (mode === 'write') key = await loadOrCreateSigningKey(location.dataDir);
  const db = await AuditDatabase.open(location.dbFile, { readOnly: mode === 'read', ...(options.memoryLimit ? { memoryLimit: options.memoryLimit } : {}) });
  const trustedKeys = new Map<string, string>();
  if (key) trustedKeys.set(key.keyId, key.publicKeyPem);
  else {
    const pem = await readFile(join(location.dataDir, PUBLIC_KEY_FILE), 'utf8').catch(() => undefined);
    if (pem !== undefined) trustedKeys.set(keyIdOf(pem), pem);
  }
  const writer = key ? await AuditWriter.open(db, key, options) : undefined;
  return {
    db, writer, dataDir: location.dataDir, trustedKeys,
    async close() {
      await writer?.close();
      db.close();
    },
  };
}

const OPEN_IN_PROCESS = new Map<string, StoreHandle>();

/** Registers a store held open by a collector in this process, so commands reuse it instead of opening the file twice. */
export function shareStore(store: StoreHandle, dbFile: string): () => void {
  OPEN_IN_PROCESS.set(dbFile, store);
  return () => { if (OPEN_IN_PROCESS.get(dbFile) === store) OPEN_IN_PROCESS.delete(dbFile); };
}

/** IO for a shell: stdout/stderr and the store opened from its file (or shared with a collector in this process). */
export function shellIO(): CommandIO {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    store: async (location, mode) => {
      const shared = OPEN_IN_PROCESS.get(location.dbFile);
      if (shared !== undefined) return { ...shared, close: async () => undefined };
      return openStore(location, mode);
    },
  };
}

/** True for DuckDB's "file is locked by another process" error. */
export function isLockError(error: unknown): boolean {
  return error instanceof Error && /lock/i.test(error.message) && /conflicting|could not set lock/i.test(error.message);
}

/** Runs `work` on the store opened read-only, and closes it. */
export async function readStore<T>(io: CommandIO, values: { db?: string | undefined; 'data-dir'?: string | undefined }, work: (db: AuditDatabase) => Promise<T>): Promise<T> {
  const store = await io.store(storeLocation(values), 'read');
  try {
    return await work(store.db);
  } finally {
    await store.close();
  }
}
