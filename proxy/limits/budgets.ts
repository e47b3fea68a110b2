/**
 * The budget rule shared by both stores: a budget is exceeded once spending has
 * REACHED it (spent >= limit). The request that crosses it was admitted while
 * spent < limit and finishes; the next one is refused. In-flight estimates count as
 * spent until settled, so concurrent requests cannot all slip under the same gap.
 */
import type { Budget } from '../policy/decision.js';
import type { Periods } from './periods.js';
import { retrySeconds } from './scopes.js';
import type { BudgetName, PeriodUsage, ReserveDenial } from './types.js';

/** Checked in this order, so the longest-lasting refusal is the one reported. */
export const BUDGET_ORDER: readonly BudgetName[] = ['usdPerMonth', 'tokensPerMonth', 'usdPerDay', 'tokensPerDay'];

export interface BudgetHit {
  name: BudgetName;
  limit: number;
  spent: number;
}

export function spentOn(name: BudgetName, day: PeriodUsage, month: PeriodUsage): number {
  switch (name) {
    case 'usdPerMonth':
      return month.usd;
    case 'tokensPerMonth':
      return month.tokens;
    case 'usdPerDay':
      return day.usd;
    case 'tokensPerDay':
      return day.tokens;
  }
}

/** The first budget of `budget` that spending has reached, or undefined. */
export function exceededBudget(budget: Budget, day: PeriodUsage, month: PeriodUsage): BudgetHit | undefined {
  for (const name of BUDGET_ORDER) {
    const limit = budget[name];
    if (limit === undefined) continue;
    const spent = spentOn(name, day, month);
    if (spent >= limit) return { name, limit, spent };
  }
  return undefined;
}

export function budgetDenial(budget: Budget, hit: BudgetHit, periods: Periods, now: number): ReserveDenial {
  const endsAt = hit.name === 'usdPerDay' || hit.name === 'tokensPerDay' ? periods.dayEndsAt : periods.monthEndsAt;
  return {
    ok: false,
    code: 'budget_exceeded',
    scope: { scope: budget.scope, key: budget.key },
    budget: hit.name,
    limit: hit.limit,
    spent: hit.spent,
    retryAfterSeconds: retrySeconds(endsAt - now),
  };
}
