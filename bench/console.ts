/**
 * The console's page timings on a large audit store (`npm run bench:console`;
 * issue 16: every page under 200 ms on 10M records).
 *
 * Builds (once, then reused) a DuckDB audit store of `--records` request
 * records (default 10,000,000) spread over the last 365 days: 4 tenants, 40
 * teams, 4,000 users, 60 agents on 30% of requests, 6 models, a registry prompt
 * on 20%; then the hourly rollups and the daily table from them exactly as
 * ingest builds them (collector/rollups/). The records' hashes are random: this
 * store is for timing reads, not for verification.
 *
 * Then it starts the console on that store (read-only) with the repository's
 * compiled policy for the budgets page, and fetches every page's JSON API and
 * HTML with a global admin key and a tenant-scoped auditor key, `--runs`
 * times each after one warm-up, sequentially. It prints p50/p95 per page, the
 * ratio to the cheapest request on the same run (the login page, which reads
 * no data), and writes bench/results/console.json.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { openStore } from '../collector/cli/commandIO.js';
import { writeConsoleKeys } from '../collector/console/consoleKeys.js';
import { startConsole } from '../collector/console/server.js';
import { AuditDatabase } from '../collector/store/auditDatabase.js';
import { foldDaily } from '../collector/rollups/costDaily.js';
import { addRollups } from '../collector/rollups/costRollups.js';
import { generateConsoleKey, hashKey } from '../proxy/identity/keyHash.js';
import { readCompiled } from '../proxy/policy/compiled.js';
import { PolicyEngine } from '../proxy/policy/engine.js';
import { readPolicyData } from '../proxy/policy/policyData.js';
import { REPO_DIR } from './lib/gatehouseSetup.js';
import { machine } from './lib/machine.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '10000000' }, runs: { type: 'string', default: '20' }, rebuild: { type: 'boolean', default: false } } });
const RECORDS = Number(values.records);
const RUNS = Number(values.runs);
const dataDir = join(tmpdir(), `gatehouse-bench-console-${RECORDS}`);
const dbFile = join(dataDir, 'audit.duckdb');
const BATCH = 1_000_000;
const YEAR_US = 365 * 86_400_000_000;

async function build(): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const db = await AuditDatabase.open(dbFile, { memoryLimit: '4GB' });
  const chain = String((await db.query('SELECT chain_id FROM chain'))[0]!.chain_id);
  const now = Date.now() * 1000;
  const started = Date.now();
  for (let first = 1; first <= RECORDS; first += BATCH) {
    const last = Math.min(RECORDS, first + BATCH - 1);
    // Time grows with seq, as the collector appends; u is the user, and team, tenant and agent follow from it.
    await db.connection.run(`
      INSERT INTO audit_records (chain_id, seq, prev_hash, hash, record_type, received_at, trace_id, span_id, span_name, span_status, start_time, end_time,
        service_name, gateway_instance, request_id, tenant_id, team_id, user_id, agent_id, key_id, feature, gen_ai_request_model, gen_ai_response_model,
        gen_ai_provider_name, gen_ai_usage_input_tokens, gen_ai_usage_output_tokens, cost_usd, outcome, http_response_status_code, duration_ms,
        prompt_id, prompt_version, prompt_sha256, policy_decision)
      SELECT '${chain}', i, md5(i::VARCHAR || 'p'), md5(i::VARCHAR), 'request', t, md5(i::VARCHAR || 't'), left(md5(i::VARCHAR || 's'), 16), 'chat ' || model, 'ok', t, t + INTERVAL 800 MILLISECOND,
        'gatehouse', 'bench', uuid()::VARCHAR, 'tenant-' || (u % 4), 'team-' || (u % 40), 'user-' || u, CASE WHEN i % 10 < 3 THEN 'agent-' || (u % 60) END, 'key-' || (u % 500), 'chat',
        model, model, 'openai', inp, outp, ((inp * 150 + outp * 600) / 1e6)::DECIMAL(38,12),
        CASE WHEN i % 100 = 0 THEN 'error' WHEN i % 100 = 1 THEN 'denied' ELSE 'ok' END, CASE WHEN i % 100 = 0 THEN 502 WHEN i % 100 = 1 THEN 403 ELSE 200 END, 300 + (i % 900),
        CASE WHEN i % 5 = 0 THEN 'advisor' END, CASE WHEN i % 5 = 0 THEN (1 + (i // ${Math.max(1, Math.floor(RECORDS / 3))}))::VARCHAR END,
        CASE WHEN i % 5 = 0 THEN 'sha256:' || md5('v' || (1 + (i // ${Math.max(1, Math.floor(RECORDS / 3))}))::VARCHAR) END, 'allow'
      FROM (SELECT i, make_timestamp((${now} - ${YEAR_US} + (i * ${YEAR_US / RECORDS})::BIGINT)::BIGINT) AS t, hash(i) % 4000 AS u,
                   (['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'o3', 'gpt-4.1'])[1 + (i % 6)::INTEGER] AS model,
                   200 + hash(i * 7) % 1800 AS inp, 50 + hash(i * 13) % 600 AS outp
              FROM range(${first}, ${last + 1}) r(i))`);
    await addRollups(db.connection, first, last);
    await foldDaily(db, last);
    process.stderr.write(`bench:console: ${last.toLocaleString('en')} of ${RECORDS.toLocaleString('en')} records (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  await db.connection.run('CHECKPOINT');
  db.close();
}

async function counts(): Promise<{ records: number; rollups: number }> {
  const instance = await DuckDBInstance.create(dbFile, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  const read = async (sql: string) => Number((await connection.runAndReadAll(sql)).getRows()[0]![0]);
  const out = { records: await read('SELECT count(*) FROM audit_records'), rollups: await read('SELECT count(*) FROM cost_rollups') };
  connection.closeSync();
  instance.closeSync();
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

if (values.rebuild || !existsSync(dbFile) || (await counts()).records !== RECORDS) await build();
// Opening it for writing once brings a store built by an earlier version up to date (migrate).
(await AuditDatabase.open(dbFile, { memoryLimit: '4GB' })).close();
const size = await counts();
const store = await openStore({ dataDir, dbFile }, 'read');
const policies = join(REPO_DIR, 'policies');
const engine = await PolicyEngine.load((await readCompiled(policies)).wasm, await readPolicyData(policies));
const admin = generateConsoleKey();
const auditor = generateConsoleKey();
await writeConsoleKeys(join(dataDir, 'console-keys.json'), [
  { id: 'bench-admin', hash: hashKey(admin), role: 'admin', tenant: '*' },
  { id: 'bench-auditor', hash: hashKey(auditor), role: 'auditor', tenant: 'tenant-1' },
]);
const web = await startConsole({ store, port: 0, verifyOnStart: false, budgetsOf: (principal) => engine.callerOf(principal).budgets ?? [] });
const middleSeq = Math.floor(RECORDS / 2);
const pages: Array<{ name: string; path: string; key: string; json: boolean }> = [];
const add = (name: string, path: string, key = admin) => {
  pages.push({ name, path, key, json: true }, { name: `${name} (HTML)`, path, key, json: false });
};
add('login page (no data; the baseline)', '/login');
add('costs, 24 h by team', '/costs?range=24h&by=team');
add('costs, 30 d by user', '/costs?range=30d&by=user');
add('costs, 365 d by model', '/costs?range=365d&by=model');
add('costs, 365 d by team, one tenant', '/costs?range=365d&by=team', auditor);
add('budgets (this day and month)', '/budgets');
add('requests, newest 50', '/requests');
add('requests, one user, all time', '/requests?user=user-1234');
add('requests, one user, one day', `/requests?user=user-1234&from=${new Date(Date.now() - 200 * 86_400_000).toISOString().slice(0, 16)}&to=${new Date(Date.now() - 199 * 86_400_000).toISOString().slice(0, 16)}`);
add('requests, one tenant, page 100', `/requests?before=${RECORDS - 5_000}`, auditor);
add('record view (by seq)', `/requests/${middleSeq}`);
add('audit integrity (chain state)', '/integrity');
add('prompts (30 d of versions)', '/prompts');
add('prompt impact (advisor)', '/prompts/advisor');
add('agents (30 d)', '/agents');

const results: Array<{ page: string; path: string; p50_ms: number; p95_ms: number; status: number }> = [];
for (const page of pages) {
  const url = page.json && page.path !== '/login' ? `${web.url}/api${page.path}` : `${web.url}${page.path}`;
  const headers: Record<string, string> = { authorization: `Bearer ${page.key}` };
  let cookie = '';
  if (!page.json && page.path !== '/login') {
    const login = await fetch(`${web.url}/login`, { method: 'POST', redirect: 'manual', headers: { origin: web.url, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key: page.key }) });
    cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  }
  const times: number[] = [];
  let status = 0;
  for (let i = 0; i <= RUNS; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers: cookie ? { cookie } : headers, redirect: 'manual' } as RequestInit);
    await response.arrayBuffer();
    status = response.status;
    if (i > 0) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  results.push({ page: page.name, path: page.path, p50_ms: percentile(times, 0.5), p95_ms: percentile(times, 0.95), status });
}
await web.stop();
await store.close();

const baseline = results[0]!.p50_ms;
const host = await machine();
const lines = [
  `Console page timings: ${size.records.toLocaleString('en')} records, ${size.rollups.toLocaleString('en')} rollup rows; ${RUNS} runs each after a warm-up; ${host.nproc} CPUs (${host.cpuModel}), Node ${host.node}`,
  '',
  '| page | p50 ms | p95 ms | p50 vs the login page | status | under 200 ms |',
  '|---|---:|---:|---:|---:|---|',
  ...results.map((r) => `| ${r.page} | ${r.p50_ms.toFixed(1)} | ${r.p95_ms.toFixed(1)} | ${(r.p50_ms / baseline).toFixed(1)}x | ${r.status} | ${r.p95_ms < 200 ? 'met' : 'MISSED'} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
await mkdir(join(REPO_DIR, 'bench', 'results'), { recursive: true });
await writeFile(join(REPO_DIR, 'bench', 'results', 'console.json'), `${JSON.stringify({ records: size.records, rollups: size.rollups, runs: RUNS, results }, null, 2)}\n`);
