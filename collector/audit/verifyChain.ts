/**
 * Verifies a chain, wherever its rows come from (the DuckDB store or an
 * exported Parquet set). Rows must arrive sorted by seq. A "link" row (from a
 * tenant-filtered export) carries only chain_id/seq/prev_hash/hash: its content
 * cannot be re-hashed, but it keeps the chain continuous. Stops at the first
 * broken seq and says why.
 */
import { hash } from 'node:crypto';
import { GENESIS_HASH, recordHash } from './hashChain.js';
import type { AuditRecord } from './columns.js';
import { checkpointSignatureValid, type Checkpoint } from './signing.js';

export type FailureReason =
  | 'altered' | 'reordered' | 'missing' | 'duplicate' | 'broken_link' | 'foreign_chain'
  | 'bad_signature' | 'unknown_key' | 'missing_signature' | 'checkpoint_mismatch' | 'file_mismatch'
  // Exports only (docs/audit-format.md, section 8):
  | 'manifest_unsigned' | 'manifest_bad_signature' | 'manifest_mismatch' | 'unreadable_file' | 'tool_calls_mismatch';

export interface Failure { seq: number; reason: FailureReason; detail: string }

export interface ChainRow {
  record: AuditRecord;
  link: boolean;
  /** Canonical JSON (text or UTF-8 bytes) computed by the source (fast path); when its hash differs, `full()` gives the row for the exact check. */
  canonical?: string | Uint8Array;
  full?: () => Promise<AuditRecord>;
}

export interface VerifyContext {
  chainId?: string;
  checkpoints: readonly Checkpoint[];
  /** Trusted public keys by key_id. */
  publicKeys: ReadonlyMap<string, string>;
  /** seq -> prev_hash a chain may legitimately start with at that seq (retention records). */
  anchors?: ReadonlyMap<number, string>;
  /** Exports may start anywhere: the first row's prev_hash is taken as given. */
  acceptAnyStart?: boolean;
  /** Exports must end on a signed checkpoint. */
  requireSignedEnd?: boolean;
}

export interface VerifyReport {
  ok: boolean;
  chainId: string | undefined;
  records: number;
  links: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  checkpointsVerified: number;
  /** Records after the last checkpoint (not yet signed). */
  unsignedTail: number;
  failure?: Failure;
}

const REORDER_WINDOW = 32;

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

/** Whether the row's content hashes to its stored hash under another seq: it was moved. */
function movedFrom(record: AuditRecord): number | undefined {
  const seq = num(record.seq);
  for (let d = 1; d <= REORDER_WINDOW; d++) {
    for (const candidate of [seq - d, seq + d]) {
      if (candidate < 1) continue;
      if (recordHash({ ...record, seq: candidate }) === record.hash) return candidate;
    }
  }
  return undefined;
}

