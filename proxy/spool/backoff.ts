/**
 * How long the shipper waits before it resends a batch: exponential backoff
 * with jitter, or the collector's own `Retry-After` on 429 and 503.
 */

export interface BackoffOptions {
  minBackoffMs: number;
  maxBackoffMs: number;
  /** A `Retry-After` larger than this is capped to it. */
  maxRetryAfterMs: number;
}

/** Delay before retry number `attempt` (0-based): uniform in [d/2, d] with d = min(max, min·2^attempt). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxBackoffMs, options.minBackoffMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Milliseconds a `Retry-After` header asks for (delta-seconds or an HTTP date),
 * capped at `maxMs`; undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | string[] | undefined, maxMs: number, now: number = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - now);
  }
  return Math.min(ms, maxMs);
}
