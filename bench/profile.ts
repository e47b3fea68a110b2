/**
 * CPU profile of Gatehouse under load: `node --import tsx bench/profile.ts [--bare] [--seconds 15] [--conns 32 | --rate 600] [--stream]`.
 * Starts the mock, a collector and one gateway under `node --cpu-prof`, drives it
 * with the bench's load tool, stops it, and prints the top frames by self time and
 * by total time. The .cpuprofile is kept in bench/results/profiles/ (open it in
 * Chrome DevTools or speedscope for a flame graph).
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeGatehouseConfigs } from './lib/gatehouseSetup.js';
import { BENCH_DIR, buildGatebench, load } from './lib/loadgen.js';
import { coreLayout, cpuTimeMs } from './lib/processes.js';
import { startCollector, startGatehouse, startMock } from './lib/targets.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const { values } = parseArgs({ options: { bare: { type: 'boolean', default: false }, seconds: { type: 'string', default: '15' }, conns: { type: 'string', default: '32' }, stream: { type: 'boolean', default: false }, rate: { type: 'string' }, top: { type: 'string', default: '30' } } });

async function main(): Promise<void> {
  await buildGatebench();
  const cores = coreLayout();
  const workDir = await mkdtemp(join(tmpdir(), 'gatehouse-profile-'));
  const logDir = join(workDir, 'logs');
  const profileDir = join(workDir, 'profile');
  await mkdir(logDir);
  await mkdir(profileDir);
  const mock = await startMock({ cpus: cores.load, logDir, latencyMs: 0, chunks: 20, chunkIntervalMs: 1, name: 'mock' });
  const collector = await startCollector(cores.load, logDir, join(workDir, 'collector'));
  const configs = await writeGatehouseConfigs({ workDir, mockUrl: mock.url, collectorUrl: collector.url, collectorToken: collector.token, redisUrl: 'redis://127.0.0.1:6379' });
  const row = await startGatehouse({ id: values.bare ? 'gatehouse-bare' : 'gatehouse-full', config: values.bare ? configs.bare : configs.full, key: configs.key, cpus: cores.sut, logDir, cpuProfileDir: profileDir });
  const body = join(workDir, 'body.json');
  await writeFile(body, JSON.stringify({ model: 'gpt-4o-mini', stream: values.stream, messages: [{ role: 'system', content: 'You are a concise assistant.' }, { role: 'user', content: 'The nightly export job failed with a timeout at 02:14. What should I check first?' }], max_tokens: 256 }));
  await load(row.target, { bodyFile: body, cpus: cores.load, durationS: 2, warmupS: 0, conns: Number(values.conns), stream: values.stream });
  const before = await cpuTimeMs(row.process.pid);
  // --rate N: an open loop at N req/s instead of --conns (where a tail at a steady load comes from).
  const shape = values.rate ? { rate: Number(values.rate) } : { conns: Number(values.conns) };
  const summary = await load(row.target, { bodyFile: body, cpus: cores.load, durationS: Number(values.seconds), warmupS: 0, ...shape, stream: values.stream });
  const cpuUs = ((await cpuTimeMs(row.process.pid)) - before) * 1000 / Math.max(1, summary.ok);
  process.stdout.write(`${Math.round(summary.rps)} req/s, p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms, errors ${summary.errors}, gateway CPU ${Math.round(cpuUs)} µs/request\n`);
  await row.process.stop();
  await collector.process.stop();
  await mock.process.stop();
  const [file] = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile was written');
  const kept = join(BENCH_DIR, 'results', 'profiles', `${new Date().toISOString().replace(/[:.]/g, '-')}-${values.bare ? 'bare' : 'full'}${values.stream ? '-stream' : ''}.cpuprofile`);
  await mkdir(join(BENCH_DIR, 'results', 'profiles'), { recursive: true });
  await rename(join(profileDir, file), kept).catch(async () => writeFile(kept, await readFile(join(profileDir, file))));
  const profile = JSON.parse(await readFile(kept, 'utf8')) as { nodes: ProfileNode[]; startTime: number; endTime: number };
  printTop(profile.nodes, Number(values.top));
  process.stdout.write(`profile: ${kept}\n`);
  // BENCH_KEEP_LOGS=1 keeps the processes' logs (with GATEHOUSE_NODE_FLAGS=--trace-gc, the gateway's GC trace).
  if (process.env.BENCH_KEEP_LOGS) process.stdout.write(`logs: ${logDir}\n`);
  else await rm(workDir, { recursive: true, force: true });
}

function printTop(nodes: ProfileNode[], top: number): void {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const name = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/)?/, '$1')}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const n of nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits) continue;
    self.set(name(n), (self.get(name(n)) ?? 0) + hits);
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const key = name(byId.get(id)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    }
  }
  const show = (title: string, map: Map<string, number>) => {
    process.stdout.write(`\n${title}\n`);
    for (const [key, hits] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}\n`);
  };
  show('top frames by self time', self);
  show('top frames by total time', inclusive);
}

main().catch((error: unknown) => {
  process.stderr.write(`profile failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
