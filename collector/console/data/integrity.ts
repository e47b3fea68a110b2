/**
 * The audit integrity page: the chain's state (one query: last record, last
 * signed checkpoint) and the outcome of the last full verification, which runs
 * in the background (at start and on an auditor's request), never inside a
 * page request: on 10M records it takes minutes.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, type VerifyReport } from '../../audit/verifyChain.js';
import { verifyStore } from '../../audit/verifyStore.js';
import type { StoreHandle } from '../../cli/commandIO.js';
import { exportAudit } from '../../export/auditExport.js';
import type { Manifest } from '../../export/manifest.js';

export interface Verification {
  ok: boolean;
  /** The highest seq the verification covered. */
  verifiedTo: number | undefined;
  records: number;
  checkpointsVerified: number;
  startedAt: Date;
  finishedAt: Date;
  summary: string;
}

export interface ChainState {
  chain_id: string | null;
  last_seq: number | null;
  last_received_at: Date | null;
  checkpoint_seq: number | null;
  checkpoint_time: string | null;
  checkpoint_key_id: string | null;
}

export interface PublicKeyInfo { keyId: string; fingerprint: string }

/** `SHA256:` and the base64 of the SHA-256 of the key's SPKI DER, the form `ssh-keygen -l` prints. */
export function fingerprintOf(pem: string): string {
  const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

export class ChainStatus {
  private last: Verification | undefined;
  private running: Promise<Verification> | undefined;

  constructor(private readonly store: StoreHandle) {}

  get lastVerification(): Verification | undefined {
    return this.last;
  }

  get verifying(): boolean {
    return this.running !== undefined;
  }

  publicKeys(): PublicKeyInfo[] {
    return [...this.store.trustedKeys].map(([keyId, pem]) => ({ keyId, fingerprint: fingerprintOf(pem) }));
  }

  /** Starts a full verification unless one is running; resolves when it ends. */
  verify(): Promise<Verification> {
    this.running ??= (async () => {
      const startedAt = new Date();
      let verification: Verification;
      try {
        const report: VerifyReport = await verifyStore(this.store.db, this.store.trustedKeys);
        verification = {
          ok: report.ok, verifiedTo: report.lastSeq, records: report.records, checkpointsVerified: report.checkpointsVerified,
          startedAt, finishedAt: new Date(), summary: describe(report),
        };
      } catch (error) {
        verification = {
          ok: false, verifiedTo: undefined, records: 0, checkpointsVerified: 0, startedAt, finishedAt: new Date(),
          summary: `verification could not run: ${(error as Error).message}`,
        };
      }
      this.last = verification;
      return verification;
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async state(): Promise<ChainState> {
    const rows = await this.store.db.query(
      `SELECT (SELECT chain_id FROM chain LIMIT 1) AS chain_id,
              r.seq AS last_seq, r.received_at AS last_received_at, c.seq AS checkpoint_seq, c.time AS checkpoint_time, c.key_id AS checkpoint_key_id
         FROM (SELECT 1) AS one
         LEFT JOIN (SELECT seq, received_at FROM audit_records ORDER BY seq DESC LIMIT 1) AS r ON true
         LEFT JOIN (SELECT seq, time, key_id FROM checkpoints ORDER BY seq DESC LIMIT 1) AS c ON true`,
    );
    return rows[0] as unknown as ChainState;
  }

  /**
   * Exports [from, to) of one tenant (or every tenant for a global auditor) to a
   * new folder under `<dataDir>/exports/`, the same export as `gatehouse audit
   * export` (it signs the last exported row first).
   */
  async export(options: { from: Date; to: Date; tenant?: string }): Promise<{ id: string; dir: string; manifest: Manifest }> {
    const writer = this.store.writer;
    if (writer === undefined) throw new Error('export needs write access to the store');
    const id = `console-${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 15)}-${Math.random().toString(36).slice(2, 8)}`;
    const dir = join(this.store.dataDir, 'exports', id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const manifest = await writer.exclusive(() => exportAudit(this.store.db, writer, { ...options, outDir: dir, format: 'parquet' }, this.store.trustedKeys));
    return { id, dir, manifest };
  }
}
