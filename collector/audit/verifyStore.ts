/**
 * Verification of the DuckDB store itself: the whole remaining chain, its
 * checkpoints, and retention records as anchors for deleted prefixes. Trusted
 * keys are passed in (the data directory's public key, or keys the auditor
 * pins); keys recorded only in the database are not trusted.
 */
import type { AuditDatabase } from '../store/auditDatabase.js';
import { withChainRows } from '../store/chainRows.js';
import type { Checkpoint } from './signing.js';
import { verifyChain, type VerifyReport } from './verifyChain.js';

export async function loadCheckpoints(db: AuditDatabase, where = ''): Promise<Checkpoint[]> {
  const rows = await db.query(`SELECT chain_id, seq, hash, time, key_id, signature FROM checkpoints ${where} ORDER BY seq`);
  return rows.map((r) => ({
    chain_id: String(r.chain_id), seq: Number(r.seq), hash: String(r.hash), time: String(r.time),
    key_id: String(r.key_id), signature: String(r.signature),
  }));
}

/** seq -> prev_hash of the first row kept after each retention deletion. */
export async function retentionAnchors(db: AuditDatabase): Promise<Map<number, string>> {
  const rows = await db.query(`SELECT details FROM audit_records WHERE record_type = 'retention'`);
  const anchors = new Map<number, string>();
  for (const r of rows) {
    const d = JSON.parse(String(r.details)) as { deleted_to_seq?: number; deleted_last_hash?: string };
    if (typeof d.deleted_to_seq === 'number' && typeof d.deleted_last_hash === 'string') anchors.set(d.deleted_to_seq + 1, d.deleted_last_hash);
  }
  return anchors;
}

export async function verifyStore(db: AuditDatabase, trustedKeys: ReadonlyMap<string, string>): Promise<VerifyReport> {
  const chainId = await db.chainId();
  const connection = await db.connect();
  const lookup = await db.connect();
  try {
    const ctx = { chainId, checkpoints: await loadCheckpoints(db), publicKeys: trustedKeys, anchors: await retentionAnchors(db) };
    return await withChainRows(connection, 'audit_records', lookup, {}, (rows) => verifyChain(rows, ctx));
  } finally {
    connection.closeSync();
    lookup.closeSync();
  }
}
