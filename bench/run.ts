/**
 * `npm run bench [-- --quick] [-- --soak-minutes N] [-- --no-wait] [-- --rows a,b] [-- --doc-from results.json]`
 *
 * Starts everything on loopback (free ports), pinned with taskset: the system under
 * test on the last core, the load generator, mock upstream, collector and Redis on
 * core 0. Prints one table, writes bench/results/<time>-<mode>.json and rewrites
 * BENCHMARKS.md. A full run first waits (up to 20 minutes) for the 1-minute load
 * average to drop below 1.0, and says in BENCHMARKS.md if it never did.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBenchmarksDoc } from './lib/benchmarksDoc.js';
import { writeGatehouseConfigs } from './lib/gatehouseSetup.js';
import { BENCH_DIR, buildGatebench } from './lib/loadgen.js';
import { machine, waitForQuiet } from './lib/machine.js';
import { ensureLitellm, ensurePortkey, startLitellm, startPortkey, type Unavailable } from './lib/peers.js';
import { coreLayout, type Running } from './lib/processes.js';
import { checkTargets, emptyRow, table, targetsTable, type RowResult, type RunResult } from './lib/report.js';
import { fixedRate, latencyRounds, rowMemory, soak, streaming, throughput, type Bodies, type Plan, type Soak } from './lib/scenarios.js';
import { directRow, startCollector, startGatehouse, startMinimal, startMock, startRedis, type Row, type RowId } from './lib/targets.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'soak-minutes': { type: 'string' },
    'no-wait': { type: 'boolean', default: false },
    rows: { type: 'string' },
    'keep-doc': { type: 'boolean', default: false },
    /** Rewrites BENCHMARKS.md from an earlier results file (after editing bench/analysis.md), without running. */
    'doc-from': { type: 'string' },
  },
  strict: true,
});
const quick = values.quick;
const plan: Plan = {
  quick,
  throughputS: quick ? 4 : 10,
  warmupS: quick ? 1 : 3,
  latencyRounds: quick ? 3 : 10,
  latencyRoundS: quick ? 1 : 2,
  fixedRate: 2000,
  fixedRateS: quick ? 10 : 60,
  streamS: quick ? 4 : 10,
  streamConns: 4,
  streamChunks: 20,
  streamIntervalMs: 5,
  soakMinutes: Number(values['soak-minutes'] ?? (quick ? 1.5 : 10)),
  soakRate: 1000,
};
const ALL: RowId[] = ['direct', 'minimal', 'gatehouse-full', 'gatehouse-bare', 'portkey', 'litellm', 'gatehouse-workers'];
const wanted = new Set<RowId>(values.rows ? (values.rows.split(',') as RowId[]) : ALL);
wanted.add('direct');
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const quiet = quick || values['no-wait'] ? { quiet: false, waitedS: 0, load: (await machine()).loadAverage[0]! } : await waitForQuiet(1.0, 20, say);
  const host = await machine();
  const cores = coreLayout();
  say(`bench (${quick ? 'quick' : 'full'}): ${host.nproc} cores, load average ${host.loadAverage.join(' ')}; pinning ${cores.pinned ? `SUT → cpu ${cores.sut}, load side → cpu ${cores.load}` : 'off'}`);
  const tools: Record<string, string> = { go: await buildGatebench(), node: process.version };
  const workDir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'));
  const logDir = join(workDir, 'logs');
  await mkdir(logDir);
  const bodies: Bodies = { chat: join(workDir, 'chat.json'), stream: join(workDir, 'stream.json') };
  await writeBodies(bodies);
  const helpers: Running[] = [];
  const rows: Row[] = [];
  const results = new Map<RowId, RowResult>(ALL.filter((id) => wanted.has(id)).map((id) => [id, emptyRow(id)]));
  const mockOptions = { logDir, latencyMs: 0, chunks: plan.streamChunks, chunkIntervalMs: plan.streamIntervalMs };
  let soakResult: Soak | undefined;
  try {
    const mockSut = await startMock({ ...mockOptions, cpus: cores.sut, name: 'mock-direct' });
    const mockUp = await startMock({ ...mockOptions, cpus: cores.load, name: 'mock-upstream' });
    helpers.push(mockSut.process, mockUp.process);
    rows.push(directRow(mockSut));
    const collector = await startCollector(cores.load, logDir, join(workDir, 'collector'));
    helpers.push(collector.process);
    const redis = wanted.has('gatehouse-workers') ? await startRedis(cores.load, logDir) : undefined;
    if (redis) helpers.push(redis.process);
    const configs = await writeGatehouseConfigs({ workDir, mockUrl: mockUp.url, collectorUrl: collector.url, collectorToken: collector.token, redisUrl: redis?.url ?? 'redis://127.0.0.1:6379' });
    const attempt = async (id: RowId, start: () => Promise<Row | Unavailable>) => {
      if (!wanted.has(id)) return;
      try {
        const row = await start();
        if ('reason' in row) results.get(id)!.unavailable = row.reason;
        else {
          rows.push(row);
          results.get(id)!.version = row.version;
        }
      } catch (error) {
        results.get(id)!.unavailable = `failed to start: ${(error as Error).message.slice(0, 160)}`;
      }
    };
    results.get('direct')!.version = rows[0]!.version;
    await attempt('minimal', () => startMinimal(mockUp.url, cores.sut, logDir));
    await attempt('gatehouse-full', () => startGatehouse({ id: 'gatehouse-full', config: configs.full, key: configs.key, cpus: cores.sut, logDir }));
    await attempt('gatehouse-bare', () => startGatehouse({ id: 'gatehouse-bare', config: configs.bare, key: configs.key, cpus: cores.sut, logDir }));
    await attempt('portkey', async () => {
      const version = await ensurePortkey(say);
      return typeof version === 'string' ? startPortkey(version, mockUp.url, cores.sut, logDir) : version;
    });
    await attempt('litellm', async () => {
      const version = await ensureLitellm(say);
      return typeof version === 'string' ? startLitellm(version, mockUp.url, cores.sut, logDir, workDir) : version;
    });
    for (const row of rows) tools[row.id] = row.version;

    say('throughput (closed loop, 32 and 64 connections)');
    for (const row of rows) {
      const r = results.get(row.id)!;
      r.c32 = await throughput(row, 32, plan, bodies, cores.load);
      r.c64 = await throughput(row, 64, plan, bodies, cores.load);
      say(`  ${row.id}: ${Math.round(r.c32.rps)} / ${Math.round(r.c64.rps)} req/s (errors ${r.c32.errors}/${r.c64.errors}; load core busy ${pct(r.c64.coreBusy?.[0])}, SUT core ${pct(r.c64.coreBusy?.at(-1))})`);
    }
    say('latency at 1 connection (interleaved rounds)');
    const latency = await latencyRounds(rows, plan, bodies, cores.load, workDir, say);
    for (const [id, value] of latency) results.get(id)!.latency1 = value;
    say('streaming');
    for (const row of rows) {
      const r = results.get(row.id)!;
      r.stream = await streaming(row, plan, bodies, cores.load);
      say(`  ${row.id}: ttft p50 ${r.stream.stream?.ttftMs.p50} ms, gap p99 ${r.stream.stream?.gapMs.p99} ms, faithful ${r.stream.stream?.faithful}/${r.stream.stream?.streams}`);
    }
    const directTtft = results.get('direct')!.stream?.stream?.ttftMs.p50;
    for (const r of results.values()) if (r.stream?.stream && directTtft !== undefined) r.addedTtftP50 = Math.round((r.stream.stream.ttftMs.p50 - directTtft) * 1000) / 1000;
    say(`fixed rate (open loop, ${plan.fixedRate} req/s for ${plan.fixedRateS} s)`);
    for (const row of [...rows.filter((r) => r.id !== 'litellm'), ...rows.filter((r) => r.id === 'litellm')]) {
      const r = results.get(row.id)!;
      r.fixed = await fixedRate(row, plan, bodies, cores.load);
      say(`  ${row.id}: p50 ${r.fixed.latencyMs.p50} p99 ${r.fixed.latencyMs.p99} p99.9 ${r.fixed.latencyMs.p999} ms, errors ${r.fixed.errors}`);
    }
    for (const row of rows) results.get(row.id)!.memory = await rowMemory(row.process);
    for (const row of rows.splice(1)) await row.process.stop();

    if (wanted.has('gatehouse-workers')) {
      if (!redis) results.get('gatehouse-workers')!.unavailable = 'redis-server is not installed (--workers needs the Redis limit store)';
      else {
        await attempt('gatehouse-workers', () => startGatehouse({ id: 'gatehouse-workers', config: configs.workers, key: configs.key, cpus: cores.all, logDir, workers: 2 }));
        const row = rows.find((r) => r.id === 'gatehouse-workers');
        if (row) {
          say('throughput, gatehouse --workers 2 (all cores)');
          const r = results.get('gatehouse-workers')!;
          r.c32 = await throughput(row, 32, plan, bodies, cores.load);
          r.c64 = await throughput(row, 64, plan, bodies, cores.load);
          r.memory = await rowMemory(row.process);
          say(`  gatehouse-workers: ${Math.round(r.c32.rps)} / ${Math.round(r.c64.rps)} req/s`);
          await row.process.stop();
        }
      }
    }
    if (wanted.has('gatehouse-full') && plan.soakMinutes > 0) {
      say(`soak: fresh full pipeline, ${plan.soakRate} req/s for ${plan.soakMinutes} min`);
      const row = await startGatehouse({ id: 'gatehouse-full', config: configs.full, key: configs.key, cpus: cores.sut, logDir });
      try {
        soakResult = await soak(row, plan, bodies, cores.load);
      } finally {
        await row.process.stop();
      }
      say(`  RSS ${soakResult.startMb} → ${soakResult.endMb} MB, slope after 1 min ${soakResult.slopeMbPerMin} MB/min, errors ${soakResult.load.errors}`);
    }
  } finally {
    for (const row of rows) await row.process.stop();
    for (const helper of helpers.reverse()) await helper.stop();
  }
  const ordered = [...results.values()];
  const run: RunResult = {
    mode: quick ? 'quick' : 'full',
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: host,
    quiet,
    cores,
    plan,
    tools,
    rows: ordered,
    ...(soakResult ? { soak: soakResult } : {}),
    targets: checkTargets(ordered, soakResult),
  };
  const resultsDir = join(BENCH_DIR, 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `${startedAt.replace(/[:.]/g, '-')}-${run.mode}.json`);
  await writeFile(file, `${JSON.stringify(run, null, 2)}\n`);
  if (!values['keep-doc']) await writeBenchmarksDoc(run, file);
  say(`\n${table(ordered)}\n\n${targetsTable(run.targets)}\n\nresults: ${file}`);
  await rm(workDir, { recursive: true, force: true });
}

function pct(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${Math.round(value * 100)}%`;
}

/** One realistic chat request (system prompt, a question, max_tokens), the same for every row. */
async function writeBodies(bodies: Bodies): Promise<void> {
  const chat = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a concise assistant for an operations team. Answer in plain sentences and cite the runbook section when you use one.' },
      { role: 'user', content: 'The nightly export job failed with a timeout at 02:14. What should I check first, and when should I page the on-call engineer?' },
    ],
    max_tokens: 256,
    temperature: 0.2,
  };
  await writeFile(bodies.chat, JSON.stringify(chat));
  await writeFile(bodies.stream, JSON.stringify({ ...chat, stream: true }));
}

const run = values['doc-from']
  ? async () => {
      const file = values['doc-from']!;
      await writeBenchmarksDoc(JSON.parse(await readFile(file, 'utf8')) as RunResult, file);
      say(`BENCHMARKS.md rewritten from ${file}`);
    }
  : main;

run().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
