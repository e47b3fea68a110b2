/**
 * Verification of the DuckDB store itself: the whole remaining chain, its
 * checkpoints, and retention records as anchors for deleted prefixes. Trusted
 * keys are passed in (the data directory's public key, or keys the auditor
 * pins); keys recorded only in the database are not trusted.
 */
import type { AuditDatabase } from '../store/auditDatabase.js';
import { withChainRows } from '../store/chainRows.js';
import { checkpointSignatureValid, type Checkpoint } from './signing.js';
import { verifyChain, type VerifyReport } from './verifyChain.js';

export async function loadCheckpoints(db: AuditDatabase, where = ''): Promise<Checkpoint[]> {
  const rows = await db.query(`SELECT chain_id, seq, hash, time, key_id, signature FROM checkpoints ${where} ORDER BY seq`);
  return rows.map((r) => ({
    chain_id: String(r.chain_id), seq: Number(r.seq), hash: String(r.hash), time: String(r.time),
    key_id: String(r.key_id), signature: String(r.signature),
  }));
}

/**
 * seq -> prev_hash of the first row kept after each retention deletion, from
 * retention records at or below `signedTo`: a retention record counts only once
 * a signed checkpoint covers it (the collector signs one in the same
 * transaction), so a record forged at the unsigned end cannot excuse a deleted
 * prefix. The chain check then proves the covered rows match the checkpoint.
 */
export async function retentionAnchors(db: AuditDatabase, signedTo: number): Promise<Map<number, string>> {
  const rows = await db.query(`SELECT details FROM audit_records WHERE record_type = 'retention' AND seq <= $1`, [signedTo]);
  const anchors = new Map<number, string>();
  for (const r of rows) {
    const d = JSON.parse(String(r.details)) as { deleted_to_seq?: number; deleted_last_hash?: string };
    if (typeof d.deleted_to_seq === 'number' && typeof d.deleted_last_hash === 'string') anchors.set(d.deleted_to_seq + 1, d.deleted_last_hash);
  }
  return anchors;
}

/** The highest seq a checkpoint of this chain, signed by a trusted key, covers (0 if none). */
function lastTrustedCheckpoint(checkpoints: readonly Checkpoint[], keys: ReadonlyMap<string, string>, chainId: string): number {
  let last = 0;
  for (const c of checkpoints) {
    const key = keys.get(c.key_id);
    if (c.chain_id === chainId && c.seq > last && key !== undefined && checkpointSignatureValid(c, key)) last = c.seq;
  }
  return last;
}

export async function verifyStore(db: AuditDatabase, trustedKeys: ReadonlyMap<string, string>): Promise<VerifyReport> {
  const chainId = await db.chainId();
  const connection = await db.connect();
  const lookup = await db.connect();
  try {
    const checkpoints = await loadCheckpoints(db);
    const anchors = await retentionAnchors(db, lastTrustedCheckpoint(checkpoints, trustedKeys, chainId));
    const ctx = { chainId, checkpoints, publicKeys: trustedKeys, anchors };
    return await withChainRows(connection, 'audit_records', lookup, {}, (rows) => verifyChain(rows, ctx));
  } finally {
    connection.closeSync();
    lookup.closeSync();
  }
}

/**
 * Checks the records after the last checkpoint before a writer signs them:
 * the checkpointed row still matches its signature, and every later row hashes
 * to its stored hash and links to the one before. A writer that skipped this
 * would sign over rows edited while the collector was stopped, and make the
 * edit verifiable. Cost: the unsigned tail only (at most N records or T seconds).
 */
export async function verifyUnsignedTail(db: AuditDatabase, trustedKeys: ReadonlyMap<string, string>): Promise<VerifyReport> {
  const chainId = await db.chainId();
  const last = await loadCheckpoints(db, 'WHERE seq = (SELECT max(seq) FROM checkpoints)');
  const from = last[0]?.seq ?? 1;
  const anchors = new Map<number, string>();
  if (last[0] !== undefined) {
    const row = await db.query('SELECT prev_hash FROM audit_records WHERE seq = $1', [from]);
    if (row[0] !== undefined) anchors.set(from, String(row[0].prev_hash));
  }
  const connection = await db.connect();
  const lookup = await db.connect();
  try {
    const ctx = { chainId, checkpoints: last.slice(0, 1), publicKeys: trustedKeys, anchors };
    return await withChainRows(connection, `(SELECT * FROM audit_records WHERE seq >= ${from})`, lookup, {}, (rows) => verifyChain(rows, ctx));
  } finally {
    connection.closeSync();
    lookup.closeSync();
  }
}
