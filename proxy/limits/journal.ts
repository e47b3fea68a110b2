/**
 * The memory store's spend journal: every settled spend is appended here before
 * the response that settled it ends, so a `kill -9` at any moment loses none of
 * it. A line is one settle: its sequence number, UTC day and month, the budget
 * scopes it counts in, its tokens and its exact pico-USD.
 *
 * Group commit: settles in the same turn of the event loop share one write(2);
 * each settle's promise resolves once its line is in the file (the page cache:
 * it survives a process crash; `fsync: true` also survives power loss, at the
 * cost of a disk flush per write). The snapshot (snapshot.ts) records the last
 * sequence number it includes; at each snapshot the journal is rotated
 * (`.journal` → `.journal.old`, deleted once the snapshot is written), and at
 * start the entries after the snapshot's number are replayed. A line cut short
 * by a crash mid-write is the only one that can be lost, and its response had
 * not ended.
 */
import { writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ScopeKind } from '../policy/decision.js';

export interface JournalEntry {
  /** Sequence number, increasing across restarts. */
  s: number;
  /** UTC day `YYYY-MM-DD` and month `YYYY-MM` the spend is charged to. */
  d: string;
  m: string;
  /** The budget scopes it counts in: [scope, key]. */
  b: Array<[ScopeKind, string]>;
  /** Tokens, and pico-USD as integer text. */
  t: number;
  p: string;
}

/** In the write queue: the point where the journal is rotated. */
const ROTATE = Symbol('rotate');

export class SpendJournal {
  private handle: FileHandle | undefined;
  private queue: Array<string | typeof ROTATE> = [];
  private waiting: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private seq = 0;
  /** The current file ends in a line cut short by a crash: the next write starts a new line first. */
  private torn = false;

  constructor(readonly path: string, private readonly fsync = false, private readonly onError: (error: unknown) => void = () => {}) {}

  /** The entries of the rotated and the current journal after `afterSeq`, in order; a torn line is skipped. */
  async replay(afterSeq: number): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    for (const file of [`${this.path}.old`, this.path]) {
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return '';
        throw error;
      });
      if (file === this.path) this.torn = text !== '' && !text.endsWith('\n');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        let entry: JournalEntry;
        try {
          entry = JSON.parse(line) as JournalEntry;
        } catch {
          continue; // a line cut short by a crash mid-write
        }
        if (typeof entry.s !== 'number' || !Array.isArray(entry.b) || typeof entry.p !== 'string' || !/^\d{1,30}$/.test(entry.p)) continue;
        // Sequence numbers only grow: one seen already (a merge into .old cut short before the journal went) counts once.
        if (entry.s <= this.seq) continue;
        this.seq = entry.s;
        if (entry.s > afterSeq) out.push(entry);
      }
    }
    return out;
  }

  /** Continues numbering after `seq` (the snapshot's, when the journals were emptied). */
  startAfter(seq: number): void {
    this.seq = Math.max(this.seq, seq);
  }

  /** The last sequence number given out: a snapshot taken now includes every entry up to it. */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Appends one settle; resolves once its line is written, and rejects when it
   * could not be (the failure also goes to onError): spend that is not durable
   * must not be acknowledged as if it were.
   */
  append(entry: Omit<JournalEntry, 's'>): Promise<void> {
    this.seq += 1;
    this.queue.push(`${JSON.stringify({ s: this.seq, ...entry })}\n`);
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.schedule();
    return done;
  }

  /**
   * Starts a new journal from this point: entries appended before the call stay
   * in the current file, which becomes `.old` (merged into an `.old` left by a
   * snapshot that failed); entries after go to a new file. Call it in the same
   * turn as taking the snapshot's counters and `lastSeq`, then `written()` once
   * the snapshot is on disk.
   */
  rotate(): void {
    this.queue.push(ROTATE);
    this.schedule();
  }

  /** The snapshot holding the rotated entries is on disk: the old journal goes. */
  async written(): Promise<void> {
    await this.writing;
    await rm(`${this.path}.old`, { force: true });
  }

  async close(): Promise<void> {
    this.writing = this.writing.then(() => this.flush());
    await this.writing;
    await this.handle?.close();
    this.handle = undefined;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.writing = this.writing.then(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    const queue = this.queue;
    const waiting = this.waiting;
    this.queue = [];
    this.waiting = [];
    try {
      let lines = '';
      for (const item of queue) {
        if (item !== ROTATE) {
          lines += item;
          continue;
        }
        await this.write(lines);
        lines = '';
        await this.rotateNow();
      }
      await this.write(lines);
    } catch (error) {
      this.onError(error);
      for (const { reject } of waiting) reject(error);
      return;
    }
    for (const { resolve } of waiting) resolve();
  }

  private async write(lines: string): Promise<void> {
    if (lines === '') return;
    if (this.handle === undefined) {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      this.handle = await open(this.path, 'a', 0o600);
    }
    // In place, on the event loop, like the spool's frames in 'required' mode (segmentWriter.ts): a page-cache
    // write of one group costs a few µs, where FileHandle.write costs ~15 µs of event-loop CPU plus a
    // thread-pool hand-off per group (bench/analysis.md). The response waits for this line anyway.
    const bytes = Buffer.from(this.torn ? `\n${lines}` : lines);
    let written = 0;
    try {
      while (written < bytes.byteLength) written += writeSync(this.handle.fd, bytes, written);
    } catch (error) {
      // Part of a line may be in the file (a short write, then ENOSPC): the next write starts a new line,
      // so that line's fragment cannot swallow the next, acknowledged entry at replay.
      if (written > 0) this.torn = true;
      throw error;
    }
    this.torn = false;
    if (this.fsync) await this.handle.datasync();
  }

  private async rotateNow(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const old = `${this.path}.old`;
    const current = await readFile(this.path).catch(() => undefined);
    this.torn = false;
    if (current === undefined) return;
    // An .old left by a snapshot that was never written keeps its entries: append, never replace.
    const previous = await readFile(old).catch(() => undefined);
    if (previous === undefined) await rename(this.path, old);
    else {
      const merged = await open(old, 'a', 0o600);
      try {
        await merged.write(current);
        if (this.fsync) await merged.datasync();
      } finally {
        await merged.close();
      }
      await rm(this.path, { force: true });
    }
  }
}
