/**
 * OpenAI-style rate-limit headers from a reserve result:
 * `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` of the tightest scope, and
 * `retry-after` (whole seconds) on every refusal. Reset values use OpenAI's
 * duration format (`20ms`, `1.5s`, `1m0s`): the time until `remaining` next grows.
 */
import type { ReserveResult, WindowState } from './types.js';

/** Milliseconds as an OpenAI-style duration: `0s`, `250ms`, `17.28s`, `1m0s`. */
export function formatReset(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const seconds = Math.round(ms) / 1000;
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${Math.round((seconds - minutes * 60) * 1000) / 1000}s`;
}

function addWindow(headers: Record<string, string>, suffix: 'requests' | 'tokens', window: WindowState | undefined): void {
  if (window === undefined) return;
  headers[`x-ratelimit-limit-${suffix}`] = String(window.limit);
  headers[`x-ratelimit-remaining-${suffix}`] = String(window.remaining);
  headers[`x-ratelimit-reset-${suffix}`] = formatReset(window.resetMs);
}

/** Response headers for a reserve result; empty for an unenforced reservation or one with no per-minute limits. */
export function rateLimitHeaders(result: ReserveResult): Record<string, string> {
  const headers: Record<string, string> = {};
  if (result.ok) {
    addWindow(headers, 'requests', result.requests);
    addWindow(headers, 'tokens', result.tokens);
    return headers;
  }
  if (result.code === 'rate_limited') addWindow(headers, result.dimension, result.window);
  headers['retry-after'] = String(result.retryAfterSeconds);
  return headers;
}
