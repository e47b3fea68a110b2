/**
 * The memory limit store under a soak:
 * `node --import tsx bench/limits.ts [--baseline <dir>] [--minutes 10] [--rate 1000] [--rounds 3] [--paced]`.
 *
 * Every request reserves in 4 rate-limit scopes (tenant, team, user, key) and one
 * tenant budget, stays in flight for `--latency-ms` of simulated time, then settles.
 * The clock is simulated (`now` passed to reserve), so 10 minutes at 1,000 req/s take
 * seconds; `--paced` instead keeps to the wall clock, for memory growth per real minute
 * (objects that live seconds of real time reach old space, as in production).
 * Each run is its own `node --expose-gc` process, so heap figures are not mixed.
 * `--baseline` names another checkout's `proxy/limits` folder (e.g. the code before a
 * change, from `git archive HEAD proxy/limits proxy/policy/decision.ts | tar -x -C /tmp/old`
 * plus a `node_modules` symlink); the table then adds this checkout's figures as
 * ratios of the baseline's.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { performance, PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { LimitStore, Reservation } from '../proxy/limits/types.js';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    'latency-ms': { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    paced: { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});

interface Figures {
  /** Mean busy wall time of one reserve + one settle, awaited as the pipeline does (bench loop included). */
  nsPerRequest: number;
  /** The same in process CPU time (GC threads included), steadier than wall time on a shared machine. */
  cpuNsPerRequest: number;
  reserveP50Us: number;
  reserveP99Us: number;
  /** Memory the store holds at the end, after a forced GC: JS heap plus typed-array buffers (kept outside the heap). */
  retainedMb: number;
  /** Growth per minute of heap + array buffers in use (no forced GC), from the end of minute 2 to the end. */
  heapGrowthMbPerMin: number;
  rssGrowthMbPerMin: number;
  majorGcs: number;
  gcMs: number;
}

const MB = 1024 * 1024;
const START = Date.UTC(2030, 0, 15, 12, 0, 0);
const WIDE = { requestsPerMinute: 1_000_000, tokensPerMinute: 1e12 };

/** The policy's decision for one request: fresh objects each time, as the WASM policy returns them. */
function decision(): Pick<Parameters<LimitStore['reserve']>[0], 'limits' | 'budgets'> {
  return {
    limits: [
      { scope: 'tenant', key: 'acme', ...WIDE },
      { scope: 'team', key: 'acme/research', ...WIDE },
      { scope: 'user', key: 'acme/advisor-1', ...WIDE },
      { scope: 'key', key: 'key-1', ...WIDE },
    ],
    budgets: [{ scope: 'tenant', key: 'acme', tokensPerMonth: 1e15 }],
  };
}

/** JS heap plus ArrayBuffer memory, which typed arrays above 64 bytes keep outside the heap. */
function inUseMb(): number {
  const usage = process.memoryUsage();
  return (usage.heapUsed + usage.arrayBuffers) / MB;
}

function afterForcedGcMb(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the child with node --expose-gc');
  gc();
  gc();
  return inUseMb();
}

/** Counts major GCs and sums every GC pause while observing. */
function watchGc(): { majorGcs: number; gcMs: number; stop(): void } {
  const totals = {
    majorGcs: 0,
    gcMs: 0,
    stop: () => observer.disconnect(),
  };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      totals.gcMs += entry.duration;
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) totals.majorGcs++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return totals;
}

