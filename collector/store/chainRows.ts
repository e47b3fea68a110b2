/**
 * Streams chain rows, sorted by seq, from any DuckDB relation with the
 * audit_records columns (the table itself, or read_parquet over an export).
 * TIMESTAMP columns are read as integer microseconds (their hashed form),
 * BIGINTs as numbers.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AuditRecord, RecordValue } from '../audit/columns.js';
import type { ChainRow } from '../audit/verifyChain.js';
import { toCanonical } from './fastCanonical.js';

export interface RelationColumn { name: string; type: string }

/** Columns of a relation (e.g. `audit_records` or `read_parquet([...])`). */
export async function relationColumns(connection: DuckDBConnection, relation: string): Promise<RelationColumn[]> {
  const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  return reader.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
}

function convert(v: unknown): RecordValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map((e) => String(e));
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return String(v);
}

/**
 * Yields batches of rows from `relation` ordered by seq. `linkFlag`, when given,
 * names a BOOLEAN column that marks link rows; it is not part of the record.
 * `exclude` lists columns that are not record columns (e.g. a partition `date`).
 */
export async function* streamChainRows(
  connection: DuckDBConnection,
  relation: string,
  options: { where?: string; linkFlag?: string; exclude?: readonly string[] } = {},
): AsyncGenerator<ChainRow[]> {
  const skip = new Set([...(options.exclude ?? []), ...(options.linkFlag ? [options.linkFlag] : [])]);
  const columns = (await relationColumns(connection, relation)).filter((c) => !skip.has(c.name));
  const select = columns.map((c) => (c.type.startsWith('TIMESTAMP') ? `epoch_us("${c.name}") AS "${c.name}"` : `"${c.name}"`));
  if (options.linkFlag) select.push(`"${options.linkFlag}"`);
  const sql = `SELECT ${select.join(', ')} FROM ${relation}${options.where ? ` WHERE ${options.where}` : ''} ORDER BY seq`;
  const result = await connection.stream(sql);
  const linkIndex = options.linkFlag ? columns.length : -1;
  for await (const rows of result.yieldRowsJs()) {
    const batch: ChainRow[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as unknown[];
      const record: AuditRecord = {};
      for (let i = 0; i < columns.length; i++) record[(columns[i] as RelationColumn).name] = convert(row[i]);
      batch[r] = { record, link: linkIndex >= 0 && row[linkIndex] === true };
    }
    yield batch;
  }
}

/**
 * Like streamChainRows, but for speed each row crosses from DuckDB as one string
 * (DuckDB's to_json of the hashed columns, normalised to canonical JSON in
 * `canonical`) plus chain_id/seq/prev_hash/hash. `full()` loads the complete row
 * for the exact check when the fast form does not match.
 */
export async function* streamChainRowsFast(
  connection: DuckDBConnection,
  relation: string,
  /** A second connection on the same data, for `full()` while the stream is open. */
  lookup: DuckDBConnection,
  options: { linkFlag?: string; exclude?: readonly string[] } = {},
): AsyncGenerator<ChainRow[]> {
  const skip = new Set([...(options.exclude ?? []), ...(options.linkFlag ? [options.linkFlag] : [])]);
  const columns = (await relationColumns(connection, relation)).filter((c) => !skip.has(c.name));
  const hashed = columns.filter((c) => c.name !== 'hash').sort((a, b) => (a.name < b.name ? -1 : 1));
  const fields = hashed.map((c) => `"${c.name}" := ${c.type.startsWith('TIMESTAMP') ? `epoch_us("${c.name}")` : `"${c.name}"`}`);
  const doubles = hashed.filter((c) => c.type === 'DOUBLE').map((c) => c.name);
  const link = options.linkFlag ? `"${options.linkFlag}"` : 'false';
  const sql = `SELECT chain_id, seq, prev_hash, hash, ${link}, to_json(struct_pack(${fields.join(', ')}))::VARCHAR FROM ${relation} ORDER BY seq`;
  const result = await connection.stream(sql);
  for await (const rows of result.yieldRowsJs()) {
    const batch: ChainRow[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as unknown[];
      const seq = Number(row[1]);
      const isLink = row[4] === true;
      batch[r] = {
        record: { chain_id: convert(row[0]), seq, prev_hash: convert(row[2]), hash: convert(row[3]) },
        link: isLink,
        canonical: isLink ? undefined : toCanonical(String(row[5]), doubles),
        full: async () => {
          for await (const b of streamChainRows(lookup, relation, { ...options, where: `seq = ${seq}` })) {
            const found = b.find((x) => x.link === isLink);
            if (found) return found.record;
          }
          throw new Error(`row ${seq} disappeared`);
        },
      };
    }
    yield batch;
  }
}
