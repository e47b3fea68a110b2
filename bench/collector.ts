/**
 * Collector benchmark: `npx tsx bench/collector.ts` (BENCH_RECORDS=1000000, BENCH_ROLLUP_ROWS=10000000).
 * 1. ingest over OTLP/HTTP protobuf (batches of 1000, 4 in flight), chaining, dedupe, rollups and DuckDB
 *    commit included; the load generator runs in a worker thread (as a proxy replica is its own process),
 *    so its encoding does not share the collector's event loop; it still shares the machine's 2 cores;
 * 2. export of the ingested records to zstd Parquet; 3. verify of the store and of the export;
 * 4. cost report over hourly rollups built from BENCH_ROLLUP_ROWS synthetic records, and the same
 *    aggregation straight over the raw records.
 * Targets: ingest >= 20,000 records/s, export 1M <= 5 s, verify 1M <= 10 s, rollup query over 10M <= 1 s.
 */
import { randomFillSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { A, AUDIT_MARKER } from '../proxy/telemetry/attributes.js';
import { startCollector } from '../collector/cli/index.js';
import { verifyStore } from '../collector/audit/verifyStore.js';
import { exportAudit } from '../collector/export/auditExport.js';
import { verifyExport } from '../collector/export/verifyExport.js';
import { ExportTraceServiceRequest } from '../collector/otlp/traceProto.js';
import { costReport } from '../collector/reports/costReport.js';
import { ROLLUP_SQL } from '../collector/rollups/costRollups.js';
import { AuditDatabase } from '../collector/store/auditDatabase.js';
import { ROLLUP_MEASURES } from '../collector/store/schema.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const ROLLUP_ROWS = Number(process.env.BENCH_ROLLUP_ROWS ?? 10_000_000);
const BATCH = 1000;
/** The ingest key the benchmark's collector accepts (a constant: the load runs in worker threads). */
const BENCH_INGEST = { id: 'bench', token: 'ghi_benchmark-only-ingest-key' };
const IN_FLIGHT = 4;

/*
 * The load generator's OTLP/protobuf encoder (ExportTraceServiceRequest, field numbers from opentelemetry-proto).
 * Hand-written and memoised so that generating load costs a few µs per span, far less than the collector's work.
 */
function varint(n: number): number[] {
  const bytes: number[] = [];
  let v = n;
  while (v > 127) { bytes.push((v % 128) | 128); v = Math.floor(v / 128); }
  bytes.push(v);
  return bytes;
}

/** Field `field` (wire type 2) holding the concatenation of `parts`. */
function field(fieldNo: number, parts: readonly Uint8Array[]): Buffer {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const head = Buffer.from([...varint(fieldNo * 8 + 2), ...varint(size)]);
  return Buffer.concat([head, ...parts], head.length + size);
}

function scalar(fieldNo: number, wire: 0 | 1, value: number | bigint, double = false): Buffer {
  if (wire === 0) return Buffer.from([...varint(fieldNo * 8), ...varint(Number(value))]);
  const b = Buffer.alloc(9);
  b[0] = fieldNo * 8 + 1;
  if (double) b.writeDoubleLE(Number(value), 1);
  else b.writeBigUInt64LE(BigInt(value), 1);
  return b;
}

type Value = string | number | boolean | { double: number };
const encodedAttributes = new Map<string, Buffer>();

/** KeyValue (span attribute, field 9 of Span), memoised: most values repeat across spans. */
function attribute(key: string, value: Value, fieldNo = 9): Buffer {
  const memo = `${fieldNo}\u0000${key}\u0000${typeof value === 'object' ? `d${value.double}` : `${typeof value}${value}`}`;
  let encoded = encodedAttributes.get(memo);
  if (encoded === undefined) {
    const any = typeof value === 'string' ? field(1, [Buffer.from(value)])
      : typeof value === 'boolean' ? scalar(2, 0, value ? 1 : 0)
        : typeof value === 'number' ? scalar(3, 0, value) : scalar(4, 1, value.double, true);
    encoded = field(fieldNo, [field(1, [Buffer.from(key)]), field(2, [any])]);
    if (encodedAttributes.size < 100_000) encodedAttributes.set(memo, encoded);
  }
  return encoded;
}

/** One OTLP/protobuf export of BATCH gateway spans, records start..start+BATCH-1 (as the proxy's OTel exporter sends them). */
function body(start: number, ids: Buffer = randomFillSync(Buffer.alloc(24 * BATCH))): Buffer {
  const spans: Buffer[] = [field(1, [field(1, [Buffer.from('gatehouse')])])]; // ScopeSpans.scope, then the spans
  for (let i = start; i < start + BATCH; i++) {
    const t = BigInt(Date.UTC(2025, 0, 1) + i * 10) * 1_000_000n;
    const o = (i - start) * 24;
    spans.push(field(2, [
      field(1, [ids.subarray(o, o + 16)]), field(2, [ids.subarray(o + 16, o + 24)]), field(5, [Buffer.from('chat gpt-4o')]),
      scalar(6, 0, 2), scalar(7, 1, t), scalar(8, 1, t + 250_000_000n),
      attribute(AUDIT_MARKER, true), attribute(A.requestId, `req-${ids.subarray(o, o + 24).toString('hex')}`), attribute(A.tenant, `tenant-${i % 5}`),
      attribute(A.team, `team-${i % 20}`), attribute(A.user, `user-${i % 500}`), attribute(A.agent, `agent-${i % 10}`),
      attribute(A.feature, 'chat'), attribute(A.operation, 'chat'), attribute(A.requestModel, 'gpt-4o'),
      attribute(A.responseModel, 'gpt-4o-2024-08-06'), attribute(A.providerName, 'openai'),
      attribute(A.inputTokens, 500 + (i % 100)), attribute(A.outputTokens, 100 + (i % 50)), attribute(A.cacheReadTokens, i % 7),
      attribute(A.costUsd, (0.0001 * (i % 97)).toFixed(12)), attribute(A.promptId, 'assistant'), attribute(A.promptVersion, `v${i % 3}`),
      attribute(A.outcome, i % 50 === 0 ? 'error' : 'ok'), attribute(A.httpStatus, 200), attribute(A.policyDecision, 'allow'),
      attribute(A.durationMs, { double: 250.5 }), attribute(A.clientWire, 'openai'), attribute(A.keyId, `key-${i % 100}`),
    ]));
  }
  const resource = field(1, [attribute('service.name', 'gatehouse-proxy', 1), attribute('service.instance.id', 'bench-1', 1)]);
  return field(1, [resource, field(2, spans)]); // ExportTraceServiceRequest.resource_spans
}

interface LoadJob { url: string; records: number }

/**
 * Bodies for the load generator: POOL distinct exports, encoded once; each one sent is a copy with fresh random
 * trace and span ids, and request ids derived from them (all patched in place), so every span is new to the
 * collector, as a proxy's are, while generating load costs the worker about a microsecond per span. Times and
 * other attributes repeat across copies, which changes nothing for the collector.
 */
const POOL = 16;

function templates(): Array<{ bytes: Buffer; idOffsets: number[]; requestIdOffsets: number[] }> {
  return Array.from({ length: POOL }, (_, k) => {
    const ids = randomFillSync(Buffer.alloc(24 * BATCH));
    const bytes = body(k * BATCH, ids);
    // Span.trace_id (field 1, 16 bytes) directly followed by Span.span_id (field 2, 8 bytes): <16 bytes> 12 08 <8 bytes>.
    const idOffsets = Array.from({ length: BATCH }, (_, i) => bytes.indexOf(ids.subarray(i * 24, i * 24 + 16)));
    idOffsets.forEach((o, i) => {
      if (o < 0 || !bytes.subarray(o + 18, o + 26).equals(ids.subarray(i * 24 + 16, i * 24 + 24))) throw new Error('span ids not found in a template');
    });
    const requestIdOffsets = Array.from({ length: BATCH }, (_, i) => bytes.indexOf(Buffer.from(ids.subarray(i * 24, i * 24 + 24).toString('hex'))));
    if (requestIdOffsets.some((o) => o < 0)) throw new Error('request ids not found in a template');
    return { bytes, idOffsets, requestIdOffsets };
  });
}

/** Worker thread: posts `records` spans in batches, IN_FLIGHT at once; resolves with the elapsed ms and the retries. */
async function generateLoad({ url, records }: LoadJob): Promise<{ ms: number; retries: number }> {
  const pool = templates();
  let next = 0;
  let retries = 0;
  const started = performance.now();
  const sender = async (): Promise<void> => {
    const ids = Buffer.alloc(24 * BATCH);
    while (next < records) {
      const n = next / BATCH;
      next += BATCH;
      const template = pool[n % POOL]!;
      const payload = Buffer.from(template.bytes);
      randomFillSync(ids);
      template.idOffsets.forEach((offset, i) => {
        ids.copy(payload, offset, i * 24, i * 24 + 16);
        ids.copy(payload, offset + 18, i * 24 + 16, i * 24 + 24);
        payload.write(ids.subarray(i * 24, i * 24 + 24).toString('hex'), template.requestIdOffsets[i]!, 'latin1');
      });
      // Like the proxy's shipper: a dropped connection or a 503 is retried (at most 5 times), a 200 ends it.
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${BENCH_INGEST.token}` }, body: payload })
          .catch((error: unknown) => { if (attempt >= 5) throw error; return undefined; });
        if (res?.status === 200) { await res.arrayBuffer(); break; }
        if (res !== undefined && (res.status !== 503 || attempt >= 5)) throw new Error(`ingest answered ${res.status}`);
        await res?.arrayBuffer();
        retries++;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
  return { ms: performance.now() - started, retries };
}

async function ingest(url: string): Promise<{ ms: number; retries: number }> {
  // The hand-written encoder must produce what an OTel SDK would: check it against protobufjs once.
  const sample = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body(0)), { longs: String }) as {
    resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ attributes: unknown[] }> }> }>;
  };
  const spans = sample.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
  if (spans.length !== BATCH || spans[0]?.attributes.length !== 23) throw new Error('bench encoder produced a malformed export');
  // Workers do not inherit tsx's loader: register it, then load this file in the worker.
  const entry = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(import.meta.url)}, ${JSON.stringify(import.meta.url)}))`;
  const worker = new Worker(entry, { eval: true, workerData: { url, records: RECORDS } satisfies LoadJob });
  return new Promise((resolve, reject) => {
    worker.once('message', (result: { ms: number; retries: number }) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`load generator exited with ${code}`)); });
  });
}

