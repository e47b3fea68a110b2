/**
 * Child processes of a bench run: each one pinned to a CPU set with `taskset`
 * (when the machine has it and more than one core), its output kept in a log
 * file, and stopped by its own pid, never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** The CPUs the bench pins to: the load side, and the system under test. */
export interface Cores {
  /** Load generator, mock upstream, collector, Redis. */
  load: string;
  /** The gateway (or the mock alone, for the `direct` row). */
  sut: string;
  /** Every core (the `--workers` row). */
  all: string;
  pinned: boolean;
}

export function coreLayout(): Cores {
  const count = availableParallelism();
  const pinned = count >= 2 && existsSync('/usr/bin/taskset');
  if (!pinned) return { load: '', sut: '', all: '', pinned: false };
  return { load: '0', sut: String(count - 1), all: `0-${count - 1}`, pinned: true };
}

export interface Running {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly log: string;
  /** Resolves with the first stdout line matching the pattern. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after graceMs. Safe twice. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  cpus: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logDir: string;
}

export function startProcess(name: string, command: string, args: string[], options: StartOptions): Running {
  const pinned = options.cpus !== '';
  const file = pinned ? 'taskset' : command;
  const argv = pinned ? ['-c', options.cpus, command, ...args] : args;
  const child = spawn(file, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = join(options.logDir, `${name}.log`);
  const out = createWriteStream(log);
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out.write(chunk);
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const match = line.match(waiters[i]!.pattern);
        if (match) {
          waiters[i]!.resolve(match);
          waiters.splice(i, 1);
        }
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => out.write(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    name,
    pid: child.pid!,
    child,
    log,
    waitForLine(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms (see ${log})`)), timeoutMs);
        child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready (see ${log})`)));
        waiters.push({
          pattern,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    stop(graceMs = 15_000) {
      return (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        }
        out.end();
      })());
    },
  };
}

/** A port that was free a moment ago (bind 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls a URL until it answers (any status below 500), or fails after timeoutMs. */
export async function waitForHttp(url: string, timeoutMs = 120_000, init?: RequestInit): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status < 500) return;
      last = new Error(`status ${response.status}`);
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(last)}`);
}

/** Resident set size now and at its peak (VmHWM), in MB, summed over a process and its descendants. */
export async function memoryOf(pid: number): Promise<{ rssMb: number; peakMb: number }> {
  let rss = 0;
  let peak = 0;
  for (const id of await processTree(pid)) {
    try {
      const status = await readFile(`/proc/${id}/status`, 'utf8');
      rss += kb(status, 'VmRSS');
      peak += kb(status, 'VmHWM');
    } catch {
      // exited meanwhile
    }
  }
  return { rssMb: rss / 1024, peakMb: peak / 1024 };
}

function kb(status: string, field: string): number {
  const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return match ? Number(match[1]) : 0;
}

/** The pid and every descendant (taskset execs in place, so the pid is the program's). */
export async function processTree(pid: number): Promise<number[]> {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const children = await readFile(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8');
      for (const child of children.trim().split(/\s+/)) if (child) out.push(Number(child));
    } catch {
      // gone
    }
  }
  return out;
}

/** CPU time (user + system) in ms used so far by a process and its descendants. */
export async function cpuTimeMs(pid: number): Promise<number> {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let total = 0;
  for (const id of await processTree(pid)) {
    try {
      const stat = await readFile(`/proc/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}
