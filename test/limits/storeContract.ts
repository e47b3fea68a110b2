/**
 * The behaviour every LimitStore must have, run against each store by
 * memoryStore.test.ts and redisStore.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { LimitStore, ReserveResult } from '../../proxy/limits/types.js';

/** A fixed instant in the future (budget keys expire relative to real time), mid-day UTC. */
export const T0 = Date.UTC(2100, 0, 15, 12, 0, 0);
const DAY = 86_400_000;

function unique(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

function okCount(results: ReserveResult[]): number {
  return results.filter((r) => r.ok).length;
}

export function storeContract(store: () => LimitStore): void {
  it('admits exactly N of 200 concurrent reserves against a limit of N', async () => {
    const limits = [{ scope: 'user' as const, key: unique('u'), requestsPerMinute: 50 }];
    const results = await Promise.all(Array.from({ length: 200 }, () => store().reserve({ limits, budgets: [], estimatedTokens: 10, now: T0 })));
    expect(okCount(results)).toBe(50);
    for (const r of results) {
      if (r.ok) continue;
      expect(r.code).toBe('rate_limited');
      if (r.code !== 'rate_limited') continue;
      expect(r.dimension).toBe('requests');
      expect(r.scope.scope).toBe('user');
      expect(r.retryAfterSeconds).toBe(60);
      expect(r.window).toMatchObject({ limit: 50, remaining: 0 });
    }
  });

  it('admits exactly as many concurrent reserves as fit the tokens/min limit', async () => {
    const limits = [{ scope: 'tenant' as const, key: unique('t'), tokensPerMinute: 1000 }];
    const results = await Promise.all(Array.from({ length: 100 }, () => store().reserve({ limits, budgets: [], estimatedTokens: 30, now: T0 })));
    expect(okCount(results)).toBe(33);
    const denied = results.find((r) => !r.ok);
    expect(denied).toMatchObject({ code: 'rate_limited', dimension: 'tokens' });
  });

  it('reserves in every scope or in none: a user at its limit consumes nothing from its tenant', async () => {
    const tenant = { scope: 'tenant' as const, key: unique('t'), requestsPerMinute: 100 };
    const user = { scope: 'user' as const, key: unique('u'), requestsPerMinute: 2 };
    const other = { scope: 'user' as const, key: unique('u'), requestsPerMinute: 2 };
    const results = await Promise.all(Array.from({ length: 5 }, () => store().reserve({ limits: [tenant, user], budgets: [], estimatedTokens: 7, now: T0 })));
    expect(okCount(results)).toBe(2);
    expect(results.find((r) => !r.ok)).toMatchObject({ code: 'rate_limited', scope: { scope: 'user', key: user.key } });
    const [tenantUsage] = await store().usage([tenant], T0);
    expect(tenantUsage).toMatchObject({ requestsLastMinute: 2, tokensLastMinute: 14 });
    const otherUser = await store().reserve({ limits: [tenant, other], budgets: [], estimatedTokens: 7, now: T0 });
    expect(otherUser.ok).toBe(true);
  });

  it('merges two limits on the same scope, the stricter winning', async () => {
    const key = unique('k');
    const limits = [
      { scope: 'key' as const, key, requestsPerMinute: 5 },
      { scope: 'key' as const, key, requestsPerMinute: 3 },
    ];
    const results = await Promise.all(Array.from({ length: 6 }, () => store().reserve({ limits, budgets: [], estimatedTokens: 1, now: T0 })));
    expect(okCount(results)).toBe(3);
    const [usage] = await store().usage([{ scope: 'key', key }], T0);
    expect(usage!.requestsLastMinute).toBe(3);
  });

  it('slides the window: capacity frees exactly 60 s after each admitted request', async () => {
    const limits = [{ scope: 'agent' as const, key: unique('a'), requestsPerMinute: 2 }];
    const at = (now: number): Promise<ReserveResult> => store().reserve({ limits, budgets: [], estimatedTokens: 1, now });
    expect((await at(T0)).ok).toBe(true);
    expect((await at(T0 + 1000)).ok).toBe(true);
    expect(await at(T0 + 2000)).toMatchObject({ ok: false, code: 'rate_limited', retryAfterSeconds: 58 });
    expect(await at(T0 + 59_999)).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    const freed = await at(T0 + 60_000);
    expect(freed.ok).toBe(true);
    expect(await at(T0 + 60_500)).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    expect((await at(T0 + 61_000)).ok).toBe(true);
  });

  it('reports the tightest scope for the x-ratelimit numbers', async () => {
    const tenant = { scope: 'tenant' as const, key: unique('t'), requestsPerMinute: 10, tokensPerMinute: 100_000 };
    const user = { scope: 'user' as const, key: unique('u'), requestsPerMinute: 50, tokensPerMinute: 2000 };
    const result = await store().reserve({ limits: [tenant, user], budgets: [], estimatedTokens: 500, now: T0 });
    expect(result).toMatchObject({
      ok: true,
      requests: { scope: 'tenant', limit: 10, remaining: 9, resetMs: 60_000 },
      tokens: { scope: 'user', limit: 2000, remaining: 1500, resetMs: 60_000 },
    });
  });

  it('reconciles reserved tokens with actual usage on settle, once', async () => {
    const limit = { scope: 'user' as const, key: unique('u'), tokensPerMinute: 1000 };
    const first = await store().reserve({ limits: [limit], budgets: [], estimatedTokens: 800, now: T0 });
    if (!first.ok) throw new Error('first reserve refused');
    expect(await store().reserve({ limits: [limit], budgets: [], estimatedTokens: 300, now: T0 + 10 })).toMatchObject({ ok: false, dimension: 'tokens' });
    await store().settle(first.reservation, { tokens: 100, costUsd: 0.001 });
    await store().settle(first.reservation, { tokens: 900, costUsd: 0.009 }); // second settle is a no-op
    expect((await store().usage([limit], T0 + 20))[0]).toMatchObject({ requestsLastMinute: 1, tokensLastMinute: 100 });
    expect((await store().reserve({ limits: [limit], budgets: [], estimatedTokens: 300, now: T0 + 30 })).ok).toBe(true);
  });

  it('refuses a request whose estimate alone exceeds tokens/min as never fitting', async () => {
    const limit = { scope: 'user' as const, key: unique('u'), tokensPerMinute: 100 };
    expect(await store().reserve({ limits: [limit], budgets: [], estimatedTokens: 101, now: T0 })).toMatchObject({
      ok: false, code: 'rate_limited', dimension: 'tokens', neverFits: true,
    });
  });

  it('gives everything back on release', async () => {
    const limit = { scope: 'user' as const, key: unique('u'), requestsPerMinute: 1 };
    const budget = { scope: 'user' as const, key: limit.key, tokensPerDay: 1000 };
    const first = await store().reserve({ limits: [limit], budgets: [budget], estimatedTokens: 400, now: T0 });
    if (!first.ok) throw new Error('refused');
    await store().release(first.reservation);
    await store().release(first.reservation);
    expect((await store().usage([limit], T0))[0]).toMatchObject({ requestsLastMinute: 0, tokensLastMinute: 0, day: { tokens: 0 } });
    expect((await store().reserve({ limits: [limit], budgets: [budget], estimatedTokens: 400, now: T0 })).ok).toBe(true);
  });

  it('lets the request that crosses a token budget finish and refuses the next, until the UTC day rolls', async () => {
    const budget = { scope: 'agent' as const, key: unique('a'), tokensPerDay: 1000 };
    const reserve = (now: number): Promise<ReserveResult> => store().reserve({ limits: [], budgets: [budget], estimatedTokens: 600, now });
    const a = await reserve(T0);
    if (!a.ok) throw new Error('refused');
    await store().settle(a.reservation, { tokens: 600, costUsd: 0 });
    const b = await reserve(T0 + 1000);
    if (!b.ok) throw new Error('the crossing request must be admitted');
    await store().settle(b.reservation, { tokens: 700, costUsd: 0 });
    const refused = await reserve(T0 + 2000);
    expect(refused).toMatchObject({ ok: false, code: 'budget_exceeded', budget: 'tokensPerDay', limit: 1000, spent: 1300, scope: { scope: 'agent' } });
    if (!refused.ok) expect(refused.retryAfterSeconds).toBe((Date.UTC(2100, 0, 16) - (T0 + 2000)) / 1000);
    expect((await reserve(T0 + DAY)).ok).toBe(true);
  });

  it('holds a token budget exactly under concurrency (in-flight estimates count as spent)', async () => {
    const budget = { scope: 'team' as const, key: unique('t'), tokensPerDay: 100 };
    const results = await Promise.all(Array.from({ length: 10 }, () => store().reserve({ limits: [], budgets: [budget], estimatedTokens: 60, now: T0 })));
    expect(okCount(results)).toBe(2);
  });

  it('stops an agent mid-day on its USD budget, and on its monthly budget across days', async () => {
    const budget = { scope: 'agent' as const, key: unique('a'), usdPerDay: 1, usdPerMonth: 2 };
    const spend = async (now: number, costUsd: number): Promise<ReserveResult> => {
      const result = await store().reserve({ limits: [], budgets: [budget], estimatedTokens: 10, now });
      if (result.ok) await store().settle(result.reservation, { tokens: 10, costUsd });
      return result;
    };
    expect((await spend(T0, 0.6)).ok).toBe(true);
    expect((await spend(T0 + 1000, 0.6)).ok).toBe(true);
    const day = await spend(T0 + 2000, 0.6);
    expect(day).toMatchObject({ ok: false, code: 'budget_exceeded', budget: 'usdPerDay', limit: 1 });
    if (!day.ok && day.code === 'budget_exceeded') expect(day.spent).toBeCloseTo(1.2, 9);
    expect((await spend(T0 + DAY, 0.9)).ok).toBe(true);
    const month = await spend(T0 + DAY + 1000, 0.1);
    expect(month).toMatchObject({ ok: false, code: 'budget_exceeded', budget: 'usdPerMonth', limit: 2 });
    if (!month.ok) expect(month.retryAfterSeconds).toBe((Date.UTC(2100, 1, 1) - (T0 + DAY + 1000)) / 1000);
    expect((await spend(Date.UTC(2100, 1, 1, 0, 0, 1), 0.1)).ok).toBe(true);
    const [usage] = await store().usage([budget], T0 + DAY + 2000);
    expect(usage!.day.usd).toBeCloseTo(0.9, 9);
    expect(usage!.month.usd).toBeCloseTo(2.1, 9);
    expect(usage!.month.tokens).toBe(30);
  });

  it('counts an estimated cost against USD budgets until settled', async () => {
    const budget = { scope: 'user' as const, key: unique('u'), usdPerDay: 0.05 };
    const results = await Promise.all(Array.from({ length: 5 }, () => store().reserve({ limits: [], budgets: [budget], estimatedTokens: 1, estimatedCostUsd: 0.02, now: T0 })));
    expect(okCount(results)).toBe(3);
  });

  it('counts money exactly: five concurrent $0.01 requests reach a $0.05 budget exactly, and the sixth is refused', async () => {
    const budget = { scope: 'user' as const, key: unique('u'), usdPerDay: 0.05 };
    // Reserved together (as five concurrent streams), each estimated at $0.01, settled at $0.01 (10^10 pico-USD).
    const reserved = await Promise.all(Array.from({ length: 5 }, () => store().reserve({ limits: [], budgets: [budget], estimatedTokens: 1, estimatedCostUsd: 0.01, now: T0 })));
    expect(okCount(reserved)).toBe(5);
    await Promise.all(reserved.map((r) => (r.ok ? store().settle(r.reservation, { tokens: 1, costUsd: 0.01, costPico: 10_000_000_000n }) : undefined)));
    const [usage] = await store().usage([budget], T0);
    // Binary floats would give 0.049999999999999996 here, and admit a sixth.
    expect(usage!.day.usd).toBe(0.05);
    expect(await store().reserve({ limits: [], budgets: [budget], estimatedTokens: 1, now: T0 })).toMatchObject({ ok: false, code: 'budget_exceeded', budget: 'usdPerDay', limit: 0.05, spent: 0.05 });
    // Amounts that are not binary fractions add up exactly too: 0.1 + 0.2 reaches a $0.3 budget.
    const tenths = { scope: 'user' as const, key: unique('u'), usdPerDay: 0.3 };
    for (const cost of [0.1, 0.2]) {
      const r = await store().reserve({ limits: [], budgets: [tenths], estimatedTokens: 1, now: T0 });
      if (!r.ok) throw new Error('refused');
      await store().settle(r.reservation, { tokens: 1, costUsd: cost });
    }
    expect(await store().reserve({ limits: [], budgets: [tenths], estimatedTokens: 1, now: T0 })).toMatchObject({ ok: false, code: 'budget_exceeded' });
  });

  it('reads unknown scopes as zeros', async () => {
    expect(await store().usage([{ scope: 'global', key: unique('none') }], T0)).toEqual([
      expect.objectContaining({ requestsLastMinute: 0, tokensLastMinute: 0, day: { tokens: 0, usd: 0 }, month: { tokens: 0, usd: 0 } }),
    ]);
  });
}
