/**
 * Hourly cost rollups, maintained in the same transaction as the audit records
 * they summarise. Key: hour of the request's start time (UTC) x tenant x team x
 * user x agent x feature x model x provider x prompt version ('' when unknown).
 * model = response model, else request model. errors = outcome 'error' (or, for
 * spans without an outcome, span status error). policy_denials = outcome
 * 'denied'/'blocked' or policy decision 'deny'. estimated_* = the requests (and
 * their cost) whose usage the gateway counted because the provider reported
 * none (usage_estimated). Costs are exact DECIMAL sums. ROLLUP_SQL states these rules
 * once, over audit_records; ingest applies them to each committed seq range.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { A } from '../../proxy/telemetry/attributes.js';
import { columnFor } from '../audit/columns.js';
import { ROLLUP_DIMENSIONS, ROLLUP_MEASURES } from '../store/schema.js';

const C = {
  tenant: columnFor(A.tenant), team: columnFor(A.team), user: columnFor(A.user), agent: columnFor(A.agent),
  feature: columnFor(A.feature), responseModel: columnFor(A.responseModel), requestModel: columnFor(A.requestModel),
  provider: columnFor(A.providerName), promptVersion: columnFor(A.promptVersion),
  inputTokens: columnFor(A.inputTokens), outputTokens: columnFor(A.outputTokens), cached: columnFor(A.cacheReadTokens),
  cost: columnFor(A.costUsd), outcome: columnFor(A.outcome), decision: columnFor(A.policyDecision),
  estimated: columnFor(A.usageEstimated),
};

/** SQL expressions (over audit_records) for the rollup's dimensions and measures. */
export const ROLLUP_SQL = {
  hour: `date_trunc('hour', start_time)`,
  tenant_id: `coalesce(${C.tenant}, '')`, team_id: `coalesce(${C.team}, '')`, user_id: `coalesce(${C.user}, '')`,
  agent_id: `coalesce(${C.agent}, '')`, feature: `coalesce(${C.feature}, '')`,
  model: `coalesce(nullif(${C.responseModel}, ''), ${C.requestModel}, '')`, provider: `coalesce(${C.provider}, '')`,
  prompt_version: `coalesce(${C.promptVersion}, '')`,
  requests: `count(*)`, input_tokens: `coalesce(sum(${C.inputTokens}), 0)`, output_tokens: `coalesce(sum(${C.outputTokens}), 0)`,
  cached_tokens: `coalesce(sum(${C.cached}), 0)`, cost_usd: `coalesce(sum(${C.cost}), 0)::DECIMAL(38,12)`,
  errors: `count(*) FILTER (WHERE ${C.outcome} = 'error' OR (${C.outcome} IS NULL AND span_status = 'error'))`,
  policy_denials: `count(*) FILTER (WHERE ${C.outcome} IN ('denied', 'blocked') OR ${C.decision} = 'deny')`,
  estimated_requests: `count(*) FILTER (WHERE ${C.estimated})`,
  estimated_cost_usd: `coalesce(sum(${C.cost}) FILTER (WHERE ${C.estimated}), 0)::DECIMAL(38,12)`,
} as const;

const KEY = ['hour', ...ROLLUP_DIMENSIONS] as const;
const ADD_ROLLUPS = `INSERT INTO cost_rollups (${[...KEY, ...ROLLUP_MEASURES].join(', ')})
  SELECT ${[...KEY, ...ROLLUP_MEASURES].map((k) => ROLLUP_SQL[k]).join(', ')}
  FROM audit_records WHERE seq BETWEEN {first} AND {last} AND record_type = 'request' GROUP BY ALL
  ON CONFLICT (${KEY.join(', ')}) DO UPDATE SET ${ROLLUP_MEASURES.map((m) => `${m} = cost_rollups.${m} + EXCLUDED.${m}`).join(', ')}`;

/** Adds the request records with seq in [firstSeq, lastSeq] to cost_rollups (upsert); call inside the ingest transaction. */
export async function addRollups(connection: DuckDBConnection, firstSeq: number, lastSeq: number): Promise<void> {
  if (lastSeq < firstSeq) return;
  if (!Number.isSafeInteger(firstSeq) || !Number.isSafeInteger(lastSeq)) throw new RangeError('seq bounds must be integers');
  // Literal bounds (not parameters) let DuckDB skip row groups by their seq statistics.
  await connection.run(ADD_ROLLUPS.replace('{first}', String(firstSeq)).replace('{last}', String(lastSeq)));
}
