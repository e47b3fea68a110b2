/** Facts about the machine a run happened on, and its per-core CPU counters. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  kernel: string;
  loadAverage: number[];
}

export async function machine(): Promise<Machine> {
  const kernel = await run('uname', ['-sr']).then((r) => r.stdout.trim(), () => 'unknown');
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export interface CpuTimes {
  busy: number;
  total: number;
}

/** Jiffies per core from /proc/stat (busy = everything but idle and iowait). */
export async function cpuBusy(): Promise<CpuTimes[]> {
  const text = await readFile('/proc/stat', 'utf8').catch(() => '');
  const out: CpuTimes[] = [];
  for (const line of text.split('\n')) {
    if (!/^cpu\d+ /.test(line)) continue;
    const fields = line.split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    out.push({ busy: total - idle, total });
  }
  return out;
}

/** Waits until the 1-minute load average drops below `threshold`, polling every 15 s, for at most maxMinutes. */
export async function waitForQuiet(threshold: number, maxMinutes: number, say: (line: string) => void): Promise<{ quiet: boolean; waitedS: number; load: number }> {
  const started = Date.now();
  for (;;) {
    const load = loadavg()[0]!;
    const waitedS = Math.round((Date.now() - started) / 1000);
    if (load < threshold) return { quiet: true, waitedS, load };
    if (waitedS >= maxMinutes * 60) return { quiet: false, waitedS, load };
    say(`load average ${load.toFixed(2)} >= ${threshold}; waiting for a quiet machine (${waitedS} s so far, up to ${maxMinutes} min)`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
}
