/**
 * The cost page's data: spend over time by one dimension, from the rollups
 * only (never the raw records), in one query: the hourly rollups for ranges up
 * to two days, the daily table (costDaily.ts) beyond. The range picks the
 * bucket (hours up to two days, days up to 90 days, weeks up to a year, months
 * beyond), so a chart never has more than ~100 points whatever the range. The
 * `top` keys by cost get their own series; the rest add up to `(other)`.
 * Totals per key come from the same query (rows with `bucket` NULL).
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { AuditDatabase } from '../../store/auditDatabase.js';
import type { RollupDimension } from '../../store/schema.js';

export type Bucket = 'hour' | 'day' | 'week' | 'month';

export interface CostSeriesQuery { by: RollupDimension; from: Date; to: Date; tenant?: string; top: number }

export interface CostPoint { bucket: Date; key: string; cost_usd: string; requests: number }
export interface CostTotal { key: string; cost_usd: string; requests: number; input_tokens: number; output_tokens: number; errors: number; policy_denials: number }
/** `from`/`to`: the range read, aligned to whole UTC days when the bucket is a day or longer. */
export interface CostSeries { bucket: Bucket; from: Date; to: Date; points: CostPoint[]; totals: CostTotal[] }

const HOUR = 3_600_000;

export function bucketFor(from: Date, to: Date): Bucket {
  const hours = (to.getTime() - from.getTime()) / HOUR;
  if (hours <= 48) return 'hour';
  if (hours <= 90 * 24) return 'day';
  if (hours <= 366 * 24) return 'week';
  return 'month';
}

/** The range widened to the grain it is read at: whole UTC hours from the hourly rollups, whole UTC days from cost_daily. */
export function alignedRange(from: Date, to: Date): { from: Date; to: Date; bucket: Bucket } {
  const bucket = bucketFor(from, to);
  if (bucket === 'hour') {
    const start = Math.floor(from.getTime() / HOUR) * HOUR;
    const end = Math.ceil(to.getTime() / HOUR) * HOUR;
    return { from: new Date(start), to: new Date(end), bucket };
  }
  const day = (d: Date) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const end = day(to) === to.getTime() ? to.getTime() : day(to) + 86_400_000;
  return { from: new Date(day(from)), to: new Date(end), bucket };
}

export async function costSeries(db: AuditDatabase, q: CostSeriesQuery): Promise<CostSeries> {
  const { from, to, bucket } = alignedRange(q.from, q.to);
  const params: DuckDBValue[] = [from.getTime() * 1000, to.getTime() * 1000, q.top];
  if (q.tenant !== undefined) params.push(q.tenant);
  const tenant = q.tenant === undefined ? '' : 'AND tenant_id = $4';
  // Up to two days: the hourly rollups; longer: the daily table, one row per day and key. q.by is a ROLLUP_DIMENSIONS name, never user text.
  const source = bucket === 'hour'
    ? `SELECT hour AS t, ${q.by} AS key, cost_usd, requests, input_tokens, output_tokens, errors, policy_denials FROM cost_rollups
        WHERE hour >= make_timestamp($1::BIGINT) AND hour < make_timestamp($2::BIGINT) ${tenant}`
    : `SELECT day AS t, key, cost_usd, requests, input_tokens, output_tokens, errors, policy_denials FROM cost_daily
        WHERE dimension = '${q.by}' AND day >= CAST(make_timestamp($1::BIGINT) AS DATE) AND day < CAST(make_timestamp($2::BIGINT) AS DATE) ${tenant}`;
  const rows = await db.query(
    `WITH r AS (
       SELECT date_trunc('${bucket}', t)::TIMESTAMP AS bucket, key, sum(cost_usd) AS cost_usd, sum(requests) AS requests,
              sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(errors) AS errors, sum(policy_denials) AS policy_denials
         FROM (${source})
        GROUP BY ALL),
     totals AS (
       SELECT key, sum(cost_usd) AS cost_usd, sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
              sum(errors) AS errors, sum(policy_denials) AS policy_denials, row_number() OVER (ORDER BY sum(cost_usd) DESC, key) AS rank
         FROM r GROUP BY key)
     SELECT NULL::TIMESTAMP AS bucket, key, cost_usd::VARCHAR AS cost_usd, requests, input_tokens, output_tokens, errors, policy_denials, rank FROM totals
     UNION ALL
     SELECT r.bucket, CASE WHEN t.rank <= $3 THEN r.key ELSE '(other)' END, sum(r.cost_usd)::VARCHAR, sum(r.requests), NULL, NULL, NULL, NULL, NULL
       FROM r JOIN totals t USING (key) GROUP BY ALL
     ORDER BY bucket NULLS FIRST, rank, key`,
    params,
  );
  const points: CostPoint[] = [];
  const totals: CostTotal[] = [];
  for (const row of rows) {
    if (row.bucket === null) {
      totals.push({
        key: String(row.key), cost_usd: String(row.cost_usd), requests: Number(row.requests), input_tokens: Number(row.input_tokens),
        output_tokens: Number(row.output_tokens), errors: Number(row.errors), policy_denials: Number(row.policy_denials),
      });
    } else {
      points.push({ bucket: row.bucket as Date, key: String(row.key), cost_usd: String(row.cost_usd), requests: Number(row.requests) });
    }
  }
  return { bucket, from, to, points, totals };
}

/** The start of every bucket in [from, to), UTC (weeks start on Monday, as DuckDB's date_trunc). Bounded by the range rules above. */
export function bucketStarts(from: Date, to: Date, bucket: Bucket): Date[] {
  const d = new Date(from);
  d.setUTCMinutes(0, 0, 0);
  if (bucket !== 'hour') d.setUTCHours(0);
  if (bucket === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  if (bucket === 'month') d.setUTCDate(1);
  const out: Date[] = [];
  while (d < to && out.length < 1_000) {
    out.push(new Date(d));
    if (bucket === 'hour') d.setUTCHours(d.getUTCHours() + 1);
    else if (bucket === 'day') d.setUTCDate(d.getUTCDate() + 1);
    else if (bucket === 'week') d.setUTCDate(d.getUTCDate() + 7);
    else d.setUTCMonth(d.getUTCMonth() + 1);
  }
  return out;
}
