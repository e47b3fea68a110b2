/**
 * The figures, each measured the same way for every row: closed-loop throughput
 * at 32 and 64 connections, 1-connection latency over interleaved rounds, an
 * open-loop fixed rate, streaming, and a memory soak.
 */
import { join } from 'node:path';
import { load, percentileMs, readSamples, type LoadSummary } from './loadgen.js';
import { cpuTimeMs, memoryOf, type Running } from './processes.js';
import type { Row, RowId } from './targets.js';

export interface Plan {
  quick: boolean;
  throughputS: number;
  warmupS: number;
  latencyRounds: number;
  latencyRoundS: number;
  fixedRate: number;
  fixedRateS: number;
  streamS: number;
  streamConns: number;
  streamChunks: number;
  streamIntervalMs: number;
  soakMinutes: number;
  soakRate: number;
  /** MCP tools/call per side in the MCP rows. */
  mcpCalls: number;
}

export interface Bodies {
  chat: string;
  stream: string;
}

export interface Latency1 {
  p50: number;
  p99: number;
  n: number;
  /** Minus the direct row's p50 / p99 over the same rounds. */
  addedP50?: number;
  addedP99?: number;
}

/** Closed loop; also records the SUT's CPU time per answered request (robust to a busy machine). */
export async function throughput(row: Row, conns: number, plan: Plan, bodies: Bodies, cpus: string): Promise<LoadSummary> {
  const before = await cpuTimeMs(row.process.pid);
  const summary = await load(row.target, { bodyFile: (row.bodies ?? bodies).chat, cpus, durationS: plan.throughputS, warmupS: plan.warmupS, conns });
  const used = (await cpuTimeMs(row.process.pid)) - before;
  // The warm-up's requests used CPU too: count them at the measured rate.
  const answered = summary.ok * (1 + plan.warmupS / plan.throughputS);
  summary.cpuUsPerRequest = answered > 0 ? Math.round((used * 1000) / answered) : undefined;
  return summary;
}

/**
 * Rounds of 1-connection runs, the rows in a different order each round, so a
 * slow spell of the machine is spread over every row instead of hitting one.
 */
export async function latencyRounds(rows: Row[], plan: Plan, bodies: Bodies, cpus: string, workDir: string, say: (s: string) => void): Promise<Map<RowId, Latency1>> {
  const samples = new Map<RowId, number[]>(rows.map((r) => [r.id, []]));
  for (let round = 0; round < plan.latencyRounds; round++) {
    const order = rotate(rows, round);
    say(`  latency round ${round + 1}/${plan.latencyRounds}: ${order.map((r) => r.id).join(', ')}`);
    for (const row of order) {
      const file = join(workDir, `lat-${row.id}-${round}.txt`);
      await load(row.target, { bodyFile: (row.bodies ?? bodies).chat, cpus, durationS: plan.latencyRoundS, warmupS: 0.5, conns: 1, samplesFile: file });
      samples.get(row.id)!.push(...(await readSamples(file)));
    }
  }
  const out = new Map<RowId, Latency1>();
  for (const [id, values] of samples) out.set(id, { p50: percentileMs(values, 0.5), p99: percentileMs(values, 0.99), n: values.length });
  const direct = out.get('direct');
  if (direct) {
    for (const value of out.values()) {
      value.addedP50 = round3(value.p50 - direct.p50);
      value.addedP99 = round3(value.p99 - direct.p99);
    }
  }
  return out;
}

export function fixedRate(row: Row, plan: Plan, bodies: Bodies, cpus: string, rate = plan.fixedRate): Promise<LoadSummary> {
  return load(row.target, { bodyFile: (row.bodies ?? bodies).chat, cpus, durationS: plan.fixedRateS, warmupS: plan.quick ? 2 : 5, rate, timeoutS: 10 });
}

export function streaming(row: Row, plan: Plan, bodies: Bodies, cpus: string): Promise<LoadSummary> {
  return load(row.target, { bodyFile: (row.bodies ?? bodies).stream, cpus, durationS: plan.streamS, warmupS: 1, conns: plan.streamConns, stream: true, expectChunks: plan.streamChunks, timeoutS: 10 });
}

export interface Soak {
  rate: number;
  minutes: number;
  /** [seconds since start, RSS MB] every few seconds. */
  samples: Array<[number, number]>;
  startMb: number;
  endMb: number;
  peakMb: number;
  /** Least-squares slope of RSS after the first minute (the limit window filling is not a leak). */
  slopeMbPerMin: number;
  load: LoadSummary;
}

export async function soak(row: Row, plan: Plan, bodies: Bodies, cpus: string): Promise<Soak> {
  const samples: Array<[number, number]> = [];
  const started = Date.now();
  const sample = async () => samples.push([(Date.now() - started) / 1000, (await memoryOf(row.process.pid)).rssMb]);
  await sample();
  const timer = setInterval(() => void sample(), 5_000);
  let summary: LoadSummary;
  try {
    summary = await load(row.target, { bodyFile: bodies.chat, cpus, durationS: plan.soakMinutes * 60, warmupS: 0, rate: plan.soakRate, timeoutS: 10 });
  } finally {
    clearInterval(timer);
  }
  await sample();
  const steady = samples.filter(([t]) => t >= 60);
  const memory = await memoryOf(row.process.pid);
  return {
    rate: plan.soakRate,
    minutes: plan.soakMinutes,
    samples: samples.map(([t, mb]) => [Math.round(t), Math.round(mb * 10) / 10]),
    startMb: round1(samples[0]![1]),
    endMb: round1(samples.at(-1)![1]),
    peakMb: round1(memory.peakMb),
    slopeMbPerMin: round3(slope(steady.length >= 3 ? steady : samples) * 60),
    load: summary,
  };
}

/** Memory of a row's process tree now. */
export async function rowMemory(process: Running): Promise<{ rssMb: number; peakMb: number }> {
  const m = await memoryOf(process.pid);
  return { rssMb: round1(m.rssMb), peakMb: round1(m.peakMb) };
}

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

function rotate<T>(items: T[], by: number): T[] {
  const k = by % items.length;
  const rotated = [...items.slice(k), ...items.slice(0, k)];
  return by % 2 === 1 ? rotated.reverse() : rotated;
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
