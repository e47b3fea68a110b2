/**
 * Scope bookkeeping shared by the stores: merging the policy's limits and budgets
 * per scope, and choosing the tightest window for the response headers.
 */
import type { Budget, RateLimit } from '../policy/decision.js';
import { WINDOW_MS, type ScopeRef, type WindowState } from './types.js';

/** `scope:key`; unambiguous because scope kinds contain no colon. */
export function scopeId(ref: ScopeRef): string {
  return `${ref.scope}:${ref.key}`;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * True when two entries name the same scope. Policies rarely do, so the usual
 * request is answered by this check alone, without building ids or a map.
 */
function namesAScopeTwice(refs: readonly ScopeRef[]): boolean {
  for (let i = 1; i < refs.length; i++) {
    for (let j = 0; j < i; j++) if (refs[i]!.scope === refs[j]!.scope && refs[i]!.key === refs[j]!.key) return true;
  }
  return false;
}

/**
 * One limit per scope: when policy names the same scope twice, the stricter value
 * of each dimension wins. Order of first appearance is kept.
 */
export function mergeLimits(limits: readonly RateLimit[]): RateLimit[] {
  if (!namesAScopeTwice(limits)) return limits.slice();
  const byId = new Map<string, RateLimit>();
  for (const limit of limits) {
    const id = scopeId(limit);
    const seen = byId.get(id);
    if (seen === undefined) byId.set(id, { ...limit });
    else {
      seen.requestsPerMinute = minDefined(seen.requestsPerMinute, limit.requestsPerMinute);
      seen.tokensPerMinute = minDefined(seen.tokensPerMinute, limit.tokensPerMinute);
    }
  }
  return [...byId.values()];
}

/** One budget per scope, the stricter value of each of the four amounts winning. */
export function mergeBudgets(budgets: readonly Budget[]): Budget[] {
  if (!namesAScopeTwice(budgets)) return budgets.slice();
  const byId = new Map<string, Budget>();
  for (const budget of budgets) {
    const id = scopeId(budget);
    const seen = byId.get(id);
    if (seen === undefined) byId.set(id, { ...budget });
    else {
      seen.usdPerDay = minDefined(seen.usdPerDay, budget.usdPerDay);
      seen.usdPerMonth = minDefined(seen.usdPerMonth, budget.usdPerMonth);
      seen.tokensPerDay = minDefined(seen.tokensPerDay, budget.tokensPerDay);
      seen.tokensPerMonth = minDefined(seen.tokensPerMonth, budget.tokensPerMonth);
    }
  }
  return [...byId.values()];
}

/** A window's counters after a reservation: live requests, live tokens, oldest entry time. */
export interface WindowCount {
  requests: number;
  tokens: number;
  /** Unix ms of the oldest counted entry, or undefined when the window is empty. */
  oldestAt: number | undefined;
}

function resetMs(count: WindowCount, now: number): number {
  return count.oldestAt === undefined ? 0 : Math.max(0, count.oldestAt + WINDOW_MS - now);
}

/**
 * The window with the least remaining in one dimension (ties: the smaller limit),
 * or undefined when no limit sets that dimension.
 */
export function tightestWindow(
  limits: readonly RateLimit[],
  counts: readonly WindowCount[],
  dimension: 'requests' | 'tokens',
  now: number,
): WindowState | undefined {
  let best: WindowState | undefined;
  for (let i = 0; i < limits.length; i++) {
    const limit = limits[i]!;
    const count = counts[i]!;
    const max = dimension === 'requests' ? limit.requestsPerMinute : limit.tokensPerMinute;
    if (max === undefined) continue;
    const used = dimension === 'requests' ? count.requests : count.tokens;
    const remaining = Math.max(0, max - used);
    if (best === undefined || remaining < best.remaining || (remaining === best.remaining && max < best.limit)) {
      best = { scope: limit.scope, key: limit.key, limit: max, remaining, resetMs: resetMs(count, now) };
    }
  }
  return best;
}

/** The refusing window as it stands, for the headers of a 429. */
export function windowOf(limit: RateLimit, count: WindowCount, dimension: 'requests' | 'tokens', now: number): WindowState {
  const max = (dimension === 'requests' ? limit.requestsPerMinute : limit.tokensPerMinute) ?? 0;
  const used = dimension === 'requests' ? count.requests : count.tokens;
  return { scope: limit.scope, key: limit.key, limit: max, remaining: Math.max(0, max - used), resetMs: resetMs(count, now) };
}

/** Milliseconds → whole seconds for Retry-After, at least 1. */
export function retrySeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
