/**
 * The one load tool every row is measured with: bench/gatebench (Go, standard
 * library only), built into bench/.tools on first use. One call is one run
 * against one target; the summary is its JSON line.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cpuBusy, type CpuTimes } from './machine.js';

const run = promisify(execFile);

export const BENCH_DIR = join(import.meta.dirname, '..');
export const GATEBENCH = join(BENCH_DIR, '.tools', 'gatebench');

/** Builds the Go tool when its binary is missing or older than its sources. */
export async function buildGatebench(): Promise<string> {
  const source = join(BENCH_DIR, 'gatebench');
  const files = (await readdir(source)).filter((f) => f.endsWith('.go') || f === 'go.mod');
  const newest = Math.max(...(await Promise.all(files.map(async (f) => (await stat(join(source, f))).mtimeMs))));
  const built = await stat(GATEBENCH).then((s) => s.mtimeMs, () => 0);
  if (built < newest) {
    await mkdir(join(BENCH_DIR, '.tools'), { recursive: true });
    await run('go', ['build', '-o', GATEBENCH, '.'], { cwd: source, env: { ...process.env, CGO_ENABLED: '0' } });
  }
  const { stdout } = await run('go', ['version']);
  return stdout.trim();
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  n: number;
}

export interface LoadSummary {
  requests: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  dropped: number;
  rps: number;
  latencyMs: Percentiles;
  connections: number;
  dispatchLagMaxUs: number;
  stream?: { ttftMs: Percentiles; gapMs: Percentiles; streams: number; faithful: number };
  /** Busy share (0..1) of each core during the run, from /proc/stat. */
  coreBusy?: number[];
  /** CPU time of the system under test per answered request, µs (throughput runs). */
  cpuUsPerRequest?: number | undefined;
}

export interface Target {
  url: string;
  headers: string[];
}

export interface LoadOptions {
  bodyFile: string;
  cpus: string;
  durationS: number;
  warmupS: number;
  conns?: number;
  rate?: number;
  stream?: boolean;
  expectChunks?: number;
  timeoutS?: number;
  samplesFile?: string;
}

export async function load(target: Target, options: LoadOptions): Promise<LoadSummary> {
  const args = ['load', '-url', target.url, '-body-file', options.bodyFile, '-duration', `${options.durationS}s`, '-warmup', `${options.warmupS}s`, '-timeout', `${options.timeoutS ?? 10}s`];
  for (const header of target.headers) args.push('-H', header);
  if (options.rate) args.push('-rate', String(options.rate));
  else args.push('-conns', String(options.conns ?? 1));
  if (options.stream) args.push('-stream', '-expect-chunks', String(options.expectChunks ?? 20));
  if (options.samplesFile) args.push('-samples', options.samplesFile);
  const file = options.cpus ? 'taskset' : GATEBENCH;
  const argv = options.cpus ? ['-c', options.cpus, GATEBENCH, ...args] : args;
  const before: CpuTimes[] = await cpuBusy();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`gatebench load exited ${code}: ${err.trim()}`))));
  });
  const after = await cpuBusy();
  const summary = JSON.parse(stdout.trim().split('\n').pop()!) as LoadSummary;
  summary.coreBusy = after.map((a, i) => {
    const b = before[i]!;
    const total = a.total - b.total;
    return total > 0 ? Math.round(((a.busy - b.busy) / total) * 1000) / 1000 : 0;
  });
  return summary;
}

/** The latency samples (µs) a run wrote with `samplesFile`. */
export async function readSamples(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8');
  const out: number[] = [];
  for (const line of text.split('\n')) if (line) out.push(Number(line));
  return out;
}

/** Nearest-rank percentile of µs samples, in ms. Sorts in place. */
export function percentileMs(samples: number[], q: number): number {
  if (samples.length === 0) return NaN;
  samples.sort((a, b) => a - b);
  const rank = Math.min(samples.length - 1, Math.max(0, Math.ceil(q * samples.length) - 1));
  return samples[rank]! / 1000;
}
