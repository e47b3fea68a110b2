/**
 * The only writer of the audit chain. Ingest calls are group-committed: all
 * batches waiting while a transaction runs go into the next one. A batch's
 * promise resolves only after COMMIT (DuckDB syncs its WAL on commit), so an
 * OTLP 200 means the records are durable. Spans already recorded (tracked in
 * `dedupe_keys`, also across restarts, for `dedupeDays`) are skipped; see dedupeKeys.ts.
 * Every `checkpointEvery` records, and every `checkpointIntervalMs` while
 * unsigned records exist, the head is signed.
 *
 * Each transaction first claims its spans' keys (dedupeKeys.ts) and builds its
 * records while DuckDB does so; a known key sends it down the checked path.
 */
import { eventRecord, isAuditSpan, requestValues } from '../audit/auditRecord.js';
import { AttemptBuffer, isAttemptSpan } from '../audit/attempts.js';
import type { AuditRecord } from '../audit/columns.js';
import { canonicalIndex, GENESIS_HASH, HashChain, valuesOf, type ChainedRecord } from '../audit/hashChain.js';
import { signCheckpoint, signManifest, type Checkpoint, type ManifestSignature, type SigningKey } from '../audit/signing.js';
import { describe } from '../audit/verifyChain.js';
import { verifyUnsignedTail } from '../audit/verifyStore.js';
import type { ReceivedSpan } from '../otlp/spans.js';
import { foldDaily } from '../rollups/costDaily.js';
import { addRollups } from '../rollups/costRollups.js';
import { DEFAULT_MEMORY_LIMIT, type AuditDatabase } from './auditDatabase.js';
import { claimKeys, dayOf, KnownKeys, pruneKeys, type Verdict } from './dedupeKeys.js';
import { appendRecords } from './recordAppender.js';

export interface WriterOptions {
  /** Sign a checkpoint after this many records (N). Default 1000. */
  checkpointEvery?: number;
  /** Sign the head at least this often while unsigned records exist (T). Default 10 s. */
  checkpointIntervalMs?: number;
  /** false: message content columns are stored as null. Default true. */
  storeContent?: boolean;
  /** Days a recorded span's de-duplication key is kept (dedupeKeys.ts). Default 7. */
  dedupeDays?: number;
  /** DuckDB memory_limit, e.g. '2GB' (auditDatabase.ts). Default 512MB. */
  memoryLimit?: string;
}

export interface IngestResult {
  /** Audit spans in the batch. */
  auditSpans: number;
  /** Records added to the chain. */
  recorded: number;
  /** Audit spans already in the chain (resent). */
  duplicates: number;
  /** Records added whose request id an earlier record already carried (flagged `duplicate_request_id`). */
  duplicateRequestIds: number;
}

interface Pending { spans: ReceivedSpan[]; instance: string; resolve(r: IngestResult): void; reject(e: unknown): void }

/** The audit spans of one export and the gateway instance that sent them. */
interface Batch { audit: ReceivedSpan[]; instance: string }

/** How often committed records are folded into cost_daily (collector/rollups/costDaily.ts). */
const DAILY_FOLD_MS = 5_000;

/** A queued export with its audit spans picked out. */
interface Ready { pending: Pending; audit: ReceivedSpan[] }

/** What one transaction recorded: a result per export, and the spans that became records. */
interface Recorded { results: IngestResult[]; spans: ReceivedSpan[] }

const DUPLICATE_REQUEST_ID = canonicalIndex('duplicate_request_id');

