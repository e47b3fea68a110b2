/**
 * "Who spent what": cost and usage from the hourly rollups, grouped by one
 * dimension. Ranges align to whole hours (a row counts when its hour starts in
 * [from, to)). Costs are exact DECIMAL sums, returned as decimal text;
 * `estimated_usd` is the part of `cost_usd` whose usage the gateway counted
 * because the provider reported none. The SQL is documented in docs/queries.md.
 */
import type { AuditDatabase, Row } from '../store/auditDatabase.js';
import type { RollupDimension } from '../store/schema.js';

export const COST_GROUPINGS: Record<string, RollupDimension> = {
  tenant: 'tenant_id',
  team: 'team_id',
  user: 'user_id',
  agent: 'agent_id',
  feature: 'feature',
  model: 'model',
  provider: 'provider',
  'prompt-version': 'prompt_version',
};

export interface CostQuery { by: string; from: Date; to: Date; tenant?: string }

export async function costReport(db: AuditDatabase, q: CostQuery): Promise<Row[]> {
  const dimension = COST_GROUPINGS[q.by];
  if (dimension === undefined) throw new Error(`--by: unknown grouping '${q.by}'; known: ${Object.keys(COST_GROUPINGS).join(', ')}`);
  const params = [q.from.getTime() * 1000, q.to.getTime() * 1000, ...(q.tenant === undefined ? [] : [q.tenant])];
  return db.query(
    `SELECT ${dimension} AS key,
            sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
            sum(cached_tokens) AS cached_tokens, sum(cost_usd) AS cost_usd, sum(estimated_cost_usd) AS estimated_usd,
            sum(errors) AS errors, sum(policy_denials) AS policy_denials
       FROM cost_rollups
      WHERE hour >= make_timestamp($1::BIGINT) AND hour < make_timestamp($2::BIGINT) ${q.tenant === undefined ? '' : 'AND tenant_id = $3'}
      GROUP BY ALL
      ORDER BY sum(cost_usd) DESC, key`,
    params,
  );
}
