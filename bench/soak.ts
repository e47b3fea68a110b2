/**
 * `npm run bench:soak [-- --requests 200000] [-- --rate 2000] [-- --no-doc]`
 *
 * Memory over a long run, for the two shapes operators deploy:
 *  - embedded: `gatehouse start` (proxy and collector in one process, DuckDB in it);
 *  - split: `gatehouse proxy` shipping to a separate `gatehouse collector`.
 * Each gets `requests` chat requests at a fixed `rate` from bench/gatebench,
 * against the simulated provider (no upstream process to share the cores with),
 * with policies, limits, the spool, shipping and the audit chain all on. RSS of
 * every process is sampled every 2 s; "flat" is judged on the slope over the
 * second half of the run (the first half includes warm-up: JIT, the 60 s
 * limit window filling, DuckDB's first row groups). Results go to
 * bench/results/soak-<time>.json and into BENCHMARKS.md between the soak markers.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { generateIngestKey, generateKey, hashKey } from '../proxy/identity/keyHash.js';
import { ingestKeysPath, writeIngestKeys } from '../collector/otlp/ingestKeys.js';
import { buildGatebench, load, type LoadSummary } from './lib/loadgen.js';
import { freePort, memoryOf, startProcess, waitForHttp, type Running } from './lib/processes.js';
import { REPO_DIR } from './lib/gatehouseSetup.js';

const { values } = parseArgs({
  options: { requests: { type: 'string' }, rate: { type: 'string' }, 'no-doc': { type: 'boolean' } },
});
const REQUESTS = Number(values.requests ?? 200_000);
/** A rate one core sustains with room to spare: the soak measures memory, not saturation (queues would grow at any rate past it). */
const RATE = Number(values.rate ?? 1_000);
const SAMPLE_MS = 2_000;
const BIN = join(REPO_DIR, 'bin', 'gatehouse.mjs');

interface Series { name: string; samples: Array<[number, number]> }
interface ProcessResult {
  name: string; startMb: number; peakMb: number; endMb: number; secondHalfSlopeMbPerMin: number;
  /** Mean RSS of the last quarter minus that of the second quarter: growth once warmed up, robust to GC sawtooth. */
  lateGrowthMb: number;
  samples: Array<[number, number]>;
}
interface SetupResult { setup: string; load: LoadSummary; records: number; storeMb: number; walMb: number; processes: ProcessResult[] }

function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

async function sizeMb(path: string): Promise<number> {
  return round1(((await stat(path).catch(() => ({ size: 0 }))).size) / (1 << 20));
}

async function recordsAt(collectorUrl: string): Promise<number> {
  const body = (await (await fetch(`${collectorUrl}/healthz`)).json()) as { last_seq: number };
  return body.last_seq;
}

async function run(setup: string, processes: Array<{ name: string; process: Running }>, url: string, key: string, collectorUrl: string, dataDir: string): Promise<SetupResult> {
  const bodyFile = join(dataDir, 'chat.json');
  await writeFile(bodyFile, JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'Summarise the quarterly allocation in one line.' }] }));
  const series: Series[] = processes.map((p) => ({ name: p.name, samples: [] }));
  const started = Date.now();
  const sample = async (): Promise<void> => {
    const t = (Date.now() - started) / 1000;
    for (const [i, p] of processes.entries()) series[i]!.samples.push([t, (await memoryOf(p.process.pid)).rssMb]);
  };
  await sample();
  const timer = setInterval(() => void sample(), SAMPLE_MS);
  let summary: LoadSummary;
  try {
    summary = await load({ url, headers: [`Authorization: Bearer ${key}`] }, { bodyFile, cpus: '', durationS: Math.ceil(REQUESTS / RATE), warmupS: 0, rate: RATE, timeoutS: 10 });
  } finally {
    clearInterval(timer);
  }
  // Let the spool drain to the collector, then one last sample.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (await recordsAt(collectorUrl)) < summary.ok) await new Promise((r) => setTimeout(r, 500));
  await sample();
  const results = series.map((s): ProcessResult => {
    const end = s.samples.at(-1)![0];
    const half = s.samples.filter(([t]) => t >= end / 2);
    const mean = (from: number, to: number): number => {
      const inside = s.samples.filter(([t]) => t >= from * end && t < to * end + 1e-9);
      return inside.reduce((a, [, mb]) => a + mb, 0) / Math.max(1, inside.length);
    };
    return {
      name: s.name,
      startMb: round1(s.samples[0]![1]),
      peakMb: round1(Math.max(...s.samples.map(([, mb]) => mb))),
      endMb: round1(s.samples.at(-1)![1]),
      secondHalfSlopeMbPerMin: Math.round(slope(half) * 60 * 100) / 100,
      lateGrowthMb: round1(mean(0.75, 1) - mean(0.25, 0.5)),
      samples: s.samples.map(([t, mb]) => [Math.round(t), round1(mb)]),
    };
  });
  return {
    setup, load: summary, records: await recordsAt(collectorUrl),
    storeMb: await sizeMb(join(dataDir, 'collector', 'audit.duckdb')) || await sizeMb(join(dataDir, 'audit.duckdb')),
    walMb: await sizeMb(join(dataDir, 'collector', 'audit.duckdb.wal')) || await sizeMb(join(dataDir, 'audit.duckdb.wal')),
    processes: results,
  };
}

function configFor(dataDir: string, policiesDir: string, key: string, extra: Record<string, unknown>): string {
  return stringify({
    dataDir,
    providers: { sim: { type: 'simulated', outputTokens: 16 } },
    models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
    keys: [{ id: 'soak', hash: hashKey(key), tenant: 'soak', team: 'load', user: 'soak-user' }],
    policy: { dir: policiesDir },
    ...extra,
  });
}

