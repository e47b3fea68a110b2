/**
 * Reads a stopped collector's DuckDB file directly (read-only), as an auditor
 * with the file would: the request records and their identities.
 */
import { join } from 'node:path';
import { AuditDatabase, type Row } from '../../collector/store/auditDatabase.js';

export interface RequestRecords {
  rows: number;
  distinctSpanIds: number;
  requestIds: Set<string>;
}

/** Runs `work` on `<dataDir>/audit.duckdb` opened read-only, then closes it. */
export async function withAuditFile<T>(dataDir: string, work: (db: AuditDatabase) => Promise<T>): Promise<T> {
  const db = await AuditDatabase.open(join(dataDir, 'audit.duckdb'), { readOnly: true });
  try {
    return await work(db);
  } finally {
    db.close();
  }
}

/** Counts of the `request` records and their request ids. */
export function requestRecords(dataDir: string): Promise<RequestRecords> {
  return withAuditFile(dataDir, async (db) => {
    const [counts] = await db.query(`SELECT count(*) AS n, count(DISTINCT span_id) AS spans FROM audit_records WHERE record_type = 'request'`);
    const ids = await db.query(`SELECT request_id FROM audit_records WHERE record_type = 'request'`);
    return {
      rows: Number(counts?.n),
      distinctSpanIds: Number(counts?.spans),
      requestIds: new Set(ids.map((r: Row) => String(r.request_id))),
    };
  });
}
