/**
 * Retention: deletes records older than the retention period, but only whole
 * exported segments (full, untenanted exports whose manifest is still on disk
 * with the recorded sha256), and only as a prefix of the chain, so what remains
 * is still one verifiable chain. The deletion is itself a chain record
 * (`record_type = 'retention'`) naming the deleted seq range, the hash of the
 * last deleted row (the anchor for verifying what remains) and the segments.
 * `dedupe_keys` (for their own window) and cost rollups are kept: replays stay deduplicated and cost
 * history stays reportable. Call inside AuditWriter.exclusive().
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditRecord } from '../audit/columns.js';
import type { AuditDatabase } from '../store/auditDatabase.js';
import type { AuditWriter } from '../store/auditWriter.js';
import { MANIFEST_FILE } from './manifest.js';

export interface RetentionOptions {
  days: number;
  now?: Date;
  dryRun?: boolean;
}

export interface RetentionResult {
  deletedRows: number;
  fromSeq: number | null;
  toSeq: number | null;
  segments: string[];
  /** Segments that were old enough but could not be deleted, and why. */
  skipped: string[];
  record?: AuditRecord;
}

async function manifestIntact(outDir: string, sha256: string): Promise<boolean> {
  try {
    return createHash('sha256').update(await readFile(join(outDir, MANIFEST_FILE))).digest('hex') === sha256;
  } catch {
    return false;
  }
}

export async function applyRetention(db: AuditDatabase, writer: AuditWriter, options: RetentionOptions): Promise<RetentionResult> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.days * 86_400_000);
  // The daily cost table must hold every record before any is deleted.
  if (!options.dryRun) await writer.foldDailyLocked();
  const result: RetentionResult = { deletedRows: 0, fromSeq: null, toSeq: null, segments: [], skipped: [] };
  const head = await db.query(`SELECT min(seq) AS first FROM audit_records`);
  if (head[0]?.first === null || head[0] === undefined) return result;
  let next = Number(head[0].first);
  const segments = await db.query(
    `SELECT export_id, first_seq, last_seq, out_dir, manifest_sha256 FROM exports
     WHERE tenant IS NULL AND deleted_at IS NULL AND last_seq IS NOT NULL AND last_received_at < $1::TIMESTAMP
     ORDER BY first_seq`, [cutoff.toISOString().replace('T', ' ').replace('Z', '')],
  );
  const taken: Array<{ id: string; manifest: string; first: number; last: number }> = [];
  for (const s of segments) {
    const first = Number(s.first_seq);
    const last = Number(s.last_seq);
    if (last < next) continue;
    if (first > next) break;
    if (!(await manifestIntact(String(s.out_dir), String(s.manifest_sha256)))) {
      result.skipped.push(`${String(s.export_id)}: manifest missing or changed in ${String(s.out_dir)}`);
      break;
    }
    taken.push({ id: String(s.export_id), manifest: String(s.manifest_sha256), first, last });
    next = last + 1;
  }
  if (taken.length === 0) return result;
  const fromSeq = Number(head[0].first);
  const toSeq = next - 1;
  const count = await db.query(`SELECT count(*) AS n, max(seq) FILTER (WHERE seq = ${toSeq}) AS s, any_value(hash) FILTER (WHERE seq = ${toSeq}) AS h
                                FROM audit_records WHERE seq BETWEEN ${fromSeq} AND ${toSeq}`);
  Object.assign(result, { deletedRows: Number(count[0]?.n ?? 0), fromSeq, toSeq, segments: taken.map((t) => t.id) });
  if (options.dryRun) return result;
  const details = {
    action: 'delete_exported_segments',
    retention_days: options.days,
    cutoff: cutoff.toISOString(),
    deleted_from_seq: fromSeq,
    deleted_to_seq: toSeq,
    deleted_last_hash: String(count[0]?.h),
    deleted_rows: result.deletedRows,
    segments: taken.map((t) => ({ export_id: t.id, manifest_sha256: t.manifest, first_seq: t.first, last_seq: t.last })),
  };
  result.record = await writer.appendEventLocked('retention', details, async () => {
    await db.connection.run(`DELETE FROM audit_records WHERE seq BETWEEN ${fromSeq} AND ${toSeq}`);
    await db.connection.run(`DELETE FROM tool_calls WHERE seq BETWEEN ${fromSeq} AND ${toSeq}`);
    await db.connection.run(`UPDATE exports SET deleted_at = now() WHERE export_id IN (${taken.map((t) => `'${t.id}'`).join(', ')})`);
  });
  return result;
}
