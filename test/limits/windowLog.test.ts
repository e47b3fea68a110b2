import { describe, expect, it } from 'vitest';
import { WINDOW_MS } from '../../proxy/limits/types.js';
import { INITIAL_CAPACITY, WindowLog } from '../../proxy/limits/windowLog.js';

const T0 = Date.UTC(2100, 0, 15, 12, 0, 0);

/** A log with one entry per time, each with `tokens` tokens. */
function logOf(times: readonly number[], tokens = 10): { log: WindowLog; ids: number[] } {
  const log = new WindowLog();
  return { log, ids: times.map((at) => log.add(at, tokens)) };
}

describe('window log', () => {
  it('counts an entry made at t while now - WINDOW_MS < t, and frees it exactly at t + WINDOW_MS', () => {
    const { log } = logOf([T0]);
    log.evict(T0 + WINDOW_MS - 1);
    expect(log.count()).toEqual({ requests: 1, tokens: 10, oldestAt: T0 });
    log.evict(T0 + WINDOW_MS);
    expect(log.count()).toEqual({ requests: 0, tokens: 0, oldestAt: undefined });
    expect(log.isEmpty).toBe(true);
  });

  it('ignores adjust and remove of an evicted entry, also after its slot was reused', () => {
    const { log, ids } = logOf([T0]);
    log.evict(T0 + WINDOW_MS);
    for (let i = 0; i < INITIAL_CAPACITY + 3; i++) log.add(T0 + WINDOW_MS + i, 1);
    log.adjust(ids[0]!, 500);
    log.remove(ids[0]!);
    expect(log.count()).toEqual({ requests: INITIAL_CAPACITY + 3, tokens: INITIAL_CAPACITY + 3, oldestAt: T0 + WINDOW_MS });
  });

  it('adjusts a live entry (estimate → actual), also one past its time that no evict has dropped yet', () => {
    const { log, ids } = logOf([T0, T0 + 1]);
    log.adjust(ids[0]!, 3);
    expect(log.tokens).toBe(13);
    log.adjust(ids[1]!, 0);
    expect(log.count()).toEqual({ requests: 2, tokens: 3, oldestAt: T0 });
  });

  it('removes an entry once: the second remove, and adjust after remove, are ignored', () => {
    const { log, ids } = logOf([T0, T0 + 1, T0 + 2]);
    log.remove(ids[1]!);
    log.remove(ids[1]!);
    log.adjust(ids[1]!, 99);
    expect(log.count()).toEqual({ requests: 2, tokens: 20, oldestAt: T0 });
    log.remove(ids[0]!);
    expect(log.count()).toEqual({ requests: 1, tokens: 10, oldestAt: T0 + 2 });
    expect(log.isEmpty).toBe(false); // released entries keep their slots until they leave the window
    log.evict(T0 + 2 + WINDOW_MS);
    expect(log.isEmpty).toBe(true);
  });

  it('skips released entries when computing wait times', () => {
    const times = [T0, T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000];
    const { log, ids } = logOf(times, 100);
    log.remove(ids[0]!);
    log.remove(ids[2]!);
    const now = T0 + 5000;
    // live: T0+1000, T0+3000, T0+4000 (300 tokens)
    expect(log.waitForRequest(3, now)).toBe(T0 + 1000 + WINDOW_MS - now);
    expect(log.waitForRequest(2, now)).toBe(T0 + 3000 + WINDOW_MS - now);
    expect(log.waitForRequest(1, now)).toBe(T0 + 4000 + WINDOW_MS - now);
    expect(log.waitForRequest(0, now)).toBe(WINDOW_MS); // never fits
    expect(log.waitForTokens(350, 100, now)).toBe(T0 + 1000 + WINDOW_MS - now);
    expect(log.waitForTokens(300, 150, now)).toBe(T0 + 3000 + WINDOW_MS - now);
    expect(log.waitForTokens(100, 100, now)).toBe(T0 + 4000 + WINDOW_MS - now);
    expect(log.oldestAt).toBe(T0 + 1000);
  });

  it('grows past its initial capacity, also when the ring has wrapped, keeping every id', () => {
    const log = new WindowLog();
    const early = Array.from({ length: 6 }, (_, i) => log.add(T0 + i, 1));
    log.evict(T0 + 4 + WINDOW_MS); // drops the first 5: the ring now starts mid-buffer
    const ids = [early[5]!];
    for (let i = 0; i < 40; i++) ids.push(log.add(T0 + 10 + i, 1));
    expect(log.capacity).toBeGreaterThan(INITIAL_CAPACITY);
    expect(log.count()).toEqual({ requests: 41, tokens: 41, oldestAt: T0 + 5 });
    ids.forEach((id, i) => log.adjust(id, i));
    expect(log.tokens).toBe((40 * 41) / 2);
    log.remove(ids[20]!); // made at T0 + 29
    expect(log.waitForRequest(40, T0 + 100)).toBe(T0 + 5 + WINDOW_MS - (T0 + 100));
    expect(log.waitForRequest(21, T0 + 100)).toBe(T0 + 28 + WINDOW_MS - (T0 + 100)); // the 20th live entry
    expect(log.waitForRequest(20, T0 + 100)).toBe(T0 + 30 + WINDOW_MS - (T0 + 100)); // the 21st, past the removed one
  });

  it('shrinks a mostly empty ring and keeps the survivors addressable', () => {
    const log = new WindowLog();
    const ids = Array.from({ length: 1000 }, (_, i) => log.add(T0 + i, 1));
    expect(log.capacity).toBe(1024);
    log.evict(T0 + 989 + WINDOW_MS); // 10 left
    expect(log.capacity).toBeLessThanOrEqual(32);
    expect(log.count()).toEqual({ requests: 10, tokens: 10, oldestAt: T0 + 990 });
    log.adjust(ids[995]!, 6);
    log.adjust(ids[500]!, 6); // evicted: ignored
    expect(log.tokens).toBe(15);
    log.evict(T0 + 999 + WINDOW_MS);
    expect(log.isEmpty).toBe(true);
    expect(log.capacity).toBe(INITIAL_CAPACITY);
  });

  it('answers exactly like the object-per-entry log it replaced, over random operations', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const capacities = new Set<number>();
    for (let round = 0; round < 12; round++) {
      const log = new WindowLog();
      const oracle = new ObjectLog();
      const ids: number[] = [];
      const entries: OracleEntry[] = [];
      const pause = WINDOW_MS / (1 + round); // later rounds keep more entries in the window
      let now = T0;
      for (let step = 0; step < 2500; step++) {
        const op = random(10);
        if (op < 4) {
          now += random(3) === 0 ? 0 : random(200) - 10; // a clock may step back a little
          log.evict(now);
          oracle.evict(now);
          const tokens = random(50);
          ids.push(log.add(now, tokens));
          entries.push(oracle.add(now, tokens));
        } else if (op < 6 && ids.length > 0) {
          const i = random(ids.length);
          const tokens = random(80);
          log.adjust(ids[i]!, tokens);
          oracle.adjust(entries[i]!, tokens);
        } else if (op < 7 && ids.length > 0) {
          const i = random(ids.length);
          log.remove(ids[i]!);
          oracle.remove(entries[i]!);
        } else if (op < 8) {
          now += random(pause);
          log.evict(now);
          oracle.evict(now);
        }
        capacities.add(log.capacity);
        expect(log.count()).toEqual(oracle.count());
        expect(log.isEmpty).toBe(oracle.isEmpty);
        const limit = 1 + random(300);
        expect(log.waitForRequest(limit, now)).toBe(oracle.waitForRequest(limit, now));
        const tokenLimit = 1 + random(8000);
        const need = random(tokenLimit + 1);
        expect(log.waitForTokens(tokenLimit, need, now)).toBe(oracle.waitForTokens(tokenLimit, need, now));
      }
    }
    expect(Math.max(...capacities)).toBeGreaterThanOrEqual(16 * INITIAL_CAPACITY); // the ring grew and shrank on the way
    expect(capacities.size).toBeGreaterThanOrEqual(5);
  });
});

