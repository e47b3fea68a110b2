/**
 * The memory store's spend journal (proxy/limits/journal.ts): settled spend is
 * on disk when settle resolves; a store that dies without shutdown (kill -9)
 * comes back with every settled spend, counted once across snapshots and
 * rotations; a line cut short by a crash is skipped; in-flight estimates are
 * never persisted.
 */
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLimitStore } from '../../proxy/limits/memoryStore.js';

const NOW = Date.UTC(2100, 0, 15, 12, 0, 0);
const budget = { scope: 'user' as const, key: 'acme/bob', usdPerDay: 0.05 };

describe('spend journal', () => {
  let dir: string;
  let path: string;
  const open = async (options: { snapshotIntervalMs?: number } = {}) => {
    const store = new MemoryLimitStore({ snapshotPath: path, snapshotIntervalMs: options.snapshotIntervalMs ?? 3_600_000 });
    await store.start();
    return store;
  };
  const spend = async (store: MemoryLimitStore, pico: bigint) => {
    const r = await store.reserve({ limits: [], budgets: [budget], estimatedTokens: 5, estimatedCostUsd: 0.01, now: NOW });
    if (!r.ok) return r;
    await store.settle(r.reservation, { tokens: 11, costUsd: Number(pico) / 1e12, costPico: pico });
    return r;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-journal-'));
    path = join(dir, 'limits.json');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('has the settled spend on disk when settle resolves, and a store that died without shutdown gets it all back', async () => {
    const first = await open();
    for (let i = 0; i < 5; i++) expect((await spend(first, 10_000_000_000n)).ok).toBe(true);
    const lines = (await readFile(`${path}.journal`, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[0]!)).toEqual({ s: 1, d: '2100-01-15', m: '2100-01', b: [['user', 'acme/bob']], t: 11, p: '10000000000' });
    // No shutdown, no snapshot: as after kill -9.
    const second = await open();
    expect((await second.usage([budget], NOW))[0]).toMatchObject({ day: { tokens: 55, usd: 0.05 } });
    expect(await second.reserve({ limits: [], budgets: [budget], estimatedTokens: 1, now: NOW })).toMatchObject({ ok: false, code: 'budget_exceeded' });
    await second.shutdown();
    await first.shutdown();
  });

  it('counts each settle once across snapshots, rotations and restarts, and never persists in-flight estimates', async () => {
    const first = await open({ snapshotIntervalMs: 30 });
    await spend(first, 7_000_000_000n);
    // A snapshot is taken (and the journal rotated) ...
    for (let i = 0; i < 100 && !(await readFile(path, 'utf8').catch(() => '')).includes('7000000000'); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect((await readdir(dir)).filter((f) => f.endsWith('.old'))).toEqual([]);
    // The first store stops taking snapshots, as a killed process would.
    clearInterval((first as unknown as { timer: NodeJS.Timeout }).timer);
    // ... then more spend goes only to the new journal, and one request is in flight at the crash.
    await spend(first, 3_000_000_000n);
    await first.reserve({ limits: [], budgets: [budget], estimatedTokens: 999, estimatedCostUsd: 0.02, now: NOW });
    const second = await open();
    expect((await second.usage([budget], NOW))[0]).toMatchObject({ day: { tokens: 22, usd: 0.01 } });
    await second.shutdown();
    // After a clean shutdown the snapshot holds it all; the journal replays nothing twice.
    const third = await open();
    expect((await third.usage([budget], NOW))[0]).toMatchObject({ day: { tokens: 22, usd: 0.01 } });
    await third.shutdown();
    await first.shutdown();
  });

  it('skips a line cut short by a crash mid-write, and the next settle after the restart is not glued to it', async () => {
    const first = await open();
    await spend(first, 10_000_000_000n);
    await appendFile(`${path}.journal`, '{"s":2,"d":"2100-01-15","m":"2100-01","b":[["user","acme/bob"]],"t":11,"p":"1000');
    const second = await open();
    expect((await second.usage([budget], NOW))[0]).toMatchObject({ day: { tokens: 11, usd: 0.01 } });
    await spend(second, 20_000_000_000n);
    // Crash again (no shutdown): both settles are back.
    const third = await open();
    expect((await third.usage([budget], NOW))[0]).toMatchObject({ day: { tokens: 22, usd: 0.03 } });
    await third.shutdown();
    await second.shutdown();
    await first.shutdown();
  });

  it('rejects the settle when its line cannot be written, so the response is not acknowledged', async () => {
    const errors: string[] = [];
    const store = new MemoryLimitStore({ snapshotPath: path, snapshotIntervalMs: 3_600_000, onError: (error, op) => errors.push(`${op}: ${(error as NodeJS.ErrnoException).code}`) });
    await store.start();
    await mkdir(`${path}.journal`);
    const r = await store.reserve({ limits: [], budgets: [budget], estimatedTokens: 5, now: NOW });
    if (!r.ok) throw new Error('refused');
    await expect(store.settle(r.reservation, { tokens: 11, costUsd: 0.01 })).rejects.toThrow();
    expect(errors).toEqual(['journal: EISDIR']);
    await rm(`${path}.journal`, { recursive: true });
    await store.shutdown();
  });

  it('counts an entry once when a merge into .old was cut short with the journal still there', async () => {
    const line = (s: number, p: string) => `${JSON.stringify({ s, d: '2100-01-15', m: '2100-01', b: [['user', 'acme/bob']], t: 1, p })}\n`;
    await writeFile(`${path}.journal.old`, line(1, '1000000000000') + line(2, '2000000000000'));
    await writeFile(`${path}.journal`, line(2, '2000000000000'));
    const store = await open();
    expect((await store.usage([budget], NOW))[0]).toMatchObject({ day: { tokens: 2, usd: 3 } });
    await store.shutdown();
  });
});
