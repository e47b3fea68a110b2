/**
 * Hourly cost rollups, maintained in the same transaction as the audit records
 * they summarise. Key: hour of the request's start time (UTC) x tenant x team x
 * user x agent x feature x model x provider x prompt version ('' when unknown).
 * model = response model, else request model. errors = outcome 'error' (or, for
 * spans without an outcome, span status error). policy_denials = outcome
 * 'denied'/'blocked' or policy decision 'deny'.
 */
import { timestampValue, type DuckDBConnection } from '@duckdb/node-api';
import { A } from '../../proxy/telemetry/attributes.js';
import { columnFor, type AuditRecord } from '../audit/columns.js';
import { ROLLUP_DIMENSIONS, ROLLUP_MEASURES, type RollupDimension, type RollupMeasure } from '../store/schema.js';

const C = {
  tenant: columnFor(A.tenant), team: columnFor(A.team), user: columnFor(A.user), agent: columnFor(A.agent),
  feature: columnFor(A.feature), responseModel: columnFor(A.responseModel), requestModel: columnFor(A.requestModel),
  provider: columnFor(A.providerName), promptVersion: columnFor(A.promptVersion),
  inputTokens: columnFor(A.inputTokens), outputTokens: columnFor(A.outputTokens), cached: columnFor(A.cacheReadTokens),
  cost: columnFor(A.costUsd), outcome: columnFor(A.outcome), decision: columnFor(A.policyDecision),
};

export type RollupRow = { hour: number } & Record<RollupDimension, string> & Record<RollupMeasure, number>;

const HOUR_US = 3_600_000_000;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** SQL expressions (over audit_records) for the rollup's dimensions and measures; the same rules as rollupsOf. */
export const ROLLUP_SQL = {
  hour: `date_trunc('hour', start_time)`,
  tenant_id: `coalesce(${C.tenant}, '')`, team_id: `coalesce(${C.team}, '')`, user_id: `coalesce(${C.user}, '')`,
  agent_id: `coalesce(${C.agent}, '')`, feature: `coalesce(${C.feature}, '')`,
  model: `coalesce(${C.responseModel}, ${C.requestModel}, '')`, provider: `coalesce(${C.provider}, '')`,
  prompt_version: `coalesce(${C.promptVersion}, '')`,
  requests: `count(*)`, input_tokens: `coalesce(sum(${C.inputTokens}), 0)`, output_tokens: `coalesce(sum(${C.outputTokens}), 0)`,
  cached_tokens: `coalesce(sum(${C.cached}), 0)`, cost_usd: `coalesce(sum(${C.cost}), 0)`,
  errors: `count(*) FILTER (WHERE ${C.outcome} = 'error' OR (${C.outcome} IS NULL AND span_status = 'error'))`,
  policy_denials: `count(*) FILTER (WHERE ${C.outcome} IN ('denied', 'blocked') OR ${C.decision} = 'deny')`,
} as const;

/** Aggregates request records into rollup rows keyed by hour and dimensions. */
export function rollupsOf(records: readonly AuditRecord[]): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const r of records) {
    if (r.record_type !== 'request') continue;
    const hour = Math.floor(num(r.start_time) / HOUR_US) * HOUR_US;
    const dims: Record<RollupDimension, string> = {
      tenant_id: str(r[C.tenant]), team_id: str(r[C.team]), user_id: str(r[C.user]), agent_id: str(r[C.agent]),
      feature: str(r[C.feature]), model: str(r[C.responseModel]) || str(r[C.requestModel]), provider: str(r[C.provider]),
      prompt_version: str(r[C.promptVersion]),
    };
    const key = `${hour}\u0000${ROLLUP_DIMENSIONS.map((d) => dims[d]).join('\u0000')}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = { hour, ...dims, requests: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cost_usd: 0, errors: 0, policy_denials: 0 };
      rows.set(key, row);
    }
    const outcome = r[C.outcome];
    row.requests += 1;
    row.input_tokens += num(r[C.inputTokens]);
    row.output_tokens += num(r[C.outputTokens]);
    row.cached_tokens += num(r[C.cached]);
    row.cost_usd += num(r[C.cost]);
    if (outcome === 'error' || (outcome === null && r.span_status === 'error')) row.errors += 1;
    if (outcome === 'denied' || outcome === 'blocked' || r[C.decision] === 'deny') row.policy_denials += 1;
  }
  return [...rows.values()];
}

const STAGING = 'cost_rollups_staging';

/** Adds `rows` to cost_rollups (upsert); call inside the ingest transaction. */
export async function addRollups(connection: DuckDBConnection, rows: readonly RollupRow[]): Promise<void> {
  if (rows.length === 0) return;
  await connection.run(`CREATE TEMP TABLE IF NOT EXISTS ${STAGING} AS SELECT * FROM cost_rollups LIMIT 0`);
  await connection.run(`DELETE FROM ${STAGING}`);
  const appender = await connection.createAppender(STAGING, 'main', 'temp');
  for (const row of rows) {
    appender.appendTimestamp(timestampValue(BigInt(row.hour)));
    for (const d of ROLLUP_DIMENSIONS) appender.appendVarchar(row[d]);
    for (const m of ROLLUP_MEASURES) {
      if (m === 'cost_usd') appender.appendDouble(row[m]);
      else appender.appendBigInt(BigInt(row[m]));
    }
    appender.endRow();
  }
  appender.flushSync();
  appender.closeSync();
  const updates = ROLLUP_MEASURES.map((m) => `${m} = cost_rollups.${m} + EXCLUDED.${m}`).join(', ');
  await connection.run(
    `INSERT INTO cost_rollups SELECT * FROM ${STAGING} ON CONFLICT (hour, ${ROLLUP_DIMENSIONS.join(', ')}) DO UPDATE SET ${updates}`,
  );
}
