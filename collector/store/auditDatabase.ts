/**
 * One DuckDB file holding the audit store. Opening read-write creates the
 * schema and the chain identity on first use. DuckDB allows one writing process
 * per file: while a collector runs, other processes reach the store through it
 * (see cli/remote.ts).
 */
import { randomUUID } from 'node:crypto';
import { DuckDBConnection, DuckDBInstance, DuckDBTypeId, type DuckDBValue } from '@duckdb/node-api';
import { migrate } from './schema.js';

export type Row = Record<string, unknown>;

/**
 * WAL size that triggers a DuckDB checkpoint. Until a checkpoint, committed rows
 * live in memory and in the WAL, so this bounds both (the default 16 MB would
 * checkpoint every ~13,000 records; 256 MB, the value before, let the WAL reach
 * ~200 MB and the memory with it). A checkpoint re-compresses the table's last,
 * partly filled row group and pauses commits meanwhile; at 64 MB that is about
 * every 50,000 records, a pause of under a second (measured: BENCHMARKS.md, soak).
 */
const CHECKPOINT_THRESHOLD = '64MB';

/**
 * DuckDB's memory_limit: its buffers, the uncheckpointed rows and the
 * de-duplication index (dedupeKeys.ts), which is not evictable. DuckDB's own
 * default is 80% of the machine's memory; a collector sharing a host must not
 * take that. Past the limit a commit fails, the OTLP sender gets 503 and keeps
 * the records in its spool: nothing is lost, and the alert is the shipping lag.
 */
export const DEFAULT_MEMORY_LIMIT = '512MB';

/** Freed memory DuckDB's allocator may keep before returning it to the OS (DuckDB's default: 128 MB, which shows as RSS that never falls). */
const ALLOCATOR_FLUSH_THRESHOLD = '32MB';

/** Converts DuckDB JS values to plain values: BIGINT -> number (when safe) else string; Date stays Date. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

export class AuditDatabase {
  private constructor(
    readonly file: string,
    readonly instance: DuckDBInstance,
    /** The writing connection (ingest transactions, DDL). */
    readonly connection: DuckDBConnection,
    /** Connection for `query`, so reads never run inside an ingest transaction. */
    private readonly reads: DuckDBConnection,
    readonly readOnly: boolean,
  ) {}

  /** Opens (and in read-write mode creates and migrates) the store at `file`. */
  static async open(file: string, options: { readOnly?: boolean; memoryLimit?: string } = {}): Promise<AuditDatabase> {
    const readOnly = options.readOnly ?? false;
    const memory_limit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
    const instance = await DuckDBInstance.create(file, readOnly
      ? { access_mode: 'READ_ONLY', memory_limit }
      : { checkpoint_threshold: CHECKPOINT_THRESHOLD, memory_limit, allocator_flush_threshold: ALLOCATOR_FLUSH_THRESHOLD });
    const connection = await instance.connect();
    const db = new AuditDatabase(file, instance, connection, await instance.connect(), readOnly);
    if (!readOnly) {
      await migrate(connection, file);
      const chains = await db.query('SELECT chain_id FROM chain');
      if (chains.length === 0) await connection.run('INSERT INTO chain VALUES ($1, now())', [randomUUID()]);
    }
    return db;
  }

  /** A second connection on the same file, for reads that must not wait behind ingest. */
  async connect(): Promise<DuckDBConnection> {
    return this.instance.connect();
  }

  async chainId(): Promise<string> {
    const rows = await this.query('SELECT chain_id FROM chain LIMIT 1');
    const id = rows[0]?.chain_id;
    if (typeof id !== 'string') throw new Error(`${this.file} has no audit chain`);
    return id;
  }

  /**
   * Runs a query (on the read connection unless told otherwise) and returns row
   * objects with plain JS values. DECIMAL values (money) come back as their
   * exact decimal text, never as binary floats.
   */
  async query(sql: string, params: DuckDBValue[] = [], connection: DuckDBConnection = this.reads): Promise<Row[]> {
    const reader = await connection.runAndReadAll(sql, params);
    const names = reader.columnNames();
    const decimals = reader.columnTypes().flatMap((t, i) => (t.typeId === DuckDBTypeId.DECIMAL ? [i] : []));
    const exact = decimals.length === 0 ? undefined : reader.getRows();
    return reader.getRowObjectsJS().map((row, r) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(row)) out[k] = plain(v);
      for (const i of decimals) {
        const v = exact?.[r]?.[i];
        out[names[i] as string] = v === null || v === undefined ? null : String(v);
      }
      return out;
    });
  }

  /** Runs `work` in one transaction; rolls back and rethrows on failure. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.connection.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.connection.run('COMMIT');
      return result;
    } catch (error) {
      await this.connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Closes the file; safe to call twice. */
  close(): void {
    try {
      this.reads.closeSync();
      this.connection.closeSync();
      this.instance.closeSync();
    } catch {
      // already closed
    }
  }
}
