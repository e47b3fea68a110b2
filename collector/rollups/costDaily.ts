/**
 * Daily cost per single dimension (`cost_daily`): for each UTC day, tenant and
 * one of the rollup dimensions (team_id, user_id, agent_id, feature, model,
 * provider, prompt_version, and tenant_id itself), the same measures as the
 * hourly rollups. The hourly rollups key on every dimension at once, so with
 * thousands of users they hold nearly a row per request; a chart over a year
 * by model or team reads here instead: one row per day and key.
 *
 * Folded in behind ingest, not inside it: `cost_daily_state.seq` is the last
 * seq folded in, and foldDaily adds the request records after it up to the
 * chain head in one transaction with the new mark, so each record counts once.
 * The writer folds every few seconds, before retention deletes records, and at
 * close; the console folds before it reads. Folding thousands of records at
 * once costs a fraction of doing it per ingest commit (bench/rollups.ts). The
 * rules are the hourly rollups' (ROLLUP_SQL), in one pass (GROUPING SETS). A
 * store made before this table is derived from its hourly rollups at open
 * (migrate). Costs are exact DECIMAL sums.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AuditDatabase } from '../store/auditDatabase.js';
import { ROLLUP_DIMENSIONS, ROLLUP_MEASURES } from '../store/schema.js';
import { ROLLUP_SQL } from './costRollups.js';

/** The dimensions with a `cost_daily` series (`dimension` column values). */
export const DAILY_DIMENSIONS = ROLLUP_DIMENSIONS;
const OTHERS = DAILY_DIMENSIONS.filter((d) => d !== 'tenant_id');

const UPSERT = `ON CONFLICT (day, tenant_id, dimension, key) DO UPDATE SET ${ROLLUP_MEASURES.map((m) => `${m} = cost_daily.${m} + EXCLUDED.${m}`).join(', ')}`;

/** One pass over `source` (rows with d_<dimension> columns and the measure columns), grouped per day, tenant and each single dimension. */
function dailyFrom(source: string, measures: string): string {
  const sets = [`(day, d_tenant_id)`, ...OTHERS.map((d) => `(day, d_tenant_id, d_${d})`)].join(', ');
  const dimension = `CASE ${OTHERS.map((d) => `WHEN grouping(d_${d}) = 0 THEN '${d}'`).join(' ')} ELSE 'tenant_id' END`;
  const key = `coalesce(${OTHERS.map((d) => `d_${d}`).join(', ')}, d_tenant_id)`;
  return `INSERT INTO cost_daily (day, tenant_id, dimension, key, ${ROLLUP_MEASURES.join(', ')})
    SELECT day, d_tenant_id, ${dimension}, ${key}, ${measures}
      FROM ${source}
     GROUP BY GROUPING SETS (${sets})
    ${UPSERT}`;
}

const FROM_RECORDS = dailyFrom(
  `(SELECT CAST(start_time AS DATE) AS day, ${DAILY_DIMENSIONS.map((d) => `${ROLLUP_SQL[d]} AS d_${d}`).join(', ')}, *
      FROM audit_records WHERE seq BETWEEN {first} AND {last} AND record_type = 'request')`,
  ROLLUP_MEASURES.map((m) => ROLLUP_SQL[m]).join(', '),
);

const FROM_HOURLY = dailyFrom(
  `(SELECT CAST(hour AS DATE) AS day, ${DAILY_DIMENSIONS.map((d) => `${d} AS d_${d}`).join(', ')}, ${ROLLUP_MEASURES.join(', ')} FROM cost_rollups)`,
  ROLLUP_MEASURES.map((m) => `sum(${m})${m.endsWith('usd') ? '::DECIMAL(38,12)' : ''}`).join(', '),
);

/** Adds the request records with seq in [firstSeq, lastSeq] to cost_daily (no mark: foldDaily is the normal way in). */
export async function addDaily(connection: DuckDBConnection, firstSeq: number, lastSeq: number): Promise<void> {
  if (lastSeq < firstSeq) return;
  if (!Number.isSafeInteger(firstSeq) || !Number.isSafeInteger(lastSeq)) throw new RangeError('seq bounds must be integers');
  await connection.run(FROM_RECORDS.replace('{first}', String(firstSeq)).replace('{last}', String(lastSeq)));
}

/** Fills an empty cost_daily from the hourly rollups. */
export async function backfillDaily(connection: DuckDBConnection): Promise<void> {
  await connection.run(FROM_HOURLY);
}

/** The last seq folded into cost_daily. */
export async function dailyMark(db: AuditDatabase): Promise<number> {
  const [row] = await db.query('SELECT max(seq) AS seq FROM cost_daily_state', [], db.connection);
  return Number(row?.seq ?? 0);
}

/**
 * Folds the records after the mark, up to `head`, into cost_daily, with the new
 * mark in the same transaction. Call with no ingest in progress (inside the
 * writer's exclusive()); returns the mark.
 */
export async function foldDaily(db: AuditDatabase, head: number): Promise<number> {
  const mark = await dailyMark(db);
  if (head <= mark) return mark;
  await db.transaction(async () => {
    await addDaily(db.connection, mark + 1, head);
    await db.connection.run('UPDATE cost_daily_state SET seq = $1::BIGINT', [head]);
  });
  return head;
}