/** The 1-minute load average against the core count: other work on the machine slows every figure. */
function loadNote(): string {
  return `load average ${loadavg()[0]?.toFixed(2)} on ${availableParallelism()} cores`;
}

function rate(n: number, ms: number): string {
  return `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} records/s`;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const result = await work();
  return [result, performance.now() - t];
}

async function rollupBench(dir: string): Promise<{ rollupMs: number; rawMs: number; rollupRows: number }> {
  const db = await AuditDatabase.open(join(dir, 'rollup-bench.duckdb'));
  await db.connection.run(`INSERT INTO audit_records (seq, record_type, start_time, tenant_id, team_id, user_id, agent_id, feature,
      gen_ai_request_model, gen_ai_provider_name, prompt_version, gen_ai_usage_input_tokens, gen_ai_usage_output_tokens,
      gen_ai_usage_cache_read_input_tokens, cost_usd, usage_estimated, outcome)
    SELECT i, 'request', TIMESTAMP '2025-01-01' + to_seconds(i // 10), 'tenant-' || (i % 5), 'team-' || (i % 20), 'user-' || (i % 500),
      'agent-' || (i % 10), 'chat', 'gpt-4o', 'openai', 'v' || (i % 3), 500 + i % 100, 100 + i % 50, i % 7, (0.0001 * (i % 97))::DECIMAL(38,12), i % 13 = 0,
      CASE WHEN i % 50 = 0 THEN 'error' ELSE 'ok' END
    FROM range(${ROLLUP_ROWS}) t(i)`);
  const dims = ['hour', 'tenant_id', 'team_id', 'user_id', 'agent_id', 'feature', 'model', 'provider', 'prompt_version'] as const;
  const measures = ROLLUP_MEASURES;
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
    const collector = await startCollector({ dataDir: dir, port: 0, ingestKeys: [BENCH_INGEST] });
    const cpuBefore = process.cpuUsage();
    const { ms: ingestMs, retries } = await ingest(collector.tracesUrl);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuUs = (cpu.user + cpu.system) / RECORDS;
    console.log(`ingest   ${RECORDS.toLocaleString('en-US')} records over OTLP/HTTP protobuf: ${(ingestMs / 1000).toFixed(2)} s = ${rate(RECORDS, ingestMs)} (target >= 20,000/s)${retries ? `, ${retries} request(s) retried` : ''}`);
    console.log(`         CPU of the process (collector, DuckDB threads and the load generator): ${cpuUs.toFixed(0)} µs/record; ${loadNote()}`);
    const { db, writer } = collector.store;
    if (!writer) throw new Error('no writer');
    const stored = Number((await db.query('SELECT count(*) AS n FROM audit_records'))[0]?.n);
    if (stored !== RECORDS) throw new Error(`the store holds ${stored} records, expected ${RECORDS}`);
    const [manifest, exportMs] = await timed(() => writer.exclusive(() =>
      exportAudit(db, writer, { from: new Date(0), to: new Date(Date.now() + 86_400_000), outDir: join(dir, 'export') }, collector.store.trustedKeys)));
    console.log(`export   ${manifest.rows.records.toLocaleString('en-US')} records to zstd Parquet: ${(exportMs / 1000).toFixed(2)} s (target <= 5 s for 1M)`);
    const [storeReport, verifyMs] = await timed(() => verifyStore(db, collector.store.trustedKeys));
    console.log(`verify   store, ${storeReport.records.toLocaleString('en-US')} records: ${(verifyMs / 1000).toFixed(2)} s, ok=${storeReport.ok} (target <= 10 s for 1M)`);
    await collector.stop();
    const [exportReport, verifyExportMs] = await timed(() => verifyExport(join(dir, 'export')));
    console.log(`verify   export, ${exportReport.records.toLocaleString('en-US')} records: ${(verifyExportMs / 1000).toFixed(2)} s, ok=${exportReport.ok}`);
    if (!storeReport.ok || !exportReport.ok) throw new Error('verification failed');
    const r = await rollupBench(dir);
    console.log(`rollup   report costs --by team over rollups of ${ROLLUP_ROWS.toLocaleString('en-US')} records (${r.rollupRows.toLocaleString('en-US')} rollup rows): ${r.rollupMs.toFixed(0)} ms (target <= 1 s)`);
    console.log(`rollup   same aggregation over the ${ROLLUP_ROWS.toLocaleString('en-US')} raw records: ${r.rawMs.toFixed(0)} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else parentPort?.postMessage(await generateLoad(workerData as LoadJob));
