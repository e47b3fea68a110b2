/**
 * `audit export`: writes the records the collector received in [from, to)
 * (a contiguous seq range, because received_at grows with seq) as zstd Parquet
 * partitioned by received date (`records/date=YYYY-MM-DD/*.parquet`), or CSV,
 * plus `tool_calls`, `chain_links` (tenant-filtered exports: seq/prev_hash/hash
 * of other tenants' rows, so the chain stays verifiable without revealing them)
 * and `manifest.json` (sha256 and rows of every file, checkpoints, public keys),
 * signed with the checkpoint key so that no field of it can be changed unseen.
 * Before export, the rows after the last checkpoint are verified and the last
 * exported row is signed, so every export ends on a signed checkpoint.
 * Call inside AuditWriter.exclusive().
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { A } from '../../proxy/telemetry/attributes.js';
import { AUDIT_COLUMNS, columnFor } from '../audit/columns.js';
import { GENESIS_HASH } from '../audit/hashChain.js';
import type { Checkpoint } from '../audit/signing.js';
import { verifyChain } from '../audit/verifyChain.js';
import { loadCheckpoints } from '../audit/verifyStore.js';
import type { AuditDatabase } from '../store/auditDatabase.js';
import type { AuditWriter } from '../store/auditWriter.js';
import { streamChainRows } from '../store/chainRows.js';
import { MANIFEST_FILE, type Manifest, type ManifestFile } from './manifest.js';

export interface ExportOptions {
  from: Date;
  to: Date;
  tenant?: string;
  outDir: string;
  format?: 'parquet' | 'csv';
}

const TENANT = columnFor(A.tenant);

/**
 * Timestamps leave as TIMESTAMP WITH TIME ZONE (Parquet isAdjustedToUTC): the
 * store's naive UTC values, marked UTC, so a reader's session time zone cannot
 * shift them. The instant (epoch_us) is unchanged, and so is the hash.
 */
const RECORD_COLUMNS = `* REPLACE (${AUDIT_COLUMNS.filter((c) => c.type === 'TIMESTAMP').map((c) => `timezone('UTC', "${c.name}") AS "${c.name}"`).join(', ')})`;
const TOOL_CALL_COLUMNS = `t.* REPLACE (timezone('UTC', t.start_time) AS start_time)`;

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

/** Verifies rows after the last checkpoint <= lastSeq and signs lastSeq if it is not signed yet. */
async function signEnd(db: AuditDatabase, writer: AuditWriter, lastSeq: number, trustedKeys: ReadonlyMap<string, string>): Promise<void> {
  const earlier = await loadCheckpoints(db, `WHERE seq <= ${lastSeq}`);
  const last = earlier.at(-1);
  if (last?.seq === lastSeq) return;
  const from = last?.seq ?? 0;
  const connection = await db.connect();
  try {
    const report = await verifyChain(streamChainRows(connection, 'audit_records', { where: `seq > ${from} AND seq <= ${lastSeq}` }), {
      checkpoints: [], publicKeys: trustedKeys, acceptAnyStart: true,
    });
    const first = await db.query(`SELECT prev_hash FROM audit_records WHERE seq = ${from + 1}`);
    const expected = last?.hash ?? (from === 0 ? GENESIS_HASH : undefined);
    if (!report.ok || (expected !== undefined && first[0]?.prev_hash !== expected)) {
      throw new Error(`refusing to sign seq ${lastSeq}: the chain after the last checkpoint does not verify (${report.failure?.reason ?? 'broken_link'} at seq ${report.failure?.seq ?? from + 1}); run 'audit verify'`);
    }
  } finally {
    connection.closeSync();
  }
  await writer.signAtLocked(lastSeq);
}

