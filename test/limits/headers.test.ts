import { describe, expect, it } from 'vitest';
import { limitError } from '../../proxy/limits/denial.js';
import { formatReset, rateLimitHeaders } from '../../proxy/limits/headers.js';
import { MemoryLimitStore } from '../../proxy/limits/memoryStore.js';

const T0 = Date.UTC(2100, 0, 15, 12);

describe('x-ratelimit headers', () => {
  it('formats reset durations the way OpenAI does', () => {
    expect(formatReset(0)).toBe('0s');
    expect(formatReset(20)).toBe('20ms');
    expect(formatReset(1000)).toBe('1s');
    expect(formatReset(17_280)).toBe('17.28s');
    expect(formatReset(60_000)).toBe('1m0s');
    expect(formatReset(90_500)).toBe('1m30.5s');
  });

  it('carries the tightest scope of each dimension on an admitted request', async () => {
    const store = new MemoryLimitStore();
    const limits = [
      { scope: 'tenant' as const, key: 'a', requestsPerMinute: 100, tokensPerMinute: 5000 },
      { scope: 'user' as const, key: 'a/advisor-1', requestsPerMinute: 3, tokensPerMinute: 90_000 },
    ];
    await store.reserve({ limits, budgets: [], estimatedTokens: 1000, now: T0 });
    const result = await store.reserve({ limits, budgets: [], estimatedTokens: 1000, now: T0 + 15_000 });
    expect(rateLimitHeaders(result)).toEqual({
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '1',
      'x-ratelimit-reset-requests': '45s',
      'x-ratelimit-limit-tokens': '5000',
      'x-ratelimit-remaining-tokens': '3000',
      'x-ratelimit-reset-tokens': '45s',
    });
  });

  it('turns a rate-limit refusal into 429 rate_limited with Retry-After and the refusing window', async () => {
    const store = new MemoryLimitStore();
    const limits = [{ scope: 'user' as const, key: 'a/advisor-1', requestsPerMinute: 1 }];
    await store.reserve({ limits, budgets: [], estimatedTokens: 10, now: T0 });
    const refused = await store.reserve({ limits, budgets: [], estimatedTokens: 10, now: T0 + 20_000 });
    if (refused.ok) throw new Error('admitted');
    const error = limitError(refused);
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryAfterSeconds: 40 });
    expect(error.headers).toEqual({
      'x-ratelimit-limit-requests': '1',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '40s',
      'retry-after': '40',
    });
    expect(error.message).not.toContain('advisor-1');
  });

  it('turns a budget refusal into 429 budget_exceeded with Retry-After until the period ends', async () => {
    const store = new MemoryLimitStore();
    const budgets = [{ scope: 'agent' as const, key: 'a/bot', usdPerDay: 0.01 }];
    const first = await store.reserve({ limits: [], budgets, estimatedTokens: 10, now: T0 });
    if (!first.ok) throw new Error('refused');
    await store.settle(first.reservation, { tokens: 10, costUsd: 0.02 });
    const refused = await store.reserve({ limits: [], budgets, estimatedTokens: 10, now: T0 });
    if (refused.ok) throw new Error('admitted');
    const error = limitError(refused);
    expect(error).toMatchObject({ code: 'budget_exceeded', status: 429, retryAfterSeconds: 12 * 3600 });
    expect(error.headers).toEqual({ 'retry-after': String(12 * 3600) });
  });
});
