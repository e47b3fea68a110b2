/**
 * What the daily table (cost_daily) costs (`npm run bench:rollups`). Ingest
 * commits maintain the hourly rollups (the baseline: commits of 1,000 records,
 * the collector's OTLP batch); cost_daily is folded in behind ingest
 * (collector/rollups/costDaily.ts). Printed: the hourly rollup step per record
 * at ingest, and the fold per record when it folds 1,000, 10,000 or 50,000
 * records at once (every 5 s the writer folds what arrived meanwhile: at
 * 10,000 records/s that is 50,000), on the same store in the same run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { foldDaily } from '../collector/rollups/costDaily.js';
import { addRollups } from '../collector/rollups/costRollups.js';
import { AuditDatabase } from '../collector/store/auditDatabase.js';

const COMMITS = Number(process.env.BENCH_COMMITS ?? 300);
const PER_COMMIT = 1_000;

function insert(first: number): string {
  return `INSERT INTO audit_records (seq, record_type, start_time, tenant_id, team_id, user_id, agent_id, feature, gen_ai_request_model,
      gen_ai_provider_name, prompt_version, gen_ai_usage_input_tokens, gen_ai_usage_output_tokens, cost_usd, outcome)
    SELECT i, 'request', TIMESTAMP '2026-01-01' + to_seconds(i * 3), 'tenant-' || (u % 4), 'team-' || (u % 40), 'user-' || u,
      CASE WHEN i % 10 < 3 THEN 'agent-' || (u % 60) END, 'chat', (['gpt-4o-mini', 'gpt-4o', 'o3'])[1 + (i % 3)::INTEGER], 'openai',
      CASE WHEN i % 5 = 0 THEN '2' END, 500, 120, 0.000123::DECIMAL(38,12), 'ok'
    FROM (SELECT i, hash(i) % 4000 AS u FROM range(${first}, ${first + PER_COMMIT}) r(i))`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-rollups-'));
try {
  const db = await AuditDatabase.open(join(dir, 'rollups.duckdb'));
  const hourly: number[] = [];
  for (let c = 0; c < COMMITS; c++) {
    const first = 1 + c * PER_COMMIT;
    await db.connection.run(insert(first));
    const started = performance.now();
    await db.transaction(() => addRollups(db.connection, first, first + PER_COMMIT - 1));
    hourly.push(performance.now() - started);
  }
  const perRecord = (ms: number, n: number) => (ms * 1000) / n;
  const baseline = perRecord(median(hourly.slice(10)), PER_COMMIT);
  console.log(`hourly rollups at ingest (baseline): ${baseline.toFixed(1)} µs/record (median of ${COMMITS - 10} commits of ${PER_COMMIT})`);
  let mark = 0;
  const total = COMMITS * PER_COMMIT;
  for (const [size, share] of [[1_000, 1 / 6], [10_000, 2 / 6], [50_000, 3 / 6]] as const) {
    const end = Math.min(total, mark + Math.floor(total * share));
    const times: number[] = [];
    while (mark + size <= end) {
      const started = performance.now();
      mark = await foldDaily(db, mark + size);
      times.push(perRecord(performance.now() - started, size));
    }
    const t = median(times);
    console.log(`cost_daily fold of ${size.toLocaleString('en')} records at once: ${t.toFixed(1)} µs/record (${(t / baseline).toFixed(2)}x the hourly step; median of ${times.length} folds)`);
  }
  db.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