export async function exportAudit(db: AuditDatabase, writer: AuditWriter, options: ExportOptions, trustedKeys: ReadonlyMap<string, string>): Promise<Manifest> {
  const format = options.format ?? 'parquet';
  await mkdir(options.outDir, { recursive: true });
  if ((await readdir(options.outDir)).length > 0) throw new Error(`${options.outDir} is not empty; exports never overwrite`);
  const range = `received_at >= make_timestamp(${options.from.getTime() * 1000}) AND received_at < make_timestamp(${options.to.getTime() * 1000})`;
  const bounds = await db.query(`SELECT min(seq) AS first, max(seq) AS last FROM audit_records WHERE ${range}`);
  const first = bounds[0]?.first === null ? undefined : Number(bounds[0]?.first);
  const last = bounds[0]?.last === null ? undefined : Number(bounds[0]?.last);
  if (last !== undefined) await signEnd(db, writer, last, trustedKeys);

  const seqRange = first === undefined ? 'false' : `seq BETWEEN ${first} AND ${last}`;
  const tenantFilter = options.tenant === undefined ? '' : ` AND ${TENANT} = ${sqlString(options.tenant)}`;
  const copyOptions = format === 'parquet' ? 'FORMAT parquet, COMPRESSION zstd' : 'FORMAT csv, HEADER true';
  const ext = format === 'parquet' ? 'parquet' : 'csv';
  const out = (p: string): string => sqlString(join(options.outDir, p));
  const connection = await db.connect();
  try {
    // One COPY per day: received_at grows with seq, so each day is a contiguous seq range, read without a sort.
    // Rows are written in stored order, which is seq order for a store this collector wrote; readers sort by seq.
    const days = first === undefined ? [] : await db.query(
      `SELECT strftime(received_at, '%Y-%m-%d') AS day, min(seq) AS lo, max(seq) AS hi FROM audit_records WHERE ${seqRange}${tenantFilter} GROUP BY 1 ORDER BY 2`,
    );
    for (const { day, lo, hi } of days) {
      const dayDir = join(options.outDir, 'records', `date=${String(day)}`);
      await mkdir(dayDir, { recursive: true });
      await connection.run(
        `COPY (SELECT ${RECORD_COLUMNS} FROM audit_records WHERE seq BETWEEN ${Number(lo)} AND ${Number(hi)}${tenantFilter})
         TO ${sqlString(join(dayDir, `records_0.${ext}`))} (${copyOptions})`,
      );
    }
    if (options.tenant !== undefined) {
      await connection.run(
        `COPY (SELECT chain_id, seq, prev_hash, hash FROM audit_records WHERE ${seqRange} AND ${TENANT} IS DISTINCT FROM ${sqlString(options.tenant)} ORDER BY seq)
         TO ${out(`chain_links.${ext}`)} (${copyOptions})`,
      );
    }
    await connection.run(
      `COPY (SELECT ${TOOL_CALL_COLUMNS} FROM tool_calls t ${options.tenant === undefined ? '' : `JOIN audit_records r USING (seq)`}
             WHERE ${first === undefined ? 'false' : `t.seq BETWEEN ${first} AND ${last}`}${options.tenant === undefined ? '' : ` AND r.${TENANT} = ${sqlString(options.tenant)}`} ORDER BY t.seq, t.position)
       TO ${out(`tool_calls.${ext}`)} (${copyOptions})`,
    );
  } finally {
    connection.closeSync();
  }

  const files: ManifestFile[] = [];
  for (const path of await filesUnder(options.outDir)) {
    const rel = relative(options.outDir, path).split('\\').join('/');
    const kind = rel.startsWith('records/') ? 'records' : rel.startsWith('chain_links') ? 'chain_links' : 'tool_calls';
    const reader = format === 'parquet' ? `read_parquet(${sqlString(path)})` : `read_csv(${sqlString(path)}, header = true)`;
    const stats = await db.query(`SELECT count(*) AS rows, min(seq) AS first, max(seq) AS last FROM ${reader}`);
    files.push({
      path: rel, kind, sha256: await sha256File(path), bytes: (await stat(path)).size,
      rows: Number(stats[0]?.rows ?? 0),
      first_seq: stats[0]?.first === null ? null : Number(stats[0]?.first),
      last_seq: stats[0]?.last === null ? null : Number(stats[0]?.last),
    });
  }
  const checkpoints: Checkpoint[] = first === undefined ? [] : await loadCheckpoints(db, `WHERE seq BETWEEN ${first} AND ${last}`);
  const keys = await db.query('SELECT key_id, public_key_pem FROM signing_keys ORDER BY first_used_at');
  const edge = first === undefined ? [] : await db.query(`SELECT seq, prev_hash, hash FROM audit_records WHERE seq IN (${first}, ${last}) ORDER BY seq`);
  const count = (kind: ManifestFile['kind']): number => files.filter((f) => f.kind === kind).reduce((n, f) => n + f.rows, 0);
  const manifest: Manifest = {
    format: 'gatehouse-audit-export',
    version: 1,
    export_id: randomUUID(),
    created_at: new Date().toISOString(),
    chain_id: await db.chainId(),
    file_format: format,
    range: { from: options.from.toISOString(), to: options.to.toISOString(), tenant: options.tenant ?? null },
    first_seq: first ?? null,
    last_seq: last ?? null,
    first_prev_hash: first === undefined ? null : String(edge[0]?.prev_hash),
    last_hash: last === undefined ? null : String(edge.at(-1)?.hash),
    rows: { records: count('records'), chain_links: count('chain_links'), tool_calls: count('tool_calls') },
    files,
    checkpoints,
    public_keys: keys.map((k) => ({ key_id: String(k.key_id), pem: String(k.public_key_pem) })),
  };
  manifest.signature = writer.signManifest(manifest);
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(join(options.outDir, MANIFEST_FILE), text);
  await db.connection.run(
    `INSERT INTO exports SELECT $1, now(), $2, $3, $4, $5, $6, $7, (SELECT received_at FROM audit_records WHERE seq = $3), NULL`,
    [manifest.export_id, first ?? null, last ?? null, options.tenant ?? null, options.outDir,
      createHash('sha256').update(text).digest('hex'), manifest.rows.records],
  );
  return manifest;
}
