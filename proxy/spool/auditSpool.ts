/**
 * The durable audit spool: a SpanProcessor that appends every ended span to
 * local segment files before the gateway acknowledges the request.
 *
 * Contract for the pipeline:
 * - Before admitting a request, check `accepting()`; when false, answer 503
 *   `audit_unavailable` (always true in 'best-effort' mode).
 * - End the request's spans, then `await durable()` before the last byte of the
 *   response. It resolves once every span ended so far is in the spool file
 *   (in the page cache, which survives `kill -9`; with `fsync`, on disk). In
 *   'required' mode it rejects with a GatehouseError `audit_unavailable` when
 *   one of those spans could not be written; in 'best-effort' mode it always
 *   resolves, and such spans are counted in `droppedSpans`.
 *
 * Group commit: spans ended in the same event-loop turn, and all spans ended
 * while a write is in flight, go into one frame written with one writev, after
 * the requests that ended them have run (setImmediate). In 'required' mode that
 * writev runs on the event loop (a page-cache write, ~4 µs: SegmentWriter.append);
 * in 'best-effort' mode it goes through the thread pool, so a disk that stalls
 * never holds up traffic.
 *
 * Bounds: disk (`maxBytes`, never exceeded), memory (`maxQueuedSpans`), time
 * (`shutdownTimeoutMs`). Failures go to `onError`, never into a request, except
 * through `durable()` in 'required' mode.
 */
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { GatehouseError } from '../errors.js';
import { encodeSpans } from '../telemetry/otlpSpans.js';
import { frameHeader } from './frames.js';
import { SegmentWriter } from './segmentWriter.js';

export type AuditMode = 'required' | 'best-effort';

export interface AuditSpoolOptions {
  /** Directory of segment files and the shipper's cursor; created if missing. */
  dir: string;
  /** Upper bound of bytes in segment files. */
  maxBytes: number;
  mode: AuditMode;
  /** fdatasync every write (survives machine crashes, costs a disk flush per group). */
  fsync?: boolean;
  /**
   * A segment is closed (and can be deleted once shipped) past this size.
   * Default: maxBytes/8, within [64 KiB, 16 MiB]; never more than half of maxBytes - reserveBytes.
   */
  segmentBytes?: number;
  /** Spans waiting for a write, at most. Default 20,000. */
  maxQueuedSpans?: number;
  /** Bytes kept free for requests already admitted: `accepting()` turns false below it. Default maxBytes/16, at most 4 MiB. */
  reserveBytes?: number;
  /** How long `shutdown` waits for queued spans to be written. Default 5,000 ms. */
  shutdownTimeoutMs?: number;
  /** Called for every failure, and once when the spool becomes full. */
  onError?: (error: Error) => void;
}

/** Live counters, for metrics. The shipper updates `shippedSpans` and `shipFailures`. */
export interface SpoolCounters {
  spooledSpans: number;
  droppedSpans: number;
  bytesOnDisk: number;
  queuedSpans: number;
  /** write/writev system calls made: one per group commit. */
  writes: number;
  shippedSpans: number;
  shipFailures: number;
  /** Torn frames skipped (a crash mid-write, or a failed write). */
  tornFrames: number;
  /** 1 while the disk is full past the reserve (no new requests in 'required' mode, drops in 'best-effort'); else 0. */
  full: number;
}

interface Batch {
  spans: ReadableSpan[];
  /** Set when a span of this batch, or of an earlier failed batch, is not spooled. */
  error: Error | undefined;
  waiter: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;
}

function newBatch(): Batch {
  return { spans: [], error: undefined, waiter: undefined };
}

/** The spool has no room: its disk (`maxBytes`) or its queue (`maxQueuedSpans`) is full. Reported once per episode. */
export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}

const RESOLVED = Promise.resolve();
const WRITE_FAILURE_HOLD_MS = 1_000;

