/**
 * The budget rule shared by both stores: a budget is exceeded once spending has
 * REACHED it (spent >= limit). The request that crosses it was admitted while
 * spent < limit and finishes; the next one is refused. In-flight estimates count as
 * spent until settled, so concurrent requests cannot all slip under the same gap.
 */
import { picoToUsd, usdToPico } from '../cost/money.js';
import type { Budget } from '../policy/decision.js';
import type { Periods } from './periods.js';
import { retrySeconds } from './scopes.js';
import type { BudgetName, ReserveDenial, Spend } from './types.js';

/** Checked in this order, so the longest-lasting refusal is the one reported. */
export const BUDGET_ORDER: readonly BudgetName[] = ['usdPerMonth', 'tokensPerMonth', 'usdPerDay', 'tokensPerDay'];

export interface BudgetHit {
  name: BudgetName;
  limit: number;
  spent: number;
}

/** Whether spending has reached a budget amount: tokens as integers, USD in exact pico-USD against the cap's decimal. */
function reached(name: BudgetName, limit: number, day: Spend, month: Spend): boolean {
  switch (name) {
    case 'usdPerMonth':
      return month.pico >= usdToPico(limit);
    case 'tokensPerMonth':
      return month.tokens >= limit;
    case 'usdPerDay':
      return day.pico >= usdToPico(limit);
    case 'tokensPerDay':
      return day.tokens >= limit;
  }
}

function spentOn(name: BudgetName, day: Spend, month: Spend): number {
  const spend = name === 'usdPerMonth' || name === 'tokensPerMonth' ? month : day;
  return name.startsWith('usd') ? picoToUsd(spend.pico) : spend.tokens;
}

/** The first budget of `budget` that spending has reached, or undefined. */
export function exceededBudget(budget: Budget, day: Spend, month: Spend): BudgetHit | undefined {
  for (const name of BUDGET_ORDER) {
    const limit = budget[name];
    if (limit === undefined) continue;
    if (reached(name, limit, day, month)) return { name, limit, spent: spentOn(name, day, month) };
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
