import { describe, expect, it } from 'vitest';
import { backoffDelay, retryAfterMs } from '../../proxy/spool/backoff.js';

const options = { minBackoffMs: 100, maxBackoffMs: 10_000, maxRetryAfterMs: 60_000 };

describe('backoff', () => {
  it('grows exponentially, with jitter in [d/2, d], up to the maximum', () => {
    expect(backoffDelay(0, options, () => 0)).toBe(50);
    expect(backoffDelay(0, options, () => 1)).toBe(100);
    expect(backoffDelay(3, options, () => 1)).toBe(800);
    expect(backoffDelay(50, options, () => 1)).toBe(10_000);
    expect(backoffDelay(50, options, () => 0)).toBe(5_000);
  });

  it('reads Retry-After as seconds or an HTTP date, capped', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs('3', 60_000, now)).toBe(3_000);
    expect(retryAfterMs(['7'], 60_000, now)).toBe(7_000);
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:10 GMT', 60_000, now)).toBe(10_000);
    expect(retryAfterMs('3600', 60_000, now)).toBe(60_000);
    expect(retryAfterMs(undefined, 60_000, now)).toBeUndefined();
    expect(retryAfterMs('soon', 60_000, now)).toBeUndefined();
  });
});
