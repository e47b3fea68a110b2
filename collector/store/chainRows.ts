/**
 * Streams chain rows, sorted by seq, from any DuckDB relation with the
 * audit_records columns (the table itself, or read_parquet over an export).
 * TIMESTAMP columns are read as integer microseconds (their hashed form),
 * BIGINTs as numbers.
 */
import type { DuckDBBigIntVector, DuckDBBlobVector, DuckDBBooleanVector, DuckDBConnection, DuckDBVarCharVector } from '@duckdb/node-api';
import type { AuditRecord, RecordValue } from '../audit/columns.js';
import type { ChainRow } from '../audit/verifyChain.js';
import { canonicalJsonSql, lowercaseEscapes } from './fastCanonical.js';

export interface RelationColumn { name: string; type: string }

/** Columns of a relation (e.g. `audit_records` or `read_parquet([...])`). */
export async function relationColumns(connection: DuckDBConnection, relation: string): Promise<RelationColumn[]> {
  const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  return reader.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
}

/**
 * A column as its hashed value: TIMESTAMP as integer microseconds, DECIMAL as
 * its exact text (read as a JS value it would become a binary float).
 */
function selectAsHashed(c: RelationColumn): string {
  if (c.type.startsWith('TIMESTAMP')) return `epoch_us("${c.name}") AS "${c.name}"`;
  if (c.type.startsWith('DECIMAL')) return `"${c.name}"::VARCHAR AS "${c.name}"`;
  return `"${c.name}"`;
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
  const select = columns.map((c) => selectAsHashed(c));
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

/** The stored order of the rows is not seq order: verify again over a sorted stream (see withChainRows). */
export class OutOfOrder extends Error {}

export interface FastStreamOptions {
  linkFlag?: string;
  exclude?: readonly string[];
  /**
   * Sort by seq in DuckDB. Unsorted, rows come in stored order (DuckDB keeps
   * insertion order, and the writer inserts in seq order), which spares a sort of
   * every row; the stream then yields only rows that continue the lowest seq
   * without a gap (min, min+1, ...), which is exactly the sorted order, and throws
   * OutOfOrder at the first row that does not, before that row's batch is
   * yielded. A gap or duplicate is therefore always judged on the sorted stream,
   * and verdicts do not depend on the choice.
   */
  sorted?: boolean;
}

/**
 * Like streamChainRows, but for speed each row crosses from DuckDB as its
 * canonical JSON bytes, computed in SQL (fastCanonical.ts), plus
 * chain_id/seq/prev_hash/hash. `full()` loads the complete row for the exact
 * check when the fast form does not hash to the stored hash.
 */
export async function* streamChainRowsFast(
  connection: DuckDBConnection,
  relation: string,
  /** A second connection on the same data, for `full()` while the stream is open. */
  lookup: DuckDBConnection,
  options: FastStreamOptions = {},
): AsyncGenerator<ChainRow[]> {
  const skip = new Set([...(options.exclude ?? []), ...(options.linkFlag ? [options.linkFlag] : [])]);
  const columns = (await relationColumns(connection, relation)).filter((c) => !skip.has(c.name));
  const hashed = columns.filter((c) => c.name !== 'hash');
  const link = options.linkFlag ? `"${options.linkFlag}"` : 'false';
  const sql = `SELECT seq, hash, prev_hash, chain_id, is_link, encode(${lowercaseEscapes('j')}) AS canonical
    FROM (SELECT seq, hash, prev_hash, chain_id, ${link} AS is_link, CASE WHEN ${link} THEN NULL ELSE ${canonicalJsonSql(hashed)} END AS j
          FROM ${relation}${options.sorted ? ' ORDER BY seq' : ''})`;
  const full = (seq: number, isLink: boolean) => async (): Promise<AuditRecord> => {
    for await (const b of streamChainRows(lookup, relation, { linkFlag: options.linkFlag, exclude: options.exclude, where: `seq = ${seq}` })) {
      const found = b.find((x) => x.link === isLink);
      if (found) return found.record;
    }
    throw new Error(`row ${seq} disappeared`);
  };
  let previous = Number.NaN;
  if (!options.sorted) {
    const min = (await connection.runAndReadAll(`SELECT min(seq) FROM ${relation}`)).getRows()[0]?.[0];
    previous = min === null || min === undefined ? Number.NaN : Number(min) - 1;
  }
  const result = await connection.stream(sql);
  for await (const chunk of result) {
    const n = chunk.rowCount;
    const seqs = chunk.getColumnVector(0) as DuckDBBigIntVector;
    const hashes = chunk.getColumnVector(1) as DuckDBVarCharVector;
    const prevHashes = chunk.getColumnVector(2) as DuckDBVarCharVector;
    const chainIds = chunk.getColumnVector(3) as DuckDBVarCharVector;
    const links = chunk.getColumnVector(4) as DuckDBBooleanVector;
    const canonical = chunk.getColumnVector(5) as DuckDBBlobVector;
    const batch: ChainRow[] = new Array(n);
    for (let r = 0; r < n; r++) {
      const rawSeq = seqs.getItem(r);
      const seq = rawSeq === null ? NaN : Number(rawSeq);
      if (!options.sorted && seq !== previous + 1) throw new OutOfOrder(`seq ${seq} is stored after seq ${previous}`);
      previous = seq;
      const isLink = links.getItem(r) === true;
      batch[r] = {
        record: { chain_id: chainIds.getItem(r), seq, prev_hash: prevHashes.getItem(r), hash: hashes.getItem(r) },
        link: isLink,
        canonical: isLink ? undefined : canonical.getItemBytes(r) ?? undefined,
        full: full(seq, isLink),
      };
    }
    yield batch;
  }
}

/**
 * Runs `verify` over the fast stream in stored order, and once more over a
 * seq-sorted stream if the stored order turns out not to be seq order.
 */
export async function withChainRows<T>(
  connection: DuckDBConnection,
  relation: string,
  lookup: DuckDBConnection,
  options: Omit<FastStreamOptions, 'sorted'>,
  verify: (rows: AsyncIterable<ChainRow[]>) => Promise<T>,
): Promise<T> {
  try {
    return await verify(streamChainRowsFast(connection, relation, lookup, options));
  } catch (error) {
    if (!(error instanceof OutOfOrder)) throw error;
    return verify(streamChainRowsFast(connection, relation, lookup, { ...options, sorted: true }));
  }
}
