/**
 * Creating reservations and making settle/release happen at most once per
 * reservation, whichever store and however often the pipeline calls them.
 */
import { randomUUID } from 'node:crypto';
import { usdToPico } from '../cost/money.js';
import type { Budget, RateLimit } from '../policy/decision.js';
import type { Periods } from './periods.js';
import type { Reservation } from './types.js';

const finished = new WeakSet<Reservation>();

export function newReservation(
  estimate: { tokens: number; usd: number },
  limits: readonly RateLimit[],
  budgets: readonly Budget[],
  now: number,
  periods: Periods,
  enforced: boolean,
): Reservation {
  return {
    id: randomUUID(),
    limits: limits.map(({ scope, key }) => ({ scope, key })),
    budgets: budgets.map(({ scope, key }) => ({ scope, key })),
    estimatedTokens: estimate.tokens,
    estimatedCostUsd: estimate.usd,
    estimatedCostPico: usdToPico(estimate.usd),
    at: now,
    day: periods.day,
    month: periods.month,
    enforced,
  };
}

/** True the first time it is called for a reservation, false afterwards. */
export function claimOnce(reservation: Reservation): boolean {
  if (finished.has(reservation)) return false;
  finished.add(reservation);
  return true;
}

/** Tokens as a non-negative integer, whatever a provider reported. */
export function wholeTokens(tokens: number): number {
  return Number.isFinite(tokens) && tokens > 0 ? Math.round(tokens) : 0;
}

/** A cost as a non-negative finite number. */
export function validCost(usd: number): number {
  return Number.isFinite(usd) && usd > 0 ? usd : 0;
}

/** A settled cost in exact pico-USD: the audit trail's amount when the pipeline has it, else the reported number's decimal. */
export function actualPico(actual: { costUsd: number; costPico?: bigint }): bigint {
  if (actual.costPico !== undefined) return actual.costPico > 0n ? actual.costPico : 0n;
  return usdToPico(validCost(actual.costUsd));
}