export async function verifyChain(batches: AsyncIterable<ChainRow[]>, ctx: VerifyContext): Promise<VerifyReport> {
  const checkpointSeqs = new Set(ctx.checkpoints.map((c) => c.seq));
  const hashesAtCheckpoints = new Map<number, string>();
  const report: VerifyReport = {
    ok: false, chainId: ctx.chainId, records: 0, links: 0, firstSeq: undefined, lastSeq: undefined,
    checkpointsVerified: 0, unsignedTail: 0,
  };
  let prevHash: string | undefined;
  let prevSeq: number | undefined;
  let rowFailure: Failure | undefined;

  outer: for await (const batch of batches) {
    for (const row of batch) {
      const { record, link } = row;
      const seq = num(record.seq);
      const stored = String(record.hash);
      const fail = (reason: FailureReason, detail: string): void => { rowFailure = { seq, reason, detail }; };
      report.chainId ??= String(record.chain_id);
      if (record.chain_id !== report.chainId) { fail('foreign_chain', `row belongs to chain ${String(record.chain_id)}`); break outer; }
      if (prevSeq === undefined) {
        report.firstSeq = seq;
        const anchor = seq === 1 ? GENESIS_HASH : ctx.anchors?.get(seq);
        if (!ctx.acceptAnyStart && record.prev_hash !== anchor) {
          if (anchor === undefined) fail('missing', `the chain starts at seq ${seq}, and no retention record accounts for seq 1..${seq - 1}`);
          else fail('broken_link', `prev_hash does not match ${seq === 1 ? 'the genesis hash' : 'the retention record'}`);
          break outer;
        }
      } else if (seq === prevSeq) {
        fail('duplicate', `seq ${seq} occurs twice`); break outer;
      } else if (seq !== prevSeq + 1) {
        rowFailure = { seq: prevSeq + 1, reason: 'missing', detail: `rows seq ${prevSeq + 1}..${seq - 1} are missing` };
        break outer;
      }
      if (!link && !(row.canonical !== undefined && hash('sha256', row.canonical, 'hex') === stored)) {
        const full = row.full ? await row.full() : record;
        if (recordHash(full) !== stored) {
          const from = movedFrom(full);
          if (from !== undefined) fail('reordered', `this row was recorded as seq ${from}; rows were reordered`);
          else fail('altered', 'the row content does not match its hash (row altered)');
          break outer;
        }
      }
      if (prevHash !== undefined && record.prev_hash !== prevHash) {
        fail('broken_link', `prev_hash does not match the hash of seq ${seq - 1} (a row was replaced or re-hashed)`);
        break outer;
      }
      if (checkpointSeqs.has(seq)) hashesAtCheckpoints.set(seq, stored);
      if (link) report.links++; else report.records++;
      prevHash = stored;
      prevSeq = seq;
      report.lastSeq = seq;
    }
  }

  const checkpointFailure = checkCheckpoints(ctx, report, hashesAtCheckpoints, rowFailure === undefined);
  const failures = [rowFailure, checkpointFailure].filter((f): f is Failure => f !== undefined).sort((a, b) => a.seq - b.seq);
  if (failures[0] === undefined && ctx.requireSignedEnd && report.lastSeq !== undefined && !checkpointSeqs.has(report.lastSeq)) {
    failures.push({ seq: report.lastSeq, reason: 'missing_signature', detail: 'the last row is not covered by a signed checkpoint' });
  }
  report.failure = failures[0];
  report.ok = report.failure === undefined;
  return report;
}

/** `complete`: every row was read (a row failure stops the scan, and then the chain's end is unknown). */
function checkCheckpoints(ctx: VerifyContext, report: VerifyReport, hashes: Map<number, string>, complete: boolean): Failure | undefined {
  let lastSigned = 0;
  const sorted = [...ctx.checkpoints].sort((a, b) => a.seq - b.seq);
  for (const c of sorted) {
    if (report.firstSeq === undefined || c.seq < report.firstSeq) continue;
    if (c.chain_id !== report.chainId) return { seq: c.seq, reason: 'foreign_chain', detail: `checkpoint of chain ${c.chain_id}` };
    const key = ctx.publicKeys.get(c.key_id);
    if (key === undefined) return { seq: c.seq, reason: 'unknown_key', detail: `checkpoint signed by unknown key ${c.key_id}` };
    if (!checkpointSignatureValid(c, key)) return { seq: c.seq, reason: 'bad_signature', detail: 'checkpoint signature is invalid (forged or edited checkpoint)' };
    if (report.lastSeq === undefined || c.seq > report.lastSeq) {
      if (ctx.acceptAnyStart || !complete) continue;
      return { seq: (report.lastSeq ?? 0) + 1, reason: 'missing', detail: `a checkpoint signs seq ${c.seq}, but the chain ends at seq ${report.lastSeq ?? 0}` };
    }
    const h = hashes.get(c.seq);
    if (h !== undefined && h !== c.hash) {
      return { seq: c.seq, reason: 'checkpoint_mismatch', detail: 'the row differs from the signed checkpoint (rows up to here were rewritten)' };
    }
    if (h !== undefined) { report.checkpointsVerified++; lastSigned = Math.max(lastSigned, c.seq); }
  }
  report.unsignedTail = report.lastSeq === undefined ? 0 : report.lastSeq - Math.max(lastSigned, (report.firstSeq ?? 1) - 1);
  return undefined;
}

export function describe(report: VerifyReport): string {
  if (!report.ok && report.failure) {
    return `FAIL at seq ${report.failure.seq}: ${report.failure.reason}: ${report.failure.detail}`;
  }
  const range = report.firstSeq === undefined ? 'empty' : `seq ${report.firstSeq}..${report.lastSeq}`;
  return `OK chain ${report.chainId ?? '-'}: ${report.records} records${report.links ? ` + ${report.links} links (other tenants)` : ''} (${range}), ` +
    `${report.checkpointsVerified} checkpoints verified, ${report.unsignedTail} records after the last checkpoint`;
}
