/**
 * The only writer of the audit chain. Ingest calls are group-committed: all
 * batches waiting while a transaction runs go into the next one. A batch's
 * promise resolves only after COMMIT (DuckDB syncs its WAL on commit), so an
 * OTLP 200 means the records are durable. Spans already recorded (same
 * trace_id + span_id, tracked in `span_keys`, also across restarts) are skipped.
 * Every `checkpointEvery` records, and every `checkpointIntervalMs` while
 * unsigned records exist, the head is signed.
 */
import { listValue, LIST, VARCHAR } from '@duckdb/node-api';
import { eventRecord, isAuditSpan, recordOf } from '../audit/auditRecord.js';
import { AttemptBuffer, isAttemptSpan } from '../audit/attempts.js';
import type { AuditRecord } from '../audit/columns.js';
import { GENESIS_HASH, HashChain } from '../audit/hashChain.js';
import { signCheckpoint, type Checkpoint, type SigningKey } from '../audit/signing.js';
import type { ReceivedSpan } from '../otlp/spans.js';
import { addRollups, rollupsOf } from '../rollups/costRollups.js';
import type { AuditDatabase } from './auditDatabase.js';
import { appendRecords, tableColumns } from './recordAppender.js';

export interface WriterOptions {
  /** Sign a checkpoint after this many records (N). Default 1000. */
  checkpointEvery?: number;
  /** Sign the head at least this often while unsigned records exist (T). Default 10 s. */
  checkpointIntervalMs?: number;
  /** false: message content columns are stored as null. Default true. */
  storeContent?: boolean;
}

export interface IngestResult {
  /** Audit spans in the batch. */
  auditSpans: number;
  /** Records added to the chain. */
  recorded: number;
  /** Audit spans already in the chain (resent). */
  duplicates: number;
}

interface Pending { spans: ReceivedSpan[]; resolve(r: IngestResult): void; reject(e: unknown): void }

export class AuditWriter {
  private tail: Promise<unknown> = Promise.resolve();
  private pending: Pending[] = [];
  private flushQueued = false;
  private readonly attempts = new AttemptBuffer();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly db: AuditDatabase,
    private readonly key: SigningKey,
    private readonly chain: HashChain,
    private columns: Array<{ name: string; type: string }>,
    private lastCheckpointSeq: number,
    private lastReceivedAt: number,
    private readonly options: Required<WriterOptions>,
  ) {}

  static async open(db: AuditDatabase, key: SigningKey, options: WriterOptions = {}): Promise<AuditWriter> {
    const chainId = await db.chainId();
    await db.connection.run('INSERT INTO signing_keys VALUES ($1, $2, now()) ON CONFLICT DO NOTHING', [key.keyId, key.publicKeyPem]);
    const head = await db.query('SELECT seq, hash, epoch_us(received_at) AS received_at FROM audit_records ORDER BY seq DESC LIMIT 1');
    const signed = await db.query('SELECT coalesce(max(seq), 0) AS seq FROM checkpoints');
    const last = head[0];
    const chain = new HashChain(chainId, last ? Number(last.seq) : 0, last ? String(last.hash) : GENESIS_HASH);
    const writer = new AuditWriter(
      db, key, chain, await tableColumns(db.connection), Number(signed[0]?.seq ?? 0), last ? Number(last.received_at) : 0,
      { checkpointEvery: 1000, checkpointIntervalMs: 10_000, storeContent: true, ...options },
    );
    writer.timer = setInterval(() => void writer.checkpoint().catch(() => undefined), writer.options.checkpointIntervalMs);
    writer.timer.unref();
    return writer;
  }

  get chainId(): string { return this.chain.chainId; }
  get lastSeq(): number { return this.chain.lastSeq; }
  get publicKeyPem(): string { return this.key.publicKeyPem; }

  /** Records the audit spans of `spans`; resolves once they are committed. */
  ingest(spans: ReceivedSpan[]): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new Error('audit writer is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ spans, resolve, reject });
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
        this.chain.append(record);
        await appendRecords(this.db.connection, this.columns, [record]);
        await this.signHeadLocked();
      });
    } catch (error) {
      this.chain.reset(before.seq, before.hash);
      throw error;
    }
    return record;
  }

  /** Signs the head if records were added since the last checkpoint. */
  checkpoint(): Promise<Checkpoint | undefined> {
    return this.exclusive(async () => {
      if (this.chain.lastSeq <= this.lastCheckpointSeq) return undefined;
      return this.signHeadLocked();
    });
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
    await this.exclusive(async () => undefined);
    await this.checkpoint();
  }

  private nextReceivedAt(): number {
    this.lastReceivedAt = Math.max(Date.now() * 1000, this.lastReceivedAt);
    return this.lastReceivedAt;
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const before = { seq: this.chain.lastSeq, hash: this.chain.lastHash, checkpoint: this.lastCheckpointSeq };
    try {
      const results = await this.db.transaction(() => this.record(batch));
      batch.forEach((p, i) => p.resolve(results[i] as IngestResult));
    } catch (error) {
      this.chain.reset(before.seq, before.hash);
      this.lastCheckpointSeq = before.checkpoint;
      for (const p of batch) p.reject(error);
    }
  }

  private async record(batch: Pending[]): Promise<IngestResult[]> {
    const perBatch = batch.map((p) => {
      const audit: ReceivedSpan[] = [];
      for (const span of p.spans) {
        if (isAuditSpan(span)) audit.push(span);
        else if (isAttemptSpan(span)) this.attempts.add(span);
      }
      return audit;
    });
    const keys = [...new Set(perBatch.flat().map((s) => s.traceId + s.spanId))];
    const fresh = new Set<string>();
    if (keys.length > 0) {
      const inserted = await this.db.connection.runAndReadAll(
        'INSERT INTO span_keys SELECT unnest($1) ON CONFLICT DO NOTHING RETURNING span_key',
        [listValue(keys)], [LIST(VARCHAR)],
      );
      for (const row of inserted.getRows()) fresh.add(String(row[0]));
    }
    const receivedAt = this.nextReceivedAt();
    const records: AuditRecord[] = [];
    const results = perBatch.map((audit) => {
      let recorded = 0;
      for (const span of audit) {
        const key = span.traceId + span.spanId;
        if (!fresh.delete(key)) continue;
        const attempts = this.attempts.take(span.traceId, span.spanId);
        records.push(this.chain.append(recordOf(span, attempts, receivedAt, { storeContent: this.options.storeContent })));
        recorded++;
      }
      return { auditSpans: audit.length, recorded, duplicates: audit.length - recorded };
    });
    await appendRecords(this.db.connection, this.columns, records);
    await addRollups(this.db.connection, rollupsOf(records));
    if (this.chain.lastSeq - this.lastCheckpointSeq >= this.options.checkpointEvery) await this.signHeadLocked();
    return results;
  }
}
