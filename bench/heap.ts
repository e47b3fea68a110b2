/**
 * The V8 heap setting's trade-off (`npm run bench:heap [-- --quick] [-- --rounds N] [-- "--flags=a|b|c"]`):
 * for each value of GATEHOUSE_NODE_FLAGS, a fresh full-pipeline gateway (the
 * bench's config, pinned to its own core) gets the same sequence:
 *
 *  1. closed loop, 64 connections: max req/s and CPU µs per request;
 *  2. open loop at `--rate` req/s (default 600, a steady load well under the
 *     maximum): p50 / p99 / p99.9;
 *  3. 4 streaming connections;
 *
 * and its peak RSS (VmHWM) is read at the end. The settings run in interleaved
 * rounds (a, b, c, then c, b, a, ...), so a slow spell of the shared machine is
 * spread over all of them. Prints a markdown table; figures go to docs/operations.md.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeGatehouseConfigs } from './lib/gatehouseSetup.js';
import { buildGatebench } from './lib/loadgen.js';
import { coreLayout } from './lib/processes.js';
import { fixedRate, rowMemory, streaming, throughput, type Plan } from './lib/scenarios.js';
import { startCollector, startGatehouse, startMock } from './lib/targets.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, flags: { type: 'string' }, rate: { type: 'string', default: '600' }, rounds: { type: 'string' } } });
const settings = (values.flags ?? '|--max-semi-space-size=16|--max-semi-space-size=8').split('|');
const rounds = Number(values.rounds ?? (values.quick ? 1 : 2));
const rate = Number(values.rate);
const plan: Plan = {
  quick: values.quick, throughputS: values.quick ? 5 : 10, warmupS: 2, latencyRounds: 0, latencyRoundS: 0, fixedRate: rate, fixedRateS: values.quick ? 10 : 20,
  streamS: values.quick ? 5 : 10, streamConns: 4, streamChunks: 20, streamIntervalMs: 5, soakMinutes: 0, soakRate: 0, mcpCalls: 0,
};

interface Sample { rps: number; cpuUs: number; p50: number; p99: number; p999: number; errors: number; ttft: number; peakMb: number }

await buildGatebench();
const cores = coreLayout();
const workDir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-heap-'));
const logDir = join(workDir, 'logs');
await mkdir(logDir);
const bodies = { chat: join(workDir, 'chat.json'), stream: join(workDir, 'stream.json') };
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are a concise assistant for an operations team.' }, { role: 'user', content: 'The nightly export job failed with a timeout at 02:14. What should I check first?' }], max_tokens: 256 };
await writeFile(bodies.chat, JSON.stringify(chat));
await writeFile(bodies.stream, JSON.stringify({ ...chat, stream: true }));
const mock = await startMock({ cpus: cores.load, logDir, latencyMs: 0, chunks: 20, chunkIntervalMs: 5, name: 'mock' });
const collector = await startCollector(cores.load, logDir, join(workDir, 'collector'));
const samples = new Map<string, Sample[]>(settings.map((s) => [s, []]));
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? settings : [...settings].reverse();
    for (const flags of order) {
      process.env.GATEHOUSE_NODE_FLAGS = flags;
      const configs = await writeGatehouseConfigs({ workDir: join(workDir, `r${round}-${settings.indexOf(flags)}`), mockUrl: mock.url, collectorUrl: collector.url, collectorToken: collector.token, redisUrl: 'redis://127.0.0.1:6379' });
      const row = await startGatehouse({ id: 'gatehouse-full', config: configs.full, key: configs.key, cpus: cores.sut, logDir });
      try {
        const c64 = await throughput(row, 64, plan, bodies, cores.load);
        const open = await fixedRate(row, plan, bodies, cores.load);
        const stream = await streaming(row, plan, bodies, cores.load);
        const memory = await rowMemory(row.process);
        const sample: Sample = { rps: c64.rps, cpuUs: c64.cpuUsPerRequest ?? NaN, p50: open.latencyMs.p50, p99: open.latencyMs.p99, p999: open.latencyMs.p999, errors: open.errors + stream.errors, ttft: stream.stream?.ttftMs.p50 ?? NaN, peakMb: memory.peakMb };
        samples.get(flags)!.push(sample);
        process.stdout.write(`round ${round + 1} [${flags || "V8's default"}]: ${Math.round(sample.rps)} req/s, ${sample.cpuUs} µs/request, at ${rate} req/s p50 ${sample.p50} p99 ${sample.p99} ms, TTFT p50 ${sample.ttft} ms, peak RSS ${sample.peakMb} MB\n`);
      } finally {
        await row.process.stop();
      }
    }
  }
} finally {
  await collector.process.stop();
  await mock.process.stop();
  await rm(workDir, { recursive: true, force: true });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const f = (x: number, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
process.stdout.write(`\n\`npm run bench:heap\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${rounds} interleaved round(s); medians; open loop at ${rate} req/s for ${plan.fixedRateS} s):\n\n`);
process.stdout.write('| GATEHOUSE_NODE_FLAGS | max req/s (64 conns) | CPU µs/request | p50 / p99 / p99.9 at the open loop (ms) | streaming TTFT p50 (ms) | peak RSS (MB) | errors |\n|---|---|---|---|---|---|---|\n');
for (const [flags, list] of samples) {
  const m = (k: keyof Sample) => median(list.map((s) => s[k]));
  process.stdout.write(`| ${flags ? `\`${flags}\`` : "V8's default"} | ${f(m('rps'))} | ${f(m('cpuUs'))} | ${f(m('p50'), 2)} / ${f(m('p99'), 1)} / ${f(m('p999'), 1)} | ${f(m('ttft'), 3)} | ${f(Math.max(...list.map((s) => s.peakMb)))} (max) | ${list.reduce((a, s) => a + s.errors, 0)} |\n`);
}