/** One soak against the memory store in `limitsDir`, in this process. */
async function soak(limitsDir: string): Promise<Figures> {
  const { MemoryLimitStore } = (await import(pathToFileURL(resolve(limitsDir, 'memoryStore.ts')).href)) as typeof import('../proxy/limits/memoryStore.js');
  const rate = Number(values.rate);
  const requests = Math.round(Number(values.minutes) * 60 * rate);
  const stepMs = 1000 / rate;
  const perMinute = 60 * rate;
  const inFlight: (Reservation | undefined)[] = new Array(Math.max(1, Math.round(Number(values['latency-ms']) / stepMs))).fill(undefined);
  const reserveUs = new Float64Array(requests);
  const samples: { inUse: number; rss: number }[] = [];

  const before = afterForcedGcMb();
  const gc = watchGc();
  const store: LimitStore = new MemoryLimitStore();
  const cpu = process.cpuUsage();
  const started = performance.now();
  let sleptMs = 0;
  for (let i = 0; i < requests; i++) {
    const now = START + i * stepMs;
    if (values.paced && i % 10 === 0) {
      const aheadMs = now - START - (performance.now() - started);
      if (aheadMs > 1) {
        const sleptFrom = performance.now();
        await sleep(aheadMs);
        sleptMs += performance.now() - sleptFrom;
      }
    }
    const slot = i % inFlight.length;
    const due = inFlight[slot];
    if (due !== undefined) await store.settle(due, { tokens: 800, costUsd: 0.002 });
    const { limits, budgets } = decision();
    const t = performance.now();
    const result = await store.reserve({ limits, budgets, estimatedTokens: 1000, estimatedCostUsd: 0.004, now });
    reserveUs[i] = (performance.now() - t) * 1000;
    if (!result.ok) throw new Error(`request ${i} refused: ${result.code}`);
    inFlight[slot] = result.reservation;
    if ((i + 1) % perMinute === 0) samples.push({ inUse: inUseMb(), rss: process.memoryUsage().rss / MB });
  }
  const busyMs = performance.now() - started - sleptMs;
  const { user, system } = process.cpuUsage(cpu);
  await sleep(50); // lets the observer see the last GCs
  gc.stop();
  const after = afterForcedGcMb();
  if (store.kind !== 'memory') throw new Error('unexpected store'); // keeps the store alive up to the measurement

  reserveUs.sort();
  const from = Math.min(1, samples.length - 1);
  const minutes = Math.max(1, samples.length - 1 - from);
  return {
    nsPerRequest: (busyMs * 1e6) / requests,
    cpuNsPerRequest: ((user + system) * 1e3) / requests,
    reserveP50Us: reserveUs[Math.floor(requests * 0.5)]!,
    reserveP99Us: reserveUs[Math.floor(requests * 0.99)]!,
    retainedMb: after - before,
    heapGrowthMbPerMin: (samples.at(-1)!.inUse - samples[from]!.inUse) / minutes,
    rssGrowthMbPerMin: (samples.at(-1)!.rss - samples[from]!.rss) / minutes,
    majorGcs: gc.majorGcs,
    gcMs: gc.gcMs,
  };
}

const run = promisify(execFile);
const HERE = fileURLToPath(import.meta.url);
const CURRENT = fileURLToPath(new URL('../proxy/limits', import.meta.url));

async function soakInChild(limitsDir: string): Promise<Figures> {
  const forwarded = (['minutes', 'rate', 'latency-ms'] as const).flatMap((name) => [`--${name}`, values[name]]);
  if (values.paced) forwarded.push('--paced');
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', HERE, '--child', limitsDir, ...forwarded], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as Figures;
}

/** The median of each figure over the rounds. */
function median(runs: Figures[]): Figures {
  const pick = (name: keyof Figures): number => runs.map((r) => r[name]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return Object.fromEntries(Object.keys(runs[0]!).map((name) => [name, pick(name as keyof Figures)])) as unknown as Figures;
}

function table(rows: { name: string; figures: Figures }[]): string {
  const names = Object.keys(rows[0]!.figures) as (keyof Figures)[];
  const baseline = rows.length > 1 ? rows[0]!.figures : undefined;
  const lines = [`${'figure'.padEnd(20)}${rows.map((r) => r.name.padStart(14)).join('')}${baseline ? 'new/old'.padStart(10) : ''}`];
  for (const name of names) {
    const cells = rows.map((r) => r.figures[name].toFixed(2).padStart(14)).join('');
    const ratio = baseline ? (rows.at(-1)!.figures[name] / baseline[name]).toFixed(3).padStart(10) : '';
    lines.push(`${name.padEnd(20)}${cells}${ratio}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (values.child !== undefined) {
    process.stdout.write(JSON.stringify(await soak(values.child)));
    return;
  }
  const dirs: [string, string][] = [['this checkout', CURRENT]];
  if (values.baseline !== undefined) dirs.unshift(['baseline', resolve(values.baseline)]);
  const runs = new Map<string, Figures[]>(dirs.map(([name]) => [name, []]));
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, dir] of dirs) runs.get(name)!.push(await soakInChild(dir)); // alternating, so drift hits both
  }
  const clock = values.paced ? 'real' : 'simulated';
  process.stdout.write(`${values.minutes} ${clock} min at ${values.rate} req/s, 4 scopes + 1 budget, ${values['latency-ms']} ms in flight, median of ${values.rounds} rounds\n`);
  process.stdout.write(`${table([...runs].map(([name, figures]) => ({ name, figures: median(figures) })))}\n`);
}

await main();
