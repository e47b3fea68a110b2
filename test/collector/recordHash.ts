/** Recomputes a stored record's hash the way an auditor would: all columns but `hash`, timestamps as epoch microseconds. */
import { recordHash } from '../../collector/audit/hashChain.js';
import type { AuditDatabase } from '../../collector/store/auditDatabase.js';
import { streamChainRows } from '../../collector/store/chainRows.js';

export async function recordHashOf(db: AuditDatabase, seq: number): Promise<string> {
  for await (const batch of streamChainRows(db.connection, 'audit_records', { where: `seq = ${seq}` })) {
    const row = batch[0];
    if (row) return recordHash(row.record);
  }
  throw new Error(`no row ${seq}`);
}
