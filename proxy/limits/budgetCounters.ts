/**
 * The memory store's budget counters: spend per UTC day and month, then per scope.
 * Keyed by period first, so an ended period is dropped whole; then by scope, so a
 * request's lookups build no id strings. The snapshot names a counter
 * `d:YYYY-MM-DD|scope:key` or `m:YYYY-MM|scope:key` (see snapshot.ts).
 */
import type { ScopeKind } from '../policy/decision.js';
import { periodEndsAt } from './periods.js';
import { ScopeMap } from './scopeMap.js';
import type { BudgetSnapshot } from './snapshot.js';
import { usdToPico } from '../cost/money.js';
import type { ScopeRef, Spend } from './types.js';

export type PeriodKind = 'day' | 'month';

const SNAPSHOT_PREFIX: Record<PeriodKind, string> = { day: 'd:', month: 'm:' };

export class BudgetCounters {
  private readonly periods: Record<PeriodKind, Map<string, ScopeMap<Spend>>> = { day: new Map(), month: new Map() };

  /** The counter of `ref` in one day (`YYYY-MM-DD`) or month (`YYYY-MM`), created at zero. */
  counter(kind: PeriodKind, period: string, ref: ScopeRef): Spend {
    let scopes = this.periods[kind].get(period);
    if (scopes === undefined) this.periods[kind].set(period, (scopes = new ScopeMap()));
    let counter = scopes.get(ref);
    if (counter === undefined) scopes.set(ref, (counter = { tokens: 0, pico: 0n }));
    return counter;
  }

  /** The counter if it exists, without creating one. */
  find(kind: PeriodKind, period: string, ref: ScopeRef): Spend | undefined {
    return this.periods[kind].get(period)?.get(ref);
  }

  /** Forgets the days and months that ended at or before `now`. */
  dropEnded(now: number): void {
    for (const byPeriod of Object.values(this.periods)) {
      for (const period of byPeriod.keys()) if (periodEndsAt(period) <= now) byPeriod.delete(period);
    }
  }

  /** The counters without the in-flight estimates inside them: settled spend only. */
  toSnapshot(inflight: ReadonlyMap<Spend, Spend> = new Map()): BudgetSnapshot['budgets'] {
    const budgets: BudgetSnapshot['budgets'] = {};
    for (const kind of ['day', 'month'] as const) {
      for (const [period, scopes] of this.periods[kind]) {
        scopes.forEach((counter, scope, key) => {
          const held = inflight.get(counter);
          budgets[`${SNAPSHOT_PREFIX[kind]}${period}|${scope}:${key}`] = [counter.tokens - (held?.tokens ?? 0), (counter.pico - (held?.pico ?? 0n)).toString()];
        });
      }
    }
    return budgets;
  }

  /** Adds a journaled settle to its day's and month's counters, unless the period ended at or before `now`. */
  add(day: string, month: string, ref: ScopeRef, tokens: number, pico: bigint, now: number): void {
    for (const [kind, period] of [['day', day], ['month', month]] as const) {
      if (periodEndsAt(period) <= now) continue;
      const counter = this.counter(kind, period, ref);
      counter.tokens += tokens;
      counter.pico += pico;
    }
  }

  /** Adds a snapshot's counters, skipping periods that ended at or before `now` and ids it cannot read. */
  restore(budgets: BudgetSnapshot['budgets'], now: number): void {
    for (const [id, [tokens, usd]] of Object.entries(budgets)) {
      const kind = id.startsWith(SNAPSHOT_PREFIX.day) ? 'day' : id.startsWith(SNAPSHOT_PREFIX.month) ? 'month' : undefined;
      const bar = id.indexOf('|');
      const colon = id.indexOf(':', bar + 1);
      if (kind === undefined || bar < 3 || colon < 0) continue;
      const period = id.slice(2, bar);
      if (periodEndsAt(period) <= now) continue;
      const counter = this.counter(kind, period, { scope: id.slice(bar + 1, colon) as ScopeKind, key: id.slice(colon + 1) });
      counter.tokens += tokens;
      // Version 2 holds pico-USD as an integer string; a version 1 snapshot held USD as a number.
      counter.pico += typeof usd === 'string' ? BigInt(usd) : usdToPico(usd);
    }
  }
}
