import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { limitError } from '../../proxy/limits/denial.js';
import { rateLimitHeaders } from '../../proxy/limits/headers.js';
import { RedisLimitStore } from '../../proxy/limits/redisStore.js';
import type { ReserveResult } from '../../proxy/limits/types.js';
import { describeWithRedis, startRedis, type RunningRedis } from '../support/redis.js';
import { storeContract, T0 } from './storeContract.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HAMMER = fileURLToPath(new URL('./hammer.ts', import.meta.url));

describeWithRedis('redis limit store', () => {
  let redis: RunningRedis;
  let store: RedisLimitStore;
  let admin: Redis;
  const prefix = 'gh-test:';

  beforeAll(async () => {
    redis = await startRedis();
    store = new RedisLimitStore({ url: redis.url, keyPrefix: prefix });
    await store.start();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await store?.shutdown();
    await redis?.stop();
  });

  storeContract(() => store);

  it('holds a limit of N exactly across two proxy processes sharing Redis', async () => {
    const key = `tenant-${Date.now()}`;
    const startAt = Date.now() + 2500;
    const args = (): string[] => ['--import', 'tsx', HAMMER, redis.url, prefix, key, '100', '150', String(startAt)];
    const [a, b] = await Promise.all([
      run(process.execPath, args(), { cwd: REPO }),
      run(process.execPath, args(), { cwd: REPO }),
    ]);
    const first = JSON.parse(a.stdout) as { ok: number; denied: number; unavailable: number };
    const second = JSON.parse(b.stdout) as { ok: number; denied: number; unavailable: number };
    expect(first.unavailable + second.unavailable).toBe(0);
    expect(first.ok + second.ok).toBe(100);
    expect(first.denied + second.denied).toBe(200);
    const [usage] = await store.usage([{ scope: 'tenant', key }]);
    expect(usage!.requestsLastMinute).toBe(100);
  });

  it('runs its scripts again after the server forgot them (EVALSHA falls back to EVAL)', async () => {
    await admin.script('FLUSH');
    const limits = [{ scope: 'user' as const, key: `flush-${Date.now()}`, requestsPerMinute: 1 }];
    expect((await store.reserve({ limits, budgets: [], estimatedTokens: 1, now: T0 })).ok).toBe(true);
    expect((await store.reserve({ limits, budgets: [], estimatedTokens: 1, now: T0 })).ok).toBe(false);
  });

  it('keeps every key under the prefix, with a TTL', async () => {
    const key = `ttl-${Date.now()}`;
    const now = Date.now();
    const result = await store.reserve({
      limits: [{ scope: 'user', key, requestsPerMinute: 5 }],
      budgets: [{ scope: 'user', key, usdPerDay: 1 }],
      estimatedTokens: 3,
      estimatedCostUsd: 0.01,
      now,
    });
    expect(result.ok).toBe(true);
    const keys = await admin.keys(`*${key}*`);
    expect(keys).toHaveLength(4);
    for (const k of keys) {
      expect(k.startsWith(prefix)).toBe(true);
      const ttl = await admin.pttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(62 * 86_400_000);
    }
    const windowKeys = keys.filter((k) => k.startsWith(`${prefix}w`));
    for (const k of windowKeys) expect(await admin.pttl(k)).toBeLessThanOrEqual(120_000);
  });
});

describeWithRedis('redis limit store when Redis is down', () => {
  let redis: RunningRedis;
  const errors: string[] = [];
  let closed: RedisLimitStore;
  let open: RedisLimitStore;
  const limits = [{ scope: 'tenant' as const, key: 'tenant-down', requestsPerMinute: 10 }];

  beforeAll(async () => {
    redis = await startRedis();
    const onError = (_: unknown, operation: string): void => void errors.push(operation);
    closed = new RedisLimitStore({ url: redis.url, commandTimeoutMs: 200, onError });
    open = new RedisLimitStore({ url: redis.url, commandTimeoutMs: 200, failMode: 'open', onError });
    await Promise.all([closed.start(), open.start()]);
  });
  afterAll(async () => {
    await closed?.shutdown();
    await open?.shutdown();
    await redis?.stop();
  });

  it('fails closed with 503 limits_unavailable by default, open when configured, and recovers', async () => {
    // The 200 ms command timeout can trip on a loaded machine: the baseline only needs one reservation while Redis is up.
    let before = await closed.reserve({ limits, budgets: [], estimatedTokens: 1 });
    for (let i = 0; i < 20 && !before.ok; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      before = await closed.reserve({ limits, budgets: [], estimatedTokens: 1 });
    }
    if (!before.ok) throw new Error('refused while Redis is up');
    await redis.stop();

    const refused = await closed.reserve({ limits, budgets: [], estimatedTokens: 1 });
    expect(refused).toMatchObject({ ok: false, code: 'limits_unavailable', retryAfterSeconds: 1 });
    if (refused.ok) return;
    const error = limitError(refused);
    expect(error).toMatchObject({ code: 'limits_unavailable', status: 503, retryAfterSeconds: 1 });
    expect(rateLimitHeaders(refused)).toEqual({ 'retry-after': '1' });

    const admitted = await open.reserve({ limits, budgets: [], estimatedTokens: 1 });
    expect(admitted).toMatchObject({ ok: true, reservation: { enforced: false } });
    expect(rateLimitHeaders(admitted)).toEqual({});

    await expect(closed.settle(before.reservation, { tokens: 5, costUsd: 0.1 })).resolves.toBeUndefined();
    expect(errors).toEqual(expect.arrayContaining(['reserve', 'settle']));
    expect(await closed.usage(limits)).toEqual([expect.objectContaining({ requestsLastMinute: 0 })]);

    redis = await startRedis({ port: redis.port });
    let again: ReserveResult = refused;
    for (let i = 0; i < 50 && !again.ok; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      again = await closed.reserve({ limits, budgets: [], estimatedTokens: 1 });
    }
    expect(again.ok).toBe(true);
  });

  it('starts without Redis and refuses until it is reachable', async () => {
    const nowhere = new RedisLimitStore({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200 });
    await nowhere.start();
    expect(await nowhere.reserve({ limits, budgets: [], estimatedTokens: 1 })).toMatchObject({ ok: false, code: 'limits_unavailable' });
    await nowhere.shutdown();
    await nowhere.shutdown();
  });
});
