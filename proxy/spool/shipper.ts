/**
 * Ships the audit spool to a collector over OTLP/HTTP (protobuf).
 *
 * Contract:
 * - Reads committed frames in order from the cursor, and POSTs them in batches
 *   to `{endpoint}/v1/traces` with `Content-Type: application/x-protobuf`. A
 *   batch is the concatenation of several ExportTraceServiceRequest messages,
 *   which protobuf decodes as one message holding all their resource_spans.
 * - Advances the persisted cursor, and deletes a segment, only after a 2xx.
 *   Every other outcome (network error, timeout, any non-2xx) is retried with
 *   exponential backoff and jitter, honouring Retry-After on 429 and 503: an
 *   audit record is never given up (even on a 400; the alarm is `shipFailures`).
 *   A 413 halves the batch (down to one frame) before it counts as a failure to wait on. A restart resumes from the cursor;
 *   a batch may be sent again (at-least-once; the collector de-duplicates).
 * - Never throws: every failure goes to `onError` and `shipFailures`.
 * - `shutdown` ships what it can until caught up or until `shutdownTimeoutMs`,
 *   then aborts; it is safe to call twice, and without start. Shut the spool
 *   (the tracer provider) down first so its last spans are shipped too.
 */
import { Agent, request } from 'undici';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { AuditSpool } from './auditSpool.js';
import { backoffDelay, retryAfterMs, type BackoffOptions } from './backoff.js';
import { readCursor, writeCursor, type Cursor } from './cursor.js';
import { listSegments, readFrames } from './segmentFiles.js';

export interface SpoolShipperOptions {
  /** Collector base URL, e.g. `http://127.0.0.1:4318`; `/v1/traces` is appended. */
  endpoint: string;
  /** Extra request headers (for example the collector's auth token). */
  headers?: Record<string, string>;
  /** Bytes of frames per request, at most (a larger single frame is sent alone). Default 4 MiB. */
  maxBatchBytes?: number;
  /** How long spans gather before a send when the shipper is caught up (after a commit wakes it, or after a send). Default 100 ms. */
  lingerMs?: number;
  /** Per-request timeout. Default 10 s. */
  requestTimeoutMs?: number;
  /** Default 5 s. */
  shutdownTimeoutMs?: number;
  /** Defaults: 200 ms, 30 s, 120 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  maxRetryAfterMs?: number;
  /** fdatasync the cursor file. Default false. */
  fsync?: boolean;
  onError?: (error: Error) => void;
}

const IDLE_POLL_MS = 1_000;

type Progress = 'more' | 'caught-up' | 'idle';

export class SpoolShipper {
  private readonly spool: AuditSpool;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly maxBatchBytes: number;
  private readonly lingerMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly fsync: boolean;
  private readonly onError: (error: Error) => void;
  private readonly agent: Agent;
  private readonly abort = new AbortController();
  private cursor: Cursor = { segment: 0, offset: 0 };
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private deadline = Infinity;
  private idle = false;
  private unsubscribe: (() => void) | undefined;
  private napTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(spool: AuditSpool, options: SpoolShipperOptions) {
    this.spool = spool;
    this.url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
    this.headers = { ...options.headers, 'content-type': 'application/x-protobuf' };
    this.maxBatchBytes = options.maxBatchBytes ?? 4 << 20;
    this.lingerMs = options.lingerMs ?? 100;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5_000;
    this.backoff = {
      minBackoffMs: options.minBackoffMs ?? 200,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 120_000,
    };
    this.fsync = options.fsync ?? false;
    this.onError = options.onError ?? (() => undefined);
    const timeout = options.requestTimeoutMs ?? 10_000;
    this.agent = new Agent({ headersTimeout: timeout, bodyTimeout: timeout, connect: { timeout } });
  }

  /** Starts shipping in the background (idempotent); resolves once the spool is open and the cursor read. */
  async start(): Promise<void> {
    if (this.running || this.stopped) return;
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    this.running = this.run(ready).catch((error: unknown) => this.report(error));
    await Promise.race([started, this.running]);
  }

  shutdown(): Promise<void> {
    this.stopped ??= this.stop();
    return this.stopped;
  }

  private async stop(): Promise<void> {
    this.deadline = Date.now() + this.shutdownTimeoutMs;
    this.wake();
    if (this.running) {
      const timer = setTimeout(() => this.abort.abort(), this.shutdownTimeoutMs);
      await this.running;
      clearTimeout(timer);
    }
    this.unsubscribe?.();
    clearTimeout(this.lingerTimer);
    await this.agent.close().catch((error: unknown) => this.report(error));
  }

  private async run(ready: () => void): Promise<void> {
    for (;;) {
      try {
        await this.spool.start();
        this.cursor = await readCursor(this.spool.dir);
        break;
      } catch (error) {
        this.report(error);
        ready(); // start() does not wait for a spool that cannot open; we keep trying
        await this.nap(this.backoff.maxBackoffMs, false);
        if (this.pastDeadline()) return;
      }
    }
    this.unsubscribe = this.spool.onCommit(() => this.committed());
    ready();
    while (!this.pastDeadline()) {
      let progress: Progress;
      try {
        progress = await this.shipNext();
      } catch (error) {
        this.report(error); // a disk error: retry after a pause
        await this.nap(this.backoff.maxBackoffMs, false);
        continue;
      }
      if (progress === 'more') continue;
      if (this.deadline !== Infinity) {
        if (progress === 'idle') return; // shutting down and caught up
        continue;
      }
      // Caught up after a send: let spans gather for lingerMs, so a trickle of requests
      // does not cost one read, POST and cursor write each.
      if (progress === 'caught-up') await this.nap(this.lingerMs, false);
      else await this.nap(IDLE_POLL_MS, true);
    }
  }

