/**
 * "Who is close to their cap": this UTC day's and month's spend per budget
 * scope, from the rollups (one query: spend per principal), against the
 * budgets the gateway's compiled policy gives each principal (the same
 * `gatehouse/request/caller` entrypoint the request path uses). Scopes whose
 * spend reached the warning fraction of a cap are flagged.
 *
 * A scope's spend is the sum over every principal in it, exactly (DECIMAL in
 * SQL, integer picodollars here). Where principals of one scope get different
 * caps (a team override), the lowest cap is shown. `key` and `feature` scopes
 * have no rollup dimension for keys, so only tenant, team, user, agent and
 * global budgets are shown.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { formatUnits, parseDecimal } from '../../../proxy/cost/money.js';
import type { Budget } from '../../../proxy/policy/decision.js';
import type { PolicyPrincipal } from '../../../proxy/policy/input.js';
import type { AuditDatabase } from '../../store/auditDatabase.js';

/** The budgets that apply to a principal (the compiled policy's caller decision). */
export type BudgetsOf = (principal: PolicyPrincipal) => readonly Budget[];

export interface ScopeBurn {
  scope: string;
  key: string;
  day_usd: string;
  month_usd: string;
  usd_per_day?: number;
  usd_per_month?: number;
  /** The larger of day/cap and month/cap, 0..n (1 = at the cap). */
  burn: number;
  near: boolean;
}

/** Principals read per page: a tenant with more distinct (team, user, agent) combinations this month shows the costliest. */
export const MAX_PRINCIPALS = 20_000;
const SHOWN_SCOPES = new Set(['tenant', 'team', 'user', 'agent', 'global']);

export async function budgetBurn(db: AuditDatabase, budgetsOf: BudgetsOf, options: { now: Date; tenant?: string; warnFraction: number }): Promise<ScopeBurn[]> {
  const day = Date.UTC(options.now.getUTCFullYear(), options.now.getUTCMonth(), options.now.getUTCDate());
  const month = Date.UTC(options.now.getUTCFullYear(), options.now.getUTCMonth(), 1);
  const params: DuckDBValue[] = [month * 1000, day * 1000];
  if (options.tenant !== undefined) params.push(options.tenant);
  const rows = await db.query(
    `SELECT tenant_id, team_id, user_id, agent_id, feature,
            (coalesce(sum(cost_usd) FILTER (WHERE hour >= make_timestamp($2::BIGINT)), 0))::VARCHAR AS day_usd,
            sum(cost_usd)::VARCHAR AS month_usd
       FROM cost_rollups
      WHERE hour >= make_timestamp($1::BIGINT) ${options.tenant === undefined ? '' : 'AND tenant_id = $3'}
      GROUP BY ALL ORDER BY sum(cost_usd) DESC LIMIT ${MAX_PRINCIPALS}`,
    params,
  );
  const scopes = new Map<string, { scope: string; key: string; day: bigint; month: bigint; perDay?: number; perMonth?: number }>();
  for (const row of rows) {
    const principal: PolicyPrincipal = { tenant: String(row.tenant_id) };
    for (const [field, column] of [['team', 'team_id'], ['user', 'user_id'], ['agent', 'agent_id'], ['feature', 'feature']] as const) {
      if (row[column] !== '') principal[field] = String(row[column]);
    }
    let budgets: readonly Budget[];
    try {
      budgets = budgetsOf(principal);
    } catch {
      continue; // A policy error for one principal hides its caps, never the page.
    }
    const daySpend = parseDecimal(String(row.day_usd)) ?? 0n;
    const monthSpend = parseDecimal(String(row.month_usd)) ?? 0n;
    for (const b of budgets) {
      if (!SHOWN_SCOPES.has(b.scope) || (b.usdPerDay === undefined && b.usdPerMonth === undefined)) continue;
      const entry = scopes.get(b.key) ?? { scope: b.scope, key: b.key, day: 0n, month: 0n };
      entry.day += daySpend;
      entry.month += monthSpend;
      if (b.usdPerDay !== undefined) entry.perDay = Math.min(entry.perDay ?? Infinity, b.usdPerDay);
      if (b.usdPerMonth !== undefined) entry.perMonth = Math.min(entry.perMonth ?? Infinity, b.usdPerMonth);
      scopes.set(b.key, entry);
    }
  }
  const out: ScopeBurn[] = [];
  for (const s of scopes.values()) {
    const dayUsd = formatUnits(s.day);
    const monthUsd = formatUnits(s.month);
    const burn = Math.max(
      s.perDay ? Number(dayUsd) / s.perDay : 0,
      s.perMonth ? Number(monthUsd) / s.perMonth : 0,
    );
    out.push({
      scope: s.scope, key: s.key, day_usd: dayUsd, month_usd: monthUsd, burn, near: burn >= options.warnFraction,
      ...(s.perDay !== undefined ? { usd_per_day: s.perDay } : {}), ...(s.perMonth !== undefined ? { usd_per_month: s.perMonth } : {}),
    });
  }
  return out.sort((a, b) => b.burn - a.burn || a.key.localeCompare(b.key));
}
