/**
 * Appends frames to the active segment of a spool directory and rotates
 * segments. It owns the files on disk: their creation, their deletion and the
 * count of bytes they hold. Callers serialize calls to `append` (the spool's
 * group-commit loop has at most one write in flight).
 *
 * Guarantees: `append` resolves only when the whole frame is in the file (and,
 * with `fsync`, on stable storage); a failed append truncates the segment back
 * to its committed size (segments are opened O_APPEND, so the next frame lands
 * right there), so nothing is ever appended after a partial frame, and a disk
 * that stays full does not leave a trail of new empty segments. Only when the
 * truncation itself fails is the segment closed; the next append opens another.
 * Files are created 0600: they hold the request records.
 */
import { ftruncateSync, writeSync, writevSync } from 'node:fs';
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { readCursor } from './cursor.js';
import { listSegments, segmentPath } from './segmentFiles.js';

export interface SegmentWriterOptions {
  dir: string;
  segmentBytes: number;
  fsync: boolean;
  /** Write on the event loop instead of libuv's thread pool (see `append`). */
  inline: boolean;
}

export class SegmentWriter {
  private readonly options: SegmentWriterOptions;
  /** Committed bytes of every segment on disk, by segment number. */
  private readonly sizes = new Map<number, number>();
  private handle: FileHandle | undefined;
  private active = 0;
  private total = 0;
  private inventoried = false;
  /** write/writev system calls made, for the group-commit counter. */
  writes = 0;

  constructor(options: SegmentWriterOptions) {
    this.options = options;
  }

  /**
   * Creates the directory, takes stock of existing segments (once) and opens a
   * new segment unless one is open. Safe to call again after a failure.
   */
  async open(): Promise<void> {
    if (!this.inventoried) {
      await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
      for (const { segment, bytes } of await listSegments(this.options.dir)) {
        this.sizes.set(segment, bytes);
        this.total += bytes;
        this.active = Math.max(this.active, segment);
      }
      // Never reuse a number at or before the shipper's cursor: it would be skipped as shipped.
      this.active = Math.max(this.active, (await readCursor(this.options.dir)).segment);
      this.inventoried = true;
    }
    if (!this.handle) await this.openNext();
  }

  get bytesOnDisk(): number {
    return this.total;
  }

  get activeSegment(): number {
    return this.active;
  }

  /**
   * Bytes of whole frames in `segment` when this writer knows them: exact for
   * segments it wrote, the file size for segments of earlier runs (whose torn
   * tail readers detect). Undefined for files it did not take stock of.
   */
  committedBytes(segment: number): number | undefined {
    return this.sizes.get(segment);
  }

  /**
   * True while `segment` may still grow or is about to be created: readers must
   * stop at its committed size and must not delete it. Once false for a
   * segment, it stays false.
   */
  isOpen(segment: number): boolean {
    return segment > this.active || (segment === this.active && this.handle !== undefined);
  }

  /**
   * Appends one frame (header and payload in a single writev).
   *
   * With `inline`, the write runs on the event loop: it lands in the page cache,
   * which costs about 4 µs for a group of spans, while the same writev through
   * libuv's thread pool costs 15-20 µs of event-loop CPU plus a thread hand-off
   * (35-45 µs wall, measured: bench/analysis.md). The price is that a disk the
   * kernel throttles stalls the whole event loop, not only the requests waiting
   * for their records, so the spool asks for it only in 'required' mode, where
   * those requests wait for the disk anyway. The fsync itself stays asynchronous.
   */
  async append(header: Buffer, payload: Uint8Array): Promise<void> {
    if (!this.handle) await this.openNext();
    const handle = this.handle;
    if (!handle) throw new Error('audit spool: no segment open');
    const size = header.byteLength + payload.byteLength;
    try {
      this.writes++;
      let written = this.options.inline ? writevSync(handle.fd, [header, payload]) : (await handle.writev([header, payload])).bytesWritten;
      while (written < size) {
        const rest = Buffer.concat([header, payload]).subarray(written);
        this.writes++;
        written += this.options.inline ? writeSync(handle.fd, rest) : (await handle.write(rest)).bytesWritten;
      }
      if (this.options.fsync) await handle.datasync();
    } catch (error) {
      await this.discardPartial(handle);
      throw error;
    }
    this.sizes.set(this.active, (this.sizes.get(this.active) ?? 0) + size);
    this.total += size;
    if ((this.sizes.get(this.active) ?? 0) >= this.options.segmentBytes) await this.rotate();
  }

  /** Deletes a segment that is not the active one; a missing file is not an error. */
  async remove(segment: number): Promise<void> {
    if (this.isOpen(segment)) throw new Error('audit spool: cannot remove an open segment');
    try {
      await unlink(segmentPath(this.options.dir, segment));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.total -= this.sizes.get(segment) ?? 0;
    this.sizes.delete(segment);
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  /** Cuts a failed append's partial frame off the active segment; closes the segment if that fails. */
  private async discardPartial(handle: FileHandle): Promise<void> {
    try {
      const committed = this.sizes.get(this.active) ?? 0;
      if (this.options.inline) ftruncateSync(handle.fd, committed);
      else await handle.truncate(committed);
    } catch {
      await this.close().catch(() => undefined);
    }
  }

  /** Closes the active segment and opens the next; on failure the next append retries the open. */
  private async rotate(): Promise<void> {
    await this.close().catch(() => undefined);
    await this.openNext();
  }

  private async openNext(): Promise<void> {
    let segment = this.active + 1;
    let handle: FileHandle;
    for (;;) {
      try {
        // 'ax': never reopened (a torn tail stays the tail), and every write goes to the end of the file.
        handle = await open(segmentPath(this.options.dir, segment), 'ax', 0o600);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        segment++;
      }
    }
    this.handle = handle;
    this.active = segment;
    this.sizes.set(segment, 0);
    if (this.options.fsync) await this.syncDirectory();
  }

  /** Makes a new file's directory entry durable (needed for fsync mode only). */
  private async syncDirectory(): Promise<void> {
    const directory = await open(this.options.dir, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}