async function policiesWithHighLimits(dataDir: string): Promise<void> {
  const { cp } = await import('node:fs/promises');
  await cp(join(REPO_DIR, 'policies'), join(dataDir, 'policies'), { recursive: true });
  const file = join(dataDir, 'policies', 'data', 'defaults.json');
  const defaults = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  // The soak measures memory, not refusals: lift every numeric limit far above the load.
  const lift = (v: unknown): unknown => (typeof v === 'number' ? Math.max(v, 1e12) : Array.isArray(v) ? v.map(lift) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, lift(x)])) : v);
  await writeFile(file, JSON.stringify(lift(defaults), null, 2));
}

async function embedded(work: string, logDir: string): Promise<SetupResult> {
  const dataDir = join(work, 'embedded');
  await mkdir(dataDir, { recursive: true });
  await policiesWithHighLimits(dataDir);
  const key = generateKey();
  const port = await freePort();
  const collectorPort = await freePort();
  const config = join(dataDir, 'gatehouse.yaml');
  await writeFile(config, configFor(dataDir, join(dataDir, 'policies'), key, { collector: { port: collectorPort } }));
  const gateway = startProcess('embedded', 'node', [BIN, 'start', '--config', config, '--port', String(port)], { cpus: '', logDir, cwd: REPO_DIR, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, 120_000);
    return await run('embedded (gatehouse start)', [{ name: 'gatehouse start', process: gateway }], `http://127.0.0.1:${port}/v1/chat/completions`, key, `http://127.0.0.1:${collectorPort}`, dataDir);
  } finally {
    await gateway.stop();
  }
}

async function split(work: string, logDir: string): Promise<SetupResult> {
  const dataDir = join(work, 'split');
  const collectorDir = join(dataDir, 'collector');
  await mkdir(collectorDir, { recursive: true });
  await policiesWithHighLimits(dataDir);
  const ingest = generateIngestKey();
  await writeIngestKeys(ingestKeysPath(collectorDir), [{ id: 'soak-proxy', hash: hashKey(ingest) }]);
  const collectorPort = await freePort();
  const collector = startProcess('collector', 'node', [BIN, 'collector', '--data-dir', collectorDir, '--port', String(collectorPort)], { cpus: '', logDir, cwd: REPO_DIR, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
  const key = generateKey();
  const port = await freePort();
  const config = join(dataDir, 'gatehouse.yaml');
  await writeFile(config, configFor(join(dataDir, 'proxy'), join(dataDir, 'policies'), key, { audit: { collectorUrl: `http://127.0.0.1:${collectorPort}`, collectorToken: ingest } }));
  let proxy: Running | undefined;
  try {
    await collector.waitForLine(/collector listening/, 120_000);
    proxy = startProcess('proxy', 'node', [BIN, 'proxy', '--config', config, '--port', String(port)], { cpus: '', logDir, cwd: REPO_DIR, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, 120_000);
    return await run('split (gatehouse proxy + gatehouse collector)', [{ name: 'gatehouse proxy', process: proxy }, { name: 'gatehouse collector', process: collector }],
      `http://127.0.0.1:${port}/v1/chat/completions`, key, `http://127.0.0.1:${collectorPort}`, dataDir);
  } finally {
    await proxy?.stop();
    await collector.stop();
  }
}

function markdown(results: SetupResult[], when: string): string {
  const lines = [
    `Soak (\`npm run bench:soak\`, ${when}): ${REQUESTS.toLocaleString('en-US')} chat requests at ${RATE.toLocaleString('en-US')} req/s per setup, simulated provider, policies, limits, spool, shipping and the audit chain on. Node ${process.version}. RSS sampled every ${SAMPLE_MS / 1000} s; the slope is fitted over the second half of each run.`,
    '',
    '| setup | process | RSS start | RSS peak | RSS end | growth, 2nd to 4th quarter | slope, 2nd half | requests ok / errors | p99 | records chained | DuckDB file / WAL |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    for (const p of r.processes) {
      lines.push(`| ${r.setup} | ${p.name} | ${p.startMb} MB | ${p.peakMb} MB | ${p.endMb} MB | ${p.lateGrowthMb} MB | ${p.secondHalfSlopeMbPerMin} MB/min | ${r.load.ok.toLocaleString('en-US')} / ${r.load.errors} | ${r.load.latencyMs.p99} ms | ${r.records.toLocaleString('en-US')} | ${r.storeMb} / ${r.walMb} MB |`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  await buildGatebench();
  const work = await mkdtemp(join(tmpdir(), 'gatehouse-soak-'));
  const logDir = join(work, 'logs');
  await mkdir(logDir, { recursive: true });
  try {
    const results = [await embedded(work, logDir), await split(work, logDir)];
    const when = new Date().toISOString();
    await mkdir(join(REPO_DIR, 'bench', 'results'), { recursive: true });
    await writeFile(join(REPO_DIR, 'bench', 'results', `soak-${when.replace(/[:.]/g, '-')}.json`), JSON.stringify({ requests: REQUESTS, rate: RATE, node: process.version, results }, null, 2));
    const table = markdown(results, when.slice(0, 10));
    process.stdout.write(`${table}\n`);
    if (!values['no-doc']) {
      const doc = join(REPO_DIR, 'BENCHMARKS.md');
      const text = await readFile(doc, 'utf8');
      const start = '<!-- soak:start -->';
      const end = '<!-- soak:end -->';
      const section = `${start}\n${table}\n${end}`;
      await writeFile(doc, text.includes(start) ? text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), section) : `${text.trimEnd()}\n\n## Memory soak\n\n${section}\n`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
