/**
 * The in-memory sliding-window log of one rate-limit scope: one entry per admitted
 * request, with its tokens, kept for WINDOW_MS. An entry made at t is counted while
 * now - WINDOW_MS < t, so capacity it holds frees exactly at t + WINDOW_MS.
 * Entries are appended in time order; released entries stay in place but count zero.
 *
 * Why a ring of typed arrays: at 1,000 req/s a scope holds 60,000 entries, each
 * alive for a minute. As objects they outlive the young generation and pile up in
 * old space; in two Float64Arrays (16 bytes an entry) a request allocates nothing.
 * An entry is named by its EntryId, a sequence number that only grows: ids below
 * `first` have been evicted, so a late settle of an evicted entry finds nothing.
 */
import { WINDOW_MS } from './types.js';
import type { WindowCount } from './scopes.js';

/** Names one entry of one log: its sequence number in that log. */
export type EntryId = number;

/**
 * Slots a new log starts with. 8 doubles are 64 bytes, the largest typed array V8
 * keeps on its own heap, so a log for a scope that sees one request is cheap.
 */
export const INITIAL_CAPACITY = 8;

/** The tokens of a released entry: it keeps its slot (ids stay put) but counts zero. */
const RELEASED = NaN;

/** The smallest power-of-two capacity, at least INITIAL_CAPACITY, with room to double `size`. */
function capacityFor(size: number): number {
  let capacity = INITIAL_CAPACITY;
  while (capacity < size * 2) capacity *= 2;
  return capacity;
}

/** A log is its own WindowCount: the store reads requests, tokens and oldestAt without a copy. */
export class WindowLog implements WindowCount {
  /** Time (Unix ms) and tokens of each kept entry, by slot. Capacity is a power of two. */
  private times = new Float64Array(INITIAL_CAPACITY);
  private tokenCounts = new Float64Array(INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;
  /** Id of the oldest kept entry, and its slot. */
  private first: EntryId = 0;
  private firstSlot = 0;
  /** Id the next entry gets. Entries first..next-1 are kept. */
  private next: EntryId = 0;
  private liveRequests = 0;
  private liveTokens = 0;

  /** Live entries (admitted, not released, still in the window as of the last evict). */
  get requests(): number {
    return this.liveRequests;
  }

  /** Tokens of the live entries. */
  get tokens(): number {
    return this.liveTokens;
  }

  /** Slots allocated, for tests and memory accounting. */
  get capacity(): number {
    return this.times.length;
  }

  /** True when no entry is kept, live or released: the store may forget this log. */
  get isEmpty(): boolean {
    return this.first === this.next;
  }

  private slotOf(id: EntryId): number {
    return (this.firstSlot + (id - this.first)) & this.mask;
  }

  /** The slot of a live entry, or -1 when it was evicted or released. */
  private liveSlot(id: EntryId): number {
    if (id < this.first || id >= this.next) return -1;
    const slot = this.slotOf(id);
    return Number.isNaN(this.tokenCounts[slot]) ? -1 : slot;
  }

  /** Drops entries that left the window ending at `now`, and shrinks a mostly empty ring. */
  evict(now: number): void {
    const cutoff = now - WINDOW_MS;
    while (this.first < this.next && this.times[this.firstSlot]! <= cutoff) {
      this.remove(this.first);
      this.first++;
      this.firstSlot = (this.firstSlot + 1) & this.mask;
    }
    const size = this.next - this.first;
    if (this.capacity > INITIAL_CAPACITY && size * 4 <= this.capacity) this.resize(capacityFor(size));
  }

  add(at: number, tokens: number): EntryId {
    if (this.next - this.first === this.capacity) this.resize(this.capacity * 2);
    const slot = this.slotOf(this.next);
    this.times[slot] = at;
    this.tokenCounts[slot] = tokens;
    this.liveRequests++;
    this.liveTokens += tokens;
    return this.next++;
  }

  /** Sets a live entry's tokens (estimate → actual); an evicted or released entry is ignored. */
  adjust(id: EntryId, tokens: number): void {
    const slot = this.liveSlot(id);
    if (slot < 0) return;
    this.liveTokens += tokens - this.tokenCounts[slot]!;
    this.tokenCounts[slot] = tokens;
  }

  /** Stops counting a live entry; removing an evicted or released one is ignored. */
  remove(id: EntryId): void {
    const slot = this.liveSlot(id);
    if (slot < 0) return;
    this.liveRequests--;
    this.liveTokens -= this.tokenCounts[slot]!;
    this.tokenCounts[slot] = RELEASED;
  }

  /** Unix ms of the oldest live entry, or undefined when none is live. */
  get oldestAt(): number | undefined {
    for (let id = this.first; id < this.next; id++) {
      const slot = this.slotOf(id);
      if (!Number.isNaN(this.tokenCounts[slot])) return this.times[slot];
    }
    return undefined;
  }

  /** The counters as they stand now, as a plain object. */
  count(): WindowCount {
    return { requests: this.liveRequests, tokens: this.liveTokens, oldestAt: this.oldestAt };
  }

  /** Ms until one more request fits under `limit` (call after evict). */
  waitForRequest(limit: number, now: number): number {
    let mustLeave = this.liveRequests + 1 - limit;
    for (let id = this.first; id < this.next && mustLeave > 0; id++) {
      const slot = this.slotOf(id);
      if (!Number.isNaN(this.tokenCounts[slot]) && --mustLeave === 0) return this.times[slot]! + WINDOW_MS - now;
    }
    return WINDOW_MS;
  }

  /** Ms until `need` more tokens fit under `limit` (call after evict; need <= limit). */
  waitForTokens(limit: number, need: number, now: number): number {
    let excess = this.liveTokens + need - limit;
    for (let id = this.first; id < this.next && excess > 0; id++) {
      const slot = this.slotOf(id);
      const tokens = this.tokenCounts[slot]!;
      if (Number.isNaN(tokens)) continue;
      excess -= tokens;
      if (excess <= 0) return this.times[slot]! + WINDOW_MS - now;
    }
    return WINDOW_MS;
  }

  /** Moves the kept entries, oldest first, into a ring of `capacity` slots (ids do not change). */
  private resize(capacity: number): void {
    const times = new Float64Array(capacity);
    const tokenCounts = new Float64Array(capacity);
    this.copyInOrder(this.times, times);
    this.copyInOrder(this.tokenCounts, tokenCounts);
    this.times = times;
    this.tokenCounts = tokenCounts;
    this.mask = capacity - 1;
    this.firstSlot = 0;
  }

  private copyInOrder(from: Float64Array, to: Float64Array): void {
    const end = this.firstSlot + (this.next - this.first);
    if (end <= from.length) {
      to.set(from.subarray(this.firstSlot, end));
    } else {
      to.set(from.subarray(this.firstSlot));
      to.set(from.subarray(0, end - from.length), from.length - this.firstSlot);
    }
  }
}
