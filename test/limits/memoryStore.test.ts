import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLimitStore } from '../../proxy/limits/memoryStore.js';
import { storeContract } from './storeContract.js';

const NOW = Date.now();
const budget = { scope: 'tenant' as const, key: 'tenant-a', tokensPerDay: 1000, usdPerMonth: 5 };

describe('memory limit store', () => {
  const store = new MemoryLimitStore();
  beforeAll(() => store.start());
  afterAll(() => store.shutdown());
  storeContract(() => store);
});

describe('memory limit store snapshot', () => {
  let dir: string;
  const stores: MemoryLimitStore[] = [];
  const open = async (options: { snapshotIntervalMs?: number } = {}): Promise<MemoryLimitStore> => {
    const store = new MemoryLimitStore({ snapshotPath: join(dir, 'state', 'limits.json'), ...options });
    stores.push(store);
    await store.start();
    return store;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-limits-'));
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.shutdown();
    await rm(join(dir, 'state'), { recursive: true, force: true });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps budgets across a restart', async () => {
    const first = await open();
    const result = await first.reserve({ limits: [], budgets: [budget], estimatedTokens: 100, now: NOW });
    if (!result.ok) throw new Error('refused');
    await first.settle(result.reservation, { tokens: 1200, costUsd: 1.25 });
    await first.shutdown();
    await first.shutdown();

    const second = await open();
    const [usage] = await second.usage([budget], NOW);
    expect(usage).toMatchObject({ day: { tokens: 1200, usd: 1.25 }, month: { tokens: 1200, usd: 1.25 } });
    expect(await second.reserve({ limits: [], budgets: [budget], estimatedTokens: 1, now: NOW })).toMatchObject({
      ok: false, code: 'budget_exceeded', budget: 'tokensPerDay',
    });
    expect((await readdir(join(dir, 'state'))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('writes the snapshot periodically, not only on shutdown, with settled spend only', async () => {
    const store = await open({ snapshotIntervalMs: 20 });
    const settled = await store.reserve({ limits: [], budgets: [budget], estimatedTokens: 10, now: NOW });
    if (!settled.ok) throw new Error('refused');
    await store.settle(settled.reservation, { tokens: 42, costUsd: 0 });
    // In flight: not in the snapshot (a restart drops it with its request).
    await store.reserve({ limits: [], budgets: [budget], estimatedTokens: 1000, now: NOW });
    const path = join(dir, 'state', 'limits.json');
    let text = '';
    for (let i = 0; i < 100 && !text.includes('42'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      text = await readFile(path, 'utf8').catch(() => '');
    }
    expect(JSON.parse(text)).toMatchObject({ version: 2, journalSeq: 1 });
    expect(Object.values(JSON.parse(text).budgets)).toContainEqual([42, '0']);
  });

  it('drops periods that ended while the proxy was down', async () => {
    const old = new Date(NOW - 40 * 86_400_000).toISOString();
    const state = join(dir, 'state');
    await rm(state, { recursive: true, force: true });
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'limits.json'), JSON.stringify({
      version: 1,
      savedAt: NOW,
      budgets: { [`d:${old.slice(0, 10)}|tenant:tenant-a`]: [5000, 9], [`m:${old.slice(0, 7)}|tenant:tenant-a`]: [5000, 9] },
    }));
    const store = await open();
    expect((await store.usage([budget], NOW))[0]).toMatchObject({ day: { tokens: 0, usd: 0 }, month: { tokens: 0, usd: 0 } });
  });

  it('refuses to start on a corrupt snapshot, naming the file', async () => {
    const state = join(dir, 'state');
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'limits.json'), '{"version":1,"savedAt":1,"budgets":{"x":[1]}}');
    const store = new MemoryLimitStore({ snapshotPath: join(state, 'limits.json') });
    await expect(store.start()).rejects.toThrow(/limits\.json/);
    await store.shutdown();
  });
});
