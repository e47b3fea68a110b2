/**
 * Collector benchmark: `npx tsx bench/collector.ts` (BENCH_RECORDS=1000000, BENCH_ROLLUP_ROWS=10000000).
 * 1. ingest over OTLP/HTTP protobuf (batches of 1000, 4 in flight), chaining and DuckDB commit included;
 * 2. export of the ingested records to zstd Parquet; 3. verify of the store and of the export;
 * 4. cost report over hourly rollups built from BENCH_ROLLUP_ROWS synthetic records, and the same
 *    aggregation straight over the raw records.
 * Targets: ingest >= 20,000 records/s, export 1M <= 5 s, verify 1M <= 10 s, rollup query over 10M <= 1 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { A, AUDIT_MARKER } from '../proxy/telemetry/attributes.js';
import { startCollector } from '../collector/cli/index.js';
import { verifyStore } from '../collector/audit/verifyStore.js';
import { exportAudit } from '../collector/export/auditExport.js';
import { verifyExport } from '../collector/export/verifyExport.js';
import { ExportTraceServiceRequest } from '../collector/otlp/traceProto.js';
import { costReport } from '../collector/reports/costReport.js';
import { ROLLUP_SQL } from '../collector/rollups/costRollups.js';
import { AuditDatabase } from '../collector/store/auditDatabase.js';
import { AUDIT_COLUMNS } from '../collector/audit/columns.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const ROLLUP_ROWS = Number(process.env.BENCH_ROLLUP_ROWS ?? 10_000_000);
const BATCH = 1000;
const IN_FLIGHT = 4;

function kv(key: string, value: string | number | boolean, double = false): object {
  if (typeof value === 'string') return { key, value: { stringValue: value } };
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  return { key, value: double ? { doubleValue: value } : { intValue: value } };
}

function body(start: number): Uint8Array {
  const spans = [];
  for (let i = start; i < start + BATCH; i++) {
    const t = BigInt(Date.UTC(2025, 0, 1) + i * 10) * 1_000_000n;
    spans.push({
      traceId: randomBytes(16), spanId: randomBytes(8), name: 'chat gpt-4o', kind: 2,
      startTimeUnixNano: t.toString(), endTimeUnixNano: (t + 250_000_000n).toString(),
      attributes: [
        kv(AUDIT_MARKER, true), kv(A.requestId, `req-${i}`), kv(A.tenant, `tenant-${i % 5}`), kv(A.team, `team-${i % 20}`),
        kv(A.user, `user-${i % 500}`), kv(A.agent, `agent-${i % 10}`), kv(A.feature, 'chat'), kv(A.operation, 'chat'),
        kv(A.requestModel, 'gpt-4o'), kv(A.responseModel, 'gpt-4o-2024-08-06'), kv(A.providerName, 'openai'),
        kv(A.inputTokens, 500 + (i % 100)), kv(A.outputTokens, 100 + (i % 50)), kv(A.cacheReadTokens, i % 7),
        kv(A.costUsd, 0.0001 * (i % 97), true), kv(A.promptId, 'assistant'), kv(A.promptVersion, `v${i % 3}`),
        kv(A.outcome, i % 50 === 0 ? 'error' : 'ok'), kv(A.httpStatus, 200), kv(A.policyDecision, 'allow'),
        kv(A.durationMs, 250.5, true), kv(A.clientWire, 'openai'), kv(A.keyId, `key-${i % 100}`),
      ],
    });
  }
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject({ resourceSpans: [{ scopeSpans: [{ spans }] }] })).finish();
}

function rate(n: number, ms: number): string {
  return `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} records/s`;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const result = await work();
  return [result, performance.now() - t];
}

async function ingest(url: string): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < RECORDS) {
      const start = next;
      next += BATCH;
      const payload = body(start);
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: payload });
      if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return performance.now() - started;
}

async function rollupBench(dir: string): Promise<{ rollupMs: number; rawMs: number; rollupRows: number }> {
  const db = await AuditDatabase.open(join(dir, 'rollup-bench.duckdb'));
  const tenant = AUDIT_COLUMNS.find((c) => c.name === 'tenant_id') ? 'tenant_id' : 'tenant_id';
  await db.connection.run(`INSERT INTO audit_records (seq, record_type, start_time, ${tenant}, team_id, user_id, agent_id, feature,
      gen_ai_request_model, gen_ai_provider_name, prompt_version, gen_ai_usage_input_tokens, gen_ai_usage_output_tokens,
      gen_ai_usage_cache_read_input_tokens, cost_usd, outcome)
    SELECT i, 'request', TIMESTAMP '2025-01-01' + to_seconds(i // 10), 'tenant-' || (i % 5), 'team-' || (i % 20), 'user-' || (i % 500),
      'agent-' || (i % 10), 'chat', 'gpt-4o', 'openai', 'v' || (i % 3), 500 + i % 100, 100 + i % 50, i % 7, 0.0001 * (i % 97),
      CASE WHEN i % 50 = 0 THEN 'error' ELSE 'ok' END
    FROM range(${ROLLUP_ROWS}) t(i)`);
  const dims = ['hour', 'tenant_id', 'team_id', 'user_id', 'agent_id', 'feature', 'model', 'provider', 'prompt_version'] as const;
  const measures = ['requests', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_usd', 'errors', 'policy_denials'] as const;
  await db.connection.run(`INSERT INTO cost_rollups SELECT ${[...dims, ...measures].map((k) => ROLLUP_SQL[k]).join(', ')}
    FROM audit_records GROUP BY ALL`);
  const rollupRows = Number((await db.query('SELECT count(*) AS n FROM cost_rollups'))[0]?.n);
  const [, rollupMs] = await timed(() => costReport(db, { by: 'team', from: new Date(0), to: new Date('2100-01-01') }));
  const [, rawMs] = await timed(() => db.query(`SELECT team_id, count(*), sum(gen_ai_usage_input_tokens), sum(gen_ai_usage_output_tokens),
      sum(cost_usd), count(*) FILTER (WHERE outcome = 'error') FROM audit_records GROUP BY 1`));
  db.close();
  return { rollupMs, rawMs, rollupRows };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'));
  try {
    const collector = await startCollector({ dataDir: dir, port: 0 });
    const ingestMs = await ingest(collector.tracesUrl);
    console.log(`ingest   ${RECORDS.toLocaleString('en-US')} records over OTLP/HTTP protobuf: ${(ingestMs / 1000).toFixed(2)} s = ${rate(RECORDS, ingestMs)} (target >= 20,000/s)`);
    const { db, writer } = collector.store;
    if (!writer) throw new Error('no writer');
    const [manifest, exportMs] = await timed(() => writer.exclusive(() =>
      exportAudit(db, writer, { from: new Date(0), to: new Date(Date.now() + 86_400_000), outDir: join(dir, 'export') }, collector.store.trustedKeys)));
    console.log(`export   ${manifest.rows.records.toLocaleString('en-US')} records to zstd Parquet: ${(exportMs / 1000).toFixed(2)} s (target <= 5 s for 1M)`);
    const [storeReport, verifyMs] = await timed(() => verifyStore(db, collector.store.trustedKeys));
    console.log(`verify   store, ${storeReport.records.toLocaleString('en-US')} records: ${(verifyMs / 1000).toFixed(2)} s, ok=${storeReport.ok} (target <= 10 s for 1M)`);
    await collector.stop();
    const [exportReport, verifyExportMs] = await timed(() => verifyExport(join(dir, 'export')));
    console.log(`verify   export, ${exportReport.records.toLocaleString('en-US')} records: ${(verifyExportMs / 1000).toFixed(2)} s, ok=${exportReport.ok}`);
    const r = await rollupBench(dir);
    console.log(`rollup   report costs --by team over rollups of ${ROLLUP_ROWS.toLocaleString('en-US')} records (${r.rollupRows.toLocaleString('en-US')} rollup rows): ${r.rollupMs.toFixed(0)} ms (target <= 1 s)`);
    console.log(`rollup   same aggregation over the ${ROLLUP_ROWS.toLocaleString('en-US')} raw records: ${r.rawMs.toFixed(0)} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