export class AuditSpool implements SpanProcessor {
  readonly mode: AuditMode;
  readonly dir: string;
  readonly counters: SpoolCounters = {
    spooledSpans: 0, droppedSpans: 0, bytesOnDisk: 0, queuedSpans: 0,
    writes: 0, shippedSpans: 0, shipFailures: 0, tornFrames: 0, full: 0,
  };
  /** Internal: the shipper reads and deletes segments through it. */
  readonly writer: SegmentWriter;
  private readonly maxBytes: number;
  private readonly maxQueuedSpans: number;
  private readonly reserveBytes: number;
  private readonly shutdownTimeoutMs: number;
  private readonly onError: (error: Error) => void;
  private readonly commitListeners = new Set<() => void>();
  private pending = newBatch();
  private inflight: Batch | undefined;
  private started: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private scheduled = false;
  private writing = false;
  private closed = false;
  /** Shutdown gave up waiting: queued spans are dropped, not written. */
  private abandoned = false;
  private full = false;
  /** The last write failed for want of disk space (ENOSPC/EDQUOT). */
  private diskFull = false;
  private reportedClosed = false;
  private writeFailedUntil = 0;

  constructor(options: AuditSpoolOptions) {
    this.mode = options.mode;
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.maxQueuedSpans = options.maxQueuedSpans ?? 20_000;
    this.reserveBytes = options.reserveBytes ?? Math.min(Math.floor(options.maxBytes / 16), 4 << 20);
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5_000;
    this.onError = options.onError ?? (() => undefined);
    if (!(options.maxBytes > 0) || this.reserveBytes < 0 || this.reserveBytes >= options.maxBytes) {
      throw new RangeError('audit spool: maxBytes must be positive and larger than reserveBytes');
    }
    // A segment is deleted only once closed, so it must be able to close before the spool is full.
    const segmentBytes = Math.min(
      options.segmentBytes ?? Math.min(Math.max(Math.floor(options.maxBytes / 8), 64 << 10), 16 << 20),
      Math.floor((options.maxBytes - this.reserveBytes) / 2),
    );
    // 'required': requests wait for the write anyway, so it may run on the event loop (cheaper);
    // 'best-effort': a slow disk must never hold up traffic, so it goes through the thread pool.
    this.writer = new SegmentWriter({ dir: options.dir, segmentBytes, fsync: options.fsync ?? false, inline: options.mode === 'required' });
  }

  /** Opens the spool (idempotent). Spans ended before it completes wait in memory. */
  start(): Promise<void> {
    this.started ??= this.writer.open().then(() => this.refreshBytes());
    return this.started;
  }

  /** May the pipeline admit a new request? Always true in 'best-effort' mode. */
  accepting(): boolean {
    if (this.mode === 'best-effort') return true;
    if (this.closed || this.pending.spans.length >= this.maxQueuedSpans) return false;
    if (Date.now() < this.writeFailedUntil) return false;
    return this.writer.bytesOnDisk < this.maxBytes - this.reserveBytes;
  }

