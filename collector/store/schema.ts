/**
 * DuckDB tables of the audit store. `audit_records` is derived from
 * AUDIT_COLUMNS; `migrate` adds columns for attributes added since the file was
 * created (old records keep their hashes: NULL columns are not hashed).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { AUDIT_COLUMNS } from '../audit/columns.js';
import { DEDUPE_TABLE } from './dedupeKeys.js';

/** The rollup dimensions, in key order. */
export const ROLLUP_DIMENSIONS = ['tenant_id', 'team_id', 'user_id', 'agent_id', 'feature', 'model', 'provider', 'prompt_version'] as const;
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];

export const ROLLUP_MEASURES = [
  'requests', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_usd', 'errors', 'policy_denials', 'estimated_requests', 'estimated_cost_usd',
] as const;
export type RollupMeasure = (typeof ROLLUP_MEASURES)[number];

/** Eval runs (`gatehouse eval`, docs/evals.md): one row per run, joined to requests by the prompt's content hash. */
export const EVAL_RUNS_DDL = `CREATE TABLE IF NOT EXISTS eval_runs (run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP NOT NULL, prompt_id VARCHAR NOT NULL,
  prompt_version VARCHAR NOT NULL, prompt_sha256 VARCHAR NOT NULL, baseline_version VARCHAR, baseline_sha256 VARCHAR, dataset VARCHAR NOT NULL,
  dataset_sha256 VARCHAR NOT NULL, cases BIGINT NOT NULL, passed_cases BIGINT NOT NULL, repeat BIGINT NOT NULL, gate_passed BOOLEAN NOT NULL,
  reason VARCHAR NOT NULL, report VARCHAR NOT NULL)`;

const TABLES = [
  EVAL_RUNS_DDL,
  `CREATE TABLE IF NOT EXISTS chain (chain_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS signing_keys (key_id VARCHAR PRIMARY KEY, public_key_pem VARCHAR NOT NULL, first_used_at TIMESTAMP NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS audit_records (${AUDIT_COLUMNS.map((c) => `"${c.name}" ${c.type}`).join(', ')})`,
  // One key per recorded span within the de-duplication window (dedupeKeys.ts); survives retention.
  DEDUPE_TABLE,
  `CREATE TABLE IF NOT EXISTS tool_calls (chain_id VARCHAR, seq BIGINT, request_id VARCHAR, trace_id VARCHAR, span_id VARCHAR,
     position INTEGER, call_id VARCHAR, name VARCHAR, arguments VARCHAR, start_time TIMESTAMP)`,
  `CREATE TABLE IF NOT EXISTS checkpoints (chain_id VARCHAR NOT NULL, seq BIGINT NOT NULL, hash VARCHAR NOT NULL,
     time VARCHAR NOT NULL, key_id VARCHAR NOT NULL, signature VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS cost_rollups (hour TIMESTAMP NOT NULL, ${ROLLUP_DIMENSIONS.map((d) => `${d} VARCHAR NOT NULL`).join(', ')},
     requests BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cached_tokens BIGINT NOT NULL,
     cost_usd DECIMAL(38,12) NOT NULL, errors BIGINT NOT NULL, policy_denials BIGINT NOT NULL,
     estimated_requests BIGINT NOT NULL, estimated_cost_usd DECIMAL(38,12) NOT NULL,
     PRIMARY KEY (hour, ${ROLLUP_DIMENSIONS.join(', ')}))`,
  // The same measures per UTC day and single dimension (costDaily.ts): long-range charts read a row per day and key.
  `CREATE TABLE IF NOT EXISTS cost_daily (day DATE NOT NULL, tenant_id VARCHAR NOT NULL, dimension VARCHAR NOT NULL, key VARCHAR NOT NULL,
     requests BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cached_tokens BIGINT NOT NULL,
     cost_usd DECIMAL(38,12) NOT NULL, errors BIGINT NOT NULL, policy_denials BIGINT NOT NULL,
     estimated_requests BIGINT NOT NULL, estimated_cost_usd DECIMAL(38,12) NOT NULL,
     PRIMARY KEY (day, tenant_id, dimension, key))`,
  // One row: the last seq folded into cost_daily.
  `CREATE TABLE IF NOT EXISTS cost_daily_state (seq BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS exports (export_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL, first_seq BIGINT, last_seq BIGINT,
     tenant VARCHAR, out_dir VARCHAR NOT NULL, manifest_sha256 VARCHAR NOT NULL, rows BIGINT NOT NULL, last_received_at TIMESTAMP,
     deleted_at TIMESTAMP)`,
];

/** A store written before costs were exact (cost_usd DOUBLE) cannot be continued: its hashes cover binary floats. */
export class StoreFormatError extends Error {}

export async function migrate(connection: DuckDBConnection, file: string): Promise<void> {
  const existing = await connection.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'audit_records'`,
  );
  const types = new Map(existing.getRows().map((r) => [String(r[0]), String(r[1])]));
  if (types.get('cost_usd') === 'DOUBLE') {
    throw new StoreFormatError(`${file} was written by an earlier Gatehouse, which stored costs as binary floats; `
      + 'export and verify it with that version (gatehouse audit export), archive the export, and start the collector on a new data directory');
  }
  const fresh = types.size === 0;
  for (const ddl of TABLES) await connection.run(ddl);
  // cost_daily has no mark yet: a fresh store starts at 0; a store written before cost_daily existed (or whose
  // backfill was interrupted) gets it from its hourly rollups (exact sums of exact sums), up to its last record,
  // in one transaction with the mark, so a crash midway is simply done again at the next open.
  const marked = (await connection.runAndReadAll('SELECT count(*) FROM cost_daily_state')).getRows()[0]?.[0] !== 0n;
  if (!marked) {
    await connection.run('BEGIN TRANSACTION');
    try {
      await connection.run('DELETE FROM cost_daily');
      // Loaded here: costDaily.ts imports this module's dimensions.
      if (!fresh) await (await import('../rollups/costDaily.js')).backfillDaily(connection);
      await connection.run('INSERT INTO cost_daily_state SELECT coalesce(max(seq), 0) FROM audit_records');
      await connection.run('COMMIT');
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
  if (fresh) return;
  const have = new Set(types.keys());
  for (const c of AUDIT_COLUMNS) {
    if (!have.has(c.name)) await connection.run(`ALTER TABLE audit_records ADD COLUMN "${c.name}" ${c.type}`);
  }
}