interface OracleEntry {
  readonly at: number;
  tokens: number;
  live: boolean;
}

/** The sliding-window log as it was before the ring (one object per entry), kept as the oracle. */
class ObjectLog {
  private entries: OracleEntry[] = [];
  private head = 0;
  requests = 0;
  tokens = 0;

  evict(now: number): void {
    const cutoff = now - WINDOW_MS;
    while (this.head < this.entries.length && this.entries[this.head]!.at <= cutoff) this.remove(this.entries[this.head++]!);
  }

  get isEmpty(): boolean {
    return this.head >= this.entries.length;
  }

  add(at: number, tokens: number): OracleEntry {
    const entry = { at, tokens, live: true };
    this.entries.push(entry);
    this.requests++;
    this.tokens += tokens;
    return entry;
  }

  adjust(entry: OracleEntry, tokens: number): void {
    if (!entry.live) return;
    this.tokens += tokens - entry.tokens;
    entry.tokens = tokens;
  }

  remove(entry: OracleEntry): void {
    if (!entry.live) return;
    entry.live = false;
    this.requests--;
    this.tokens -= entry.tokens;
  }

  count(): { requests: number; tokens: number; oldestAt: number | undefined } {
    const oldest = this.entries.slice(this.head).find((entry) => entry.live);
    return { requests: this.requests, tokens: this.tokens, oldestAt: oldest?.at };
  }

  waitForRequest(limit: number, now: number): number {
    let mustLeave = this.requests + 1 - limit;
    for (let i = this.head; i < this.entries.length && mustLeave > 0; i++) {
      const entry = this.entries[i]!;
      if (entry.live && --mustLeave === 0) return entry.at + WINDOW_MS - now;
    }
    return WINDOW_MS;
  }

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
