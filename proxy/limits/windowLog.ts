/**
 * The in-memory sliding-window log of one rate-limit scope: one entry per admitted
 * request, with its tokens, kept for WINDOW_MS. An entry made at t is counted while
 * now - WINDOW_MS < t, so capacity it holds frees exactly at t + WINDOW_MS.
 * Entries are appended in time order; released entries stay in place but count zero.
 */
import { WINDOW_MS } from './types.js';
import type { WindowCount } from './scopes.js';

export interface WindowEntry {
  readonly at: number;
  tokens: number;
  live: boolean;
}

export class WindowLog {
  private entries: WindowEntry[] = [];
  private head = 0;
  /** Live entries and their tokens. */
  requests = 0;
  tokens = 0;

  /** Drops entries that left the window ending at `now`. */
  evict(now: number): void {
    const cutoff = now - WINDOW_MS;
    const entries = this.entries;
    while (this.head < entries.length && entries[this.head]!.at <= cutoff) {
      this.remove(entries[this.head]!);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > entries.length) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    }
  }

  get isEmpty(): boolean {
    return this.head >= this.entries.length;
  }

  add(at: number, tokens: number): WindowEntry {
    const entry: WindowEntry = { at, tokens, live: true };
    this.entries.push(entry);
    this.requests++;
    this.tokens += tokens;
    return entry;
  }

  /** Sets a live entry's tokens (estimate → actual); an evicted entry is out of the window and ignored. */
  adjust(entry: WindowEntry, tokens: number): void {
    if (!entry.live) return;
    this.tokens += tokens - entry.tokens;
    entry.tokens = tokens;
  }

  remove(entry: WindowEntry): void {
    if (!entry.live) return;
    entry.live = false;
    this.requests--;
    this.tokens -= entry.tokens;
  }

  count(): WindowCount {
    return { requests: this.requests, tokens: this.tokens, oldestAt: this.oldestLive()?.at };
  }

  private oldestLive(): WindowEntry | undefined {
    for (let i = this.head; i < this.entries.length; i++) if (this.entries[i]!.live) return this.entries[i];
    return undefined;
  }

  /** Ms until one more request fits under `limit` (call after evict). */
  waitForRequest(limit: number, now: number): number {
    let mustLeave = this.requests + 1 - limit;
    for (let i = this.head; i < this.entries.length && mustLeave > 0; i++) {
      const entry = this.entries[i]!;
      if (entry.live && --mustLeave === 0) return entry.at + WINDOW_MS - now;
    }
    return WINDOW_MS;
  }

  /** Ms until `need` more tokens fit under `limit` (call after evict; need <= limit). */
  waitForTokens(limit: number, need: number, now: number): number {
    let excess = this.tokens + need - limit;
    for (let i = this.head; i < this.entries.length && excess > 0; i++) {
      const entry = this.entries[i]!;
      if (!entry.live) continue;
      excess -= entry.tokens;
      if (excess <= 0) return entry.at + WINDOW_MS - now;
    }
    return WINDOW_MS;
  }
}