  /**
   * Ships one batch or moves past one finished segment: 'more' when there may be
   * more to ship right away, 'caught-up' when it shipped everything committed,
   * 'idle' when there was nothing to ship.
   */
  private async shipNext(): Promise<Progress> {
    const writer = this.spool.writer;
    for (const { segment, bytes } of await listSegments(this.spool.dir)) {
      const open = writer.isOpen(segment);
      if (segment < this.cursor.segment) {
        if (!open) await this.spool.release(segment); // acknowledged before a crash, not yet deleted
        continue;
      }
      const from = segment === this.cursor.segment ? this.cursor.offset : 0;
      const limit = writer.committedBytes(segment) ?? bytes;
      const read = await readFrames(this.spool.dir, segment, from, limit, this.maxBatchBytes);
      if (read.frames.length > 0) {
        let frames = read.frames;
        for (;;) {
          const outcome = await this.send(Buffer.concat(frames.map((frame) => frame.payload)), frames.length > 1);
          if (outcome === 'stopped') return 'idle';
          if (outcome === 'sent') break;
          frames = frames.slice(0, Math.ceil(frames.length / 2)); // 413: send fewer frames
        }
        const end = frames[frames.length - 1]!.end;
        await this.advance({ segment, offset: end });
        this.spool.counters.shippedSpans += frames.reduce((sum, frame) => sum + frame.spanCount, 0);
        return open && end >= limit ? 'caught-up' : 'more';
      }
      if (open) return 'idle';
      if (read.torn) this.spool.counters.tornFrames++;
      await this.advance({ segment: segment + 1, offset: 0 });
      await this.spool.release(segment);
    }
    return 'idle';
  }

  /**
   * Sends until a 2xx ('sent'). 'too-large' on a 413 when the batch `canShrink`;
   * 'stopped' when shutdown's deadline passed first.
   */
  private async send(body: Buffer, canShrink: boolean): Promise<'sent' | 'too-large' | 'stopped'> {
    for (let attempt = 0; ; attempt++) {
      let wait: number;
      try {
        const response = await request(this.url, {
          method: 'POST',
          headers: this.headers,
          body,
          dispatcher: this.agent,
          signal: this.abort.signal,
        });
        if (response.statusCode >= 200 && response.statusCode < 300) {
          const bytes = new Uint8Array(await response.body.arrayBuffer());
          this.checkPartialSuccess(bytes, response.headers['content-type']);
          return 'sent';
        }
        await response.body.dump();
        if (response.statusCode === 413 && canShrink) {
          this.fail(new Error('audit shipper: collector answered 413; sending smaller batches'));
          return 'too-large';
        }
        const retryable = response.statusCode === 429 || response.statusCode === 503;
        const asked = retryable ? retryAfterMs(response.headers['retry-after'], this.backoff.maxRetryAfterMs) : undefined;
        wait = asked ?? backoffDelay(attempt, this.backoff);
        this.fail(new Error(response.statusCode === 401
          ? 'audit shipper: collector answered 401: this instance\'s ingest key is missing or revoked (audit.collectorToken or GATEHOUSE_INGEST_KEY); records wait in the spool'
          : `audit shipper: collector answered ${response.statusCode}`));
      } catch (error) {
        wait = backoffDelay(attempt, this.backoff);
        this.fail(error);
      }
      if (this.pastDeadline() || Date.now() + wait > this.deadline) return 'stopped';
      await this.nap(wait, false);
      if (this.pastDeadline()) return 'stopped';
    }
  }

  /** OTLP partial success: the collector refused some spans for good; retrying cannot help. */
  private checkPartialSuccess(bytes: Uint8Array, contentType: string | string[] | undefined): void {
    if (bytes.byteLength === 0 || !String(contentType ?? '').includes('protobuf')) return;
    try {
      const partial = ProtobufTraceSerializer.deserializeResponse(bytes).partialSuccess;
      if (partial?.rejectedSpans) {
        this.report(new Error(`audit shipper: collector rejected ${partial.rejectedSpans} spans: ${partial.errorMessage ?? ''}`));
      }
    } catch (error) {
      this.report(error);
    }
  }

  private async advance(cursor: Cursor): Promise<void> {
    this.cursor = cursor;
    try {
      await writeCursor(this.spool.dir, cursor, this.fsync);
    } catch (error) {
      this.report(error); // a resend after a restart is harmless; keep going
    }
  }

  private committed(): void {
    if (!this.idle || this.lingerTimer) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.wake();
    }, this.lingerMs);
    this.lingerTimer.unref();
  }

  /** Sleeps `ms`; `wake()` (shutdown, or a commit when `idle`) cuts it short. */
  private nap(ms: number, idle: boolean): Promise<void> {
    this.idle = idle;
    return new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      this.napTimer = setTimeout(resolve, Math.min(ms, Math.max(0, this.deadline - Date.now())));
      this.napTimer.unref();
    }).finally(() => {
      this.idle = false;
      this.wakeUp = undefined;
      clearTimeout(this.napTimer);
    });
  }

  private wake(): void {
    this.wakeUp?.();
  }

  private pastDeadline(): boolean {
    return Date.now() >= this.deadline;
  }

  private fail(error: unknown): void {
    this.spool.counters.shipFailures++;
    this.report(error);
  }

  private report(error: unknown): void {
    this.onError(error instanceof Error ? error : new Error(String(error)));
  }
}
