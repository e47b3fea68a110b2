/**
 * `npm run bench [-- --quick] [-- --soak-minutes N] [-- --no-wait] [-- --rows a,b] [-- --doc-from results.json] [-- --compare results.json]`
 *
 * Starts everything on loopback (free ports), pinned with taskset: the system under
 * test on the last core, the load generator, mock upstream, collector and Redis on
 * core 0. Prints one table, writes bench/results/<time>-<mode>.json and rewrites
 * BENCHMARKS.md. A full run first waits (up to 20 minutes) for the 1-minute load
 * average to drop below 1.0, and says in BENCHMARKS.md if it never did.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBenchmarksDoc } from './lib/benchmarksDoc.js';
import { writeGatehouseConfigs } from './lib/gatehouseSetup.js';
import { BENCH_DIR, buildGatebench } from './lib/loadgen.js';
import { machine, waitForQuiet } from './lib/machine.js';
import { ensureLitellm, ensurePortkey, startLitellm, startPortkey, type Unavailable } from './lib/peers.js';
import { REPO_DIR } from './lib/gatehouseSetup.js';
import { compareMcp, connectMcp, waitForTool, type McpResult } from './lib/mcpCalls.js';
import { coreLayout, startProcess, type Running } from './lib/processes.js';
import { checkTargets, emptyRow, maxRps, table, targetsTable, type RowResult, type RunResult } from './lib/report.js';
import { fixedRate, latencyRounds, rowMemory, soak, streaming, throughput, type Bodies, type Plan, type Soak } from './lib/scenarios.js';
import { directRow, promptAgentRow, startCollector, startGatehouse, startMinimal, startMock, startRedis, type Row, type RowId } from './lib/targets.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'soak-minutes': { type: 'string' },
    'no-wait': { type: 'boolean', default: false },
    rows: { type: 'string' },
    'keep-doc': { type: 'boolean', default: false },
    /** Rewrites BENCHMARKS.md from an earlier results file (after editing bench/analysis.md), without running. */
    'doc-from': { type: 'string' },
    /** An earlier results file (Node 20, say) whose target figures BENCHMARKS.md shows beside this run's. */
    compare: { type: 'string' },
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
  mcpCalls: quick ? 1_000 : 5_000,
};
const ALL: RowId[] = ['direct', 'minimal', 'gatehouse-full', 'gatehouse-prompt-agent', 'gatehouse-bare', 'portkey', 'litellm', 'gatehouse-redis', 'gatehouse-workers'];
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
  const promptBodies: Bodies = { chat: join(workDir, 'prompt-chat.json'), stream: join(workDir, 'prompt-stream.json') };
  await writeBodies(bodies, promptBodies);
  const helpers: Running[] = [];
  const rows: Row[] = [];
  const results = new Map<RowId, RowResult>(ALL.filter((id) => wanted.has(id)).map((id) => [id, emptyRow(id)]));
  const mockOptions = { logDir, latencyMs: 0, chunks: plan.streamChunks, chunkIntervalMs: plan.streamIntervalMs };
  let soakResult: Soak | undefined;
  let mcpResult: McpResult | undefined;
  let thirdRate: number | undefined;
  try {
    const mockSut = await startMock({ ...mockOptions, cpus: cores.sut, name: 'mock-direct' });
    const mockUp = await startMock({ ...mockOptions, cpus: cores.load, name: 'mock-upstream' });
    helpers.push(mockSut.process, mockUp.process);
    rows.push(directRow(mockSut));
    const collector = await startCollector(cores.load, logDir, join(workDir, 'collector'));
    helpers.push(collector.process);
    const redis = wanted.has('gatehouse-workers') || wanted.has('gatehouse-redis') ? await startRedis(cores.load, logDir) : undefined;
    if (redis) helpers.push(redis.process);
    const mcpUpstream = wanted.has('gatehouse-full') ? await startMcpUpstream(cores.load, logDir).catch((error: unknown) => {
      say(`MCP server did not start, no MCP rows: ${(error as Error).message.slice(0, 200)}`);
      return undefined;
    }) : undefined;
    if (mcpUpstream) helpers.push(mcpUpstream.process);
    const configs = await writeGatehouseConfigs({ workDir, mockUrl: mockUp.url, collectorUrl: collector.url, collectorToken: collector.token, redisUrl: redis?.url ?? 'redis://127.0.0.1:6379', ...(mcpUpstream ? { mcpUrl: mcpUpstream.url } : {}) });
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
    const fullRow = rows.find((r) => r.id === 'gatehouse-full');
    if (wanted.has('gatehouse-prompt-agent')) {
      if (fullRow) {
        rows.push(promptAgentRow(fullRow, configs.agentKey, promptBodies));
        results.get('gatehouse-prompt-agent')!.version = fullRow.version;
      } else results.get('gatehouse-prompt-agent')!.unavailable = 'needs the gatehouse-full row';
    }
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
    if (fullRow && mcpUpstream) {
      say(`MCP tools/call, direct vs through the full pipeline's /mcp (${plan.mcpCalls} each, 1 at a time, interleaved)`);
      try {
        mcpResult = await measureMcp(mcpUpstream.url, fullRow, configs.key, plan.mcpCalls);
        say(`  direct p50 ${mcpResult.direct.p50} p99 ${mcpResult.direct.p99} ms; through Gatehouse p50 ${mcpResult.gateway.p50} p99 ${mcpResult.gateway.p99} ms; gateway CPU ${mcpResult.gatewayCpuUsPerCall} µs/call`);
      } catch (error) {
        say(`  MCP rows failed, the run goes on without them: ${(error as Error).message.slice(0, 200)}`);
      }
    }
    say(`fixed rate (open loop, ${plan.fixedRate} req/s for ${plan.fixedRateS} s)`);
    for (const row of [...rows.filter((r) => r.id !== 'litellm'), ...rows.filter((r) => r.id === 'litellm')]) {
      const r = results.get(row.id)!;
      r.fixed = await fixedRate(row, plan, bodies, cores.load);
      say(`  ${row.id}: p50 ${r.fixed.latencyMs.p50} p99 ${r.fixed.latencyMs.p99} p99.9 ${r.fixed.latencyMs.p999} ms, errors ${r.fixed.errors}`);
    }
    const fullMax = maxRps(results.get('gatehouse-full'));
    if (Number.isFinite(fullMax)) {
      // The rate the issue meant by "about a third of the full pipeline's maximum on one core", from this run's maximum.
      thirdRate = Math.max(100, Math.round(fullMax / 3 / 50) * 50);
      say(`fixed rate at a third of the full pipeline's maximum (${thirdRate} req/s for ${plan.fixedRateS} s)`);
      for (const row of rows.filter((r) => r.id === 'direct' || r.id === 'minimal' || r.id === 'gatehouse-full')) {
        const r = results.get(row.id)!;
        r.fixedThird = await fixedRate(row, plan, bodies, cores.load, thirdRate);
        say(`  ${row.id}: p50 ${r.fixedThird.latencyMs.p50} p99 ${r.fixedThird.latencyMs.p99} p99.9 ${r.fixedThird.latencyMs.p999} ms, errors ${r.fixedThird.errors}`);
      }
    }
    for (const row of rows) results.get(row.id)!.memory = await rowMemory(row.process);
    for (const row of rows.splice(1)) await row.process.stop();

    // Scale-out: the Redis-backed full pipeline as one pinned process (the load side on the other core), then as two workers on both cores.
    const scaleOut = async (id: 'gatehouse-redis' | 'gatehouse-workers', title: string, cpus: string, workers?: number) => {
      if (!wanted.has(id)) return;
      if (!redis) {
        results.get(id)!.unavailable = 'redis-server is not installed (the scale-out rows use the Redis limit store, as --workers must)';
        return;
      }
      await attempt(id, () => startGatehouse({ id, config: configs.workers, key: configs.key, cpus, logDir, ...(workers ? { workers } : {}) }));
      const row = rows.find((r) => r.id === id);
      if (!row) return;
      say(`throughput, ${title}`);
      const r = results.get(id)!;
      r.c32 = await throughput(row, 32, plan, bodies, cores.load);
      r.c64 = await throughput(row, 64, plan, bodies, cores.load);
      r.memory = await rowMemory(row.process);
      say(`  ${id}: ${Math.round(r.c32.rps)} / ${Math.round(r.c64.rps)} req/s, ${r.c64.cpuUsPerRequest} µs CPU/request`);
      await row.process.stop();
    };
    await scaleOut('gatehouse-redis', 'gatehouse full with Redis limits, 1 process pinned', cores.sut);
    await scaleOut('gatehouse-workers', 'gatehouse --workers 2 (all cores)', cores.all, 2);
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
    ...(mcpResult ? { mcp: mcpResult } : {}),
    ...(thirdRate !== undefined ? { thirdRate } : {}),
    targets: checkTargets(ordered, soakResult),
    ...(values.compare ? { compare: await comparison(values.compare) } : {}),
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

/** The bench MCP server (one `lookup` tool) on the load side. */
async function startMcpUpstream(cpus: string, logDir: string): Promise<{ url: string; process: Running }> {
  const process = startProcess('mcp-upstream', 'node', ['--import', 'tsx', join(REPO_DIR, 'bench', 'lib', 'mcpUpstream.ts')], { cpus, logDir, cwd: REPO_DIR });
  const [, port] = await process.waitForLine(/^listening (\d+)/);
  return { url: `http://127.0.0.1:${port}/mcp`, process };
}

async function measureMcp(upstreamUrl: string, full: Row, key: string, calls: number): Promise<McpResult> {
  const direct = await connectMcp(upstreamUrl);
  const through = await connectMcp(full.target.url.replace('/v1/chat/completions', '/mcp'), { authorization: `Bearer ${key}` });
  try {
    await waitForTool(through, 'crm.lookup');
    return await compareMcp(direct, through, full.process.pid, { calls, rounds: 5, warmup: 300 });
  } finally {
    await direct.close();
    await through.close();
  }
}

/** The target figures of an earlier run, judged by this run's targets. */
async function comparison(file: string): Promise<NonNullable<RunResult['compare']>> {
  const earlier = JSON.parse(await readFile(file, 'utf8')) as RunResult;
  return { file: relative(REPO_DIR, resolve(file)), node: earlier.tools.node ?? earlier.machine.node, startedAt: earlier.startedAt, mode: earlier.mode, targets: checkTargets(earlier.rows, earlier.soak) };
}

/**
 * One realistic chat request (system prompt, a question, max_tokens), the same for
 * every row; and for the prompt row, the same question with the registry prompt
 * `advisor` version 2 and its variables instead of the system prompt.
 */
async function writeBodies(bodies: Bodies, promptBodies: Bodies): Promise<void> {
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
  const prompted = {
    model: chat.model,
    messages: chat.messages.slice(1),
    gatehouse_prompt: { id: 'advisor', version: 2, variables: { client_name: 'Ada Lovelace', risk_profile: 'balanced' } },
    max_tokens: chat.max_tokens,
  };
  await writeFile(promptBodies.chat, JSON.stringify(prompted));
  await writeFile(promptBodies.stream, JSON.stringify({ ...prompted, stream: true }));
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