export class AuditWriter {
  private tail: Promise<unknown> = Promise.resolve();
  private pending: Pending[] = [];
  private flushQueued = false;
  private readonly attempts = new AttemptBuffer();
  private timer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private dailyTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly db: AuditDatabase,
    private readonly key: SigningKey,
    private readonly chain: HashChain,
    private lastCheckpointSeq: number,
    private lastReceivedAt: number,
    private readonly options: Required<WriterOptions>,
  ) {}

  static async open(db: AuditDatabase, key: SigningKey, options: WriterOptions = {}): Promise<AuditWriter> {
    const chainId = await db.chainId();
    const tail = await verifyUnsignedTail(db, new Map([[key.keyId, key.publicKeyPem]]));
    if (!tail.ok) {
      throw new Error(`the audit store changed after its last signed checkpoint (${describe(tail)}); refusing to sign over it. ` +
        'Run gatehouse audit verify --db on it and restore the store from a backup');
    }
    await db.connection.run('INSERT INTO signing_keys VALUES ($1, $2, now()) ON CONFLICT DO NOTHING', [key.keyId, key.publicKeyPem]);
    const head = await db.query('SELECT seq, hash, epoch_us(received_at) AS received_at FROM audit_records ORDER BY seq DESC LIMIT 1');
    const signed = await db.query('SELECT coalesce(max(seq), 0) AS seq FROM checkpoints');
    const last = head[0];
    const chain = new HashChain(chainId, last ? Number(last.seq) : 0, last ? String(last.hash) : GENESIS_HASH);
    const writer = new AuditWriter(
      db, key, chain, Number(signed[0]?.seq ?? 0), last ? Number(last.received_at) : 0,
      { checkpointEvery: 1000, checkpointIntervalMs: 10_000, storeContent: true, dedupeDays: 7, memoryLimit: DEFAULT_MEMORY_LIMIT, ...options },
    );
    writer.timer = setInterval(() => void writer.checkpoint().catch(() => undefined), writer.options.checkpointIntervalMs);
    writer.timer.unref();
    await writer.pruneDedupeKeys();
    writer.pruneTimer = setInterval(() => void writer.pruneDedupeKeys().catch(() => undefined), 3_600_000);
    writer.pruneTimer.unref();
    writer.dailyTimer = setInterval(() => void writer.foldDaily().catch(() => undefined), DAILY_FOLD_MS);
    writer.dailyTimer.unref();
    return writer;
  }

  get chainId(): string { return this.chain.chainId; }
  get lastSeq(): number { return this.chain.lastSeq; }
  get publicKeyPem(): string { return this.key.publicKeyPem; }

  /** Records the audit spans of `spans`, sent by gateway `instance`; resolves once they are committed. */
  ingest(spans: ReceivedSpan[], instance: string): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new Error('audit writer is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ spans, instance, resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        void this.exclusive(() => this.flush());
      }
    });
  }

  /** Runs `work` with no ingest transaction in progress (export, retention, checkpoints). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Appends a non-request record (e.g. retention) to the chain and signs the new
   * head, in one transaction with `alongside` (e.g. the deletion it records).
   * Call inside exclusive().
   */
  async appendEventLocked(recordType: string, details: object, alongside?: () => Promise<void>): Promise<AuditRecord> {
    const record = eventRecord(recordType, details, this.nextReceivedAt());
    const before = { seq: this.chain.lastSeq, hash: this.chain.lastHash };
    try {
      await this.db.transaction(async () => {
        await alongside?.();
        const chained = this.chain.appendValues(valuesOf(record));
        Object.assign(record, { chain_id: this.chain.chainId, seq: chained.seq, prev_hash: before.hash, hash: chained.hash });
        await appendRecords(this.db.connection, [chained]);
        await this.signHeadLocked();
      });
    } catch (error) {
      this.chain.reset(before.seq, before.hash);
      throw error;
    }
    return record;
  }

  /** Folds the records committed since the last fold into cost_daily (every DAILY_FOLD_MS, at close, and on demand). */
  foldDaily(): Promise<number> {
    return this.exclusive(() => this.foldDailyLocked());
  }

  /** foldDaily, inside exclusive() (retention folds before it deletes). */
  foldDailyLocked(): Promise<number> {
    return foldDaily(this.db, this.chain.lastSeq);
  }

  /** Drops de-duplication keys older than `dedupeDays` (hourly, and at open). */
  pruneDedupeKeys(): Promise<number> {
    return this.exclusive(() => pruneKeys(this.db.connection, dayOf(Date.now()), this.options.dedupeDays));
  }

  /** Signs the head if records were added since the last checkpoint. */
  checkpoint(): Promise<Checkpoint | undefined> {
    return this.exclusive(async () => {
      if (this.chain.lastSeq <= this.lastCheckpointSeq) return undefined;
      return this.signHeadLocked();
    });
  }

  /** Signs an export manifest with the checkpoint key. */
  signManifest(manifest: object): ManifestSignature {
    return signManifest(this.key, manifest);
  }

  /** Signs the current head unconditionally (inside exclusive()); used by export to cover its last record. */
  async signHeadLocked(): Promise<Checkpoint> {
    const c = signCheckpoint(this.key, this.chain.chainId, this.chain.lastSeq, this.chain.lastHash);
    await this.db.connection.run('INSERT INTO checkpoints VALUES ($1, $2, $3, $4, $5, $6)', [
      c.chain_id, c.seq, c.hash, c.time, c.key_id, c.signature,
    ]);
    this.lastCheckpointSeq = Math.max(this.lastCheckpointSeq, c.seq);
    return c;
  }

  /** Signs the stored row at `seq` (inside exclusive()); used by export to end on a checkpoint. */
  async signAtLocked(seq: number): Promise<Checkpoint> {
    const rows = await this.db.query('SELECT hash FROM audit_records WHERE seq = $1', [seq]);
    const hash = rows[0]?.hash;
    if (typeof hash !== 'string') throw new Error(`no record with seq ${seq}`);
    const c = signCheckpoint(this.key, this.chain.chainId, seq, hash);
    await this.db.connection.run('INSERT INTO checkpoints VALUES ($1, $2, $3, $4, $5, $6)', [
      c.chain_id, c.seq, c.hash, c.time, c.key_id, c.signature,
    ]);
    return c;
  }

  /** Waits for queued batches, signs the head and stops the timer. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.pruneTimer);
    clearInterval(this.dailyTimer);
    await this.exclusive(async () => undefined);
    await this.foldDaily().catch(() => undefined);
    await this.checkpoint();
  }

  private nextReceivedAt(): number {
    this.lastReceivedAt = Math.max(Date.now() * 1000, this.lastReceivedAt);
    return this.lastReceivedAt;
  }

  /**
   * Commits every queued export in one transaction. Every queued promise
   * settles, whatever throws. When the transaction fails, each export is
   * committed alone, so one export that cannot be stored is refused (503) and
   * the others in its batch are not.
   */
  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.pending;
    this.pending = [];
    const ready: Ready[] = [];
    for (const p of batch) {
      try {
        ready.push({ pending: p, audit: this.auditSpansOf(p.spans) });
      } catch (error) {
        p.reject(error);
      }
    }
    if (ready.length === 0) return;
    try {
      await this.commit(ready);
    } catch (error) {
      if (ready.length === 1) {
        ready[0]?.pending.reject(error);
        return;
      }
      for (const one of ready) {
        try {
          await this.commit([one]);
        } catch (alone) {
          one.pending.reject(alone);
        }
      }
    }
  }

  /** Records `ready` in one transaction and resolves their promises; on failure restores the chain head and throws. */
  private async commit(ready: readonly Ready[]): Promise<void> {
    const before = { seq: this.chain.lastSeq, hash: this.chain.lastHash, checkpoint: this.lastCheckpointSeq };
    const restore = (): void => {
      this.chain.reset(before.seq, before.hash);
      this.lastCheckpointSeq = before.checkpoint;
    };
    const audit = ready.map((r) => ({ audit: r.audit, instance: r.pending.instance }));
    let recorded: Recorded;
    try {
      try {
        recorded = await this.db.transaction(() => this.record(audit, 'optimistic'));
      } catch (error) {
        if (!(error instanceof KnownKeys)) throw error;
        restore();
        recorded = await this.db.transaction(() => this.record(audit, 'checked'));
      }
    } catch (error) {
      restore();
      throw error;
    }
    for (const span of recorded.spans) this.attempts.remove(span.traceId, span.spanId);
    ready.forEach((r, i) => r.pending.resolve(recorded.results[i] as IngestResult));
  }

  /** The audit spans of one export; its attempt spans go to the attempt buffer. */
  private auditSpansOf(spans: readonly ReceivedSpan[]): ReceivedSpan[] {
    const audit: ReceivedSpan[] = [];
    for (const span of spans) {
      if (isAuditSpan(span)) audit.push(span);
      else if (isAttemptSpan(span)) this.attempts.add(span);
    }
    return audit;
  }

  /**
   * Records the spans dedupeKeys.ts does not skip. 'optimistic': all keys are
   * assumed new (a plain insert, which throws KnownKeys otherwise); 'checked':
   * each span's verdict is known before its record is built.
   */
  private async record(perBatch: Batch[], mode: 'optimistic' | 'checked'): Promise<Recorded> {
    const all = perBatch.flatMap((b) => b.audit);
    const day = dayOf(Date.now());
    // Optimistic: every span is new; the key insert runs in DuckDB while the records are built and hashed.
    let verdicts: Verdict[] | undefined;
    let claimed: Promise<unknown> = Promise.resolve();
    if (mode === 'checked') verdicts = await claimKeys(this.db.connection, all, 'checked', day);
    else claimed = claimKeys(this.db.connection, all, 'optimistic', day);
    // Never leave that insert running on an error.
    const settled = claimed.then(() => undefined, () => undefined);
    const receivedAt = this.nextReceivedAt();
    const records: ChainedRecord[] = [];
    const spans: ReceivedSpan[] = [];
    let results: IngestResult[];
    let at = 0;
    try {
      results = perBatch.map(({ audit, instance }) => {
        let recorded = 0;
        let flagged = 0;
        for (const span of audit) {
          const verdict = verdicts?.[at++] ?? 'record';
          if (verdict === 'skip') continue;
          const attempts = this.attempts.peek(span.traceId, span.spanId);
          const values = requestValues(span, attempts, receivedAt, { storeContent: this.options.storeContent, instance });
          if (verdict === 'flag') {
            values[DUPLICATE_REQUEST_ID] = true;
            flagged++;
          }
          records.push(this.chain.appendValues(values));
          spans.push(span);
          recorded++;
        }
        return { auditSpans: audit.length, recorded, duplicates: audit.length - recorded, duplicateRequestIds: flagged };
      });
    } catch (error) {
      await settled;
      throw error;
    }
    await claimed;
    await appendRecords(this.db.connection, records);
    const first = records[0];
    if (first !== undefined) await addRollups(this.db.connection, first.seq, this.chain.lastSeq);
    if (this.chain.lastSeq - this.lastCheckpointSeq >= this.options.checkpointEvery) await this.signHeadLocked();
    return { results, spans };
  }
}