  onStart(_span: Span): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed) {
      this.drop(this.pending, 1, new Error('audit spool: spans ended after shutdown are dropped'), !this.reportedClosed);
      this.reportedClosed = true;
      return;
    }
    if (this.pending.spans.length >= this.maxQueuedSpans) {
      this.drop(this.pending, 1, new SpoolFullError('audit spool: queue full'));
      return;
    }
    if (this.mode === 'best-effort' && this.writer.bytesOnDisk >= this.maxBytes) {
      this.drop(this.pending, 1, new SpoolFullError('audit spool: full'));
      return;
    }
    this.pending.spans.push(span);
    this.counters.queuedSpans++;
    this.schedule();
  }

  /** Resolves once every span ended so far is spooled; see the module contract. */
  durable(): Promise<void> {
    const batch = this.pending.spans.length > 0 || this.pending.error ? this.pending : this.inflight;
    if (!batch) return RESOLVED;
    if (!batch.waiter) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      batch.waiter = { promise, resolve, reject };
      if (batch === this.pending && batch.spans.length === 0) this.settle(batch); // only an error to report
    }
    return batch.waiter.promise;
  }

  /** Waits until queued spans are written; write errors went to `onError`. */
  forceFlush(): Promise<void> {
    return this.durable().catch(() => undefined);
  }

  /** Writes what is queued (waiting at most `shutdownTimeoutMs`) and closes the file. Safe twice, and without start. */
  shutdown(): Promise<void> {
    this.stopped ??= this.stop();
    return this.stopped;
  }

  /** Internal, for the shipper: `listener` runs after each commit. Returns the unsubscribe function. */
  onCommit(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** Internal, for the shipper: deletes a fully shipped, closed segment. */
  async release(segment: number): Promise<void> {
    await this.writer.remove(segment);
    this.refreshBytes();
  }

  private async stop(): Promise<void> {
    const flushed = this.started || this.pending.spans.length > 0 ? this.forceFlush() : RESOLVED;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.shutdownTimeoutMs)));
    await Promise.race([flushed, timeout]);
    clearTimeout(timer);
    if (this.writing) {
      this.abandoned = true;
      this.onError(new Error('audit spool: shutdown timed out with spans unwritten'));
    }
    await this.writer.close().catch((error: unknown) => this.onError(asError(error)));
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => void this.drain());
  }

  /** The group-commit loop: at most one write in flight; each write takes every queued span. */
  private async drain(): Promise<void> {
    this.scheduled = false;
    this.writing = true;
    try {
      while (this.pending.spans.length > 0) {
        const batch = this.pending;
        this.pending = newBatch();
        this.inflight = batch;
        this.counters.queuedSpans -= batch.spans.length;
        await this.write(batch);
        this.inflight = undefined;
        this.settle(batch);
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(batch: Batch): Promise<void> {
    const count = batch.spans.length;
    try {
      if (this.abandoned) throw new Error('audit spool: shut down');
      await this.start();
      // The same bytes as ProtobufTraceSerializer.serializeRequest, in one pass (telemetry/otlpSpans.ts).
      const payload = encodeSpans(batch.spans);
      if (!payload) throw new Error('audit spool: spans could not be serialized');
      batch.spans = []; // release the spans; the bytes are what counts now
      const header = frameHeader(payload, count);
      if (this.writer.bytesOnDisk + header.byteLength + payload.byteLength > this.maxBytes) {
        this.drop(batch, count, new SpoolFullError('audit spool: full'));
        return;
      }
      await this.writer.append(header, payload);
    } catch (error) {
      this.started = undefined; // a failed open is retried by the next write (open is idempotent)
      this.writeFailedUntil = Date.now() + WRITE_FAILURE_HOLD_MS;
      const code = (error as NodeJS.ErrnoException).code;
      // The file system is full: the same alarm as a spool at maxBytes, until a write succeeds again.
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        this.diskFull = true;
        this.drop(batch, count, new SpoolFullError(`audit spool: the disk is full (${code})`, { cause: error }));
      } else {
        this.drop(batch, count, asError(error));
      }
      return;
    } finally {
      this.refreshBytes();
    }
    this.counters.spooledSpans += count;
    this.writeFailedUntil = 0;
    this.diskFull = false;
    this.refreshBytes();
    for (const listener of this.commitListeners) listener();
  }

  /** Spans not spooled: counted; in 'required' mode, their waiters (and later ones) reject. */
  private drop(batch: Batch, count: number, error: Error, report = true): void {
    this.counters.droppedSpans += count;
    if (error instanceof SpoolFullError) {
      if (!this.full) this.onError(error); // the alarm: once per episode, not once per span
      this.full = true;
    } else if (report) this.onError(error);
    if (this.mode !== 'required') return;
    batch.error ??= error;
    // Spans queued meanwhile may belong to requests whose earlier spans were in `batch`.
    if (batch !== this.pending && this.pending.spans.length > 0) this.pending.error ??= error;
  }

  private settle(batch: Batch): void {
    const waiter = batch.waiter;
    if (!waiter) return;
    if (batch.error && this.mode === 'required') {
      waiter.reject(new GatehouseError('audit_unavailable', 'the audit record could not be spooled', {
        cause: batch.error,
        retryAfterSeconds: 1,
      }));
    } else {
      waiter.resolve();
    }
    if (batch === this.pending) this.pending = newBatch();
  }

  private refreshBytes(): void {
    this.counters.bytesOnDisk = this.writer.bytesOnDisk;
    this.counters.writes = this.writer.writes;
    const room = this.writer.bytesOnDisk < this.maxBytes - this.reserveBytes && !this.diskFull;
    if (this.full && room) this.full = false;
    this.counters.full = room ? 0 : 1;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
