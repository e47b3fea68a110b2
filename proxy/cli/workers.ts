/**
 * `gatehouse start|proxy --workers N`: N gateway processes (node:cluster) sharing
 * one listening port, so one machine's cores all serve traffic.
 *
 * Limits stay exact across workers because they are counted in ONE place: the
 * Redis limit store (atomic Lua scripts). The memory store is per process, so with
 * policy on it would admit N× every limit; `checkWorkers` refuses that combination
 * at start. (Counting in the primary over IPC was the alternative; Redis is what
 * replicas on several machines need anyway, and it keeps one code path.)
 *
 * The primary runs no gateway: it forks the workers, restarts one that dies,
 * forwards SIGHUP (policy reload), and on SIGTERM/SIGINT stops them all and waits.
 * With `gatehouse start` it also runs the embedded collector, once; every worker
 * ships its own audit spool (a spool directory is one process's) to it.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { CollectorTarget } from '../auditTrail.js';
import type { Config } from '../config/schema.js';
import { log } from '../log.js';

const INDEX_ENV = 'GATEHOUSE_WORKER_INDEX';
const COLLECTOR_ENV = 'GATEHOUSE_WORKER_COLLECTOR_URL';
const COLLECTOR_TOKEN_ENV = 'GATEHOUSE_WORKER_COLLECTOR_TOKEN';
const RESTART_DELAY_MS = 1_000;

interface ListeningMessage {
  type: 'gatehouse.listening';
  url: string;
}

/** `--workers`: absent → 1; `auto` → one per core; else a whole number ≥ 1. Throws a message for anything else. */
export function workerCount(value: string | undefined): number {
  if (value === undefined) return 1;
  if (value === 'auto') return availableParallelism();
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 256) throw new Error(`--workers: expected a whole number from 1 to 256, or 'auto'; got '${value}'`);
  return count;
}

/** Why this config cannot run with `count` workers, or undefined when it can. */
export function checkWorkers(count: number, config: Config): string | undefined {
  if (count <= 1 || !config.policy.enabled || config.limits.store === 'redis') return undefined;
  return `--workers ${count} needs limits.store: redis — the memory limit store counts per process, so ${count} workers would admit ${count}× every limit and budget. Set limits.store: redis (and limits.redisUrl), or run one worker.`;
}

/** True in a process forked by `superviseWorkers`. */
export function isWorker(): boolean {
  return cluster.isWorker && process.env[INDEX_ENV] !== undefined;
}

/**
 * A worker's view of the config: its own spool directory (`<spool>-w<index>`,
 * stable across restarts so a restarted worker ships what it left), and the
 * collector the primary runs, if any.
 */
export function workerConfig(config: Config): { config: Config; collector: CollectorTarget | undefined } {
  const index = process.env[INDEX_ENV] ?? '1';
  const base = config.audit.spoolDir ?? join(config.dataDir, 'spool');
  const url = process.env[COLLECTOR_ENV] || undefined;
  const token = process.env[COLLECTOR_TOKEN_ENV] || undefined;
  delete process.env[COLLECTOR_TOKEN_ENV];
  return {
    config: { ...config, audit: { ...config.audit, spoolDir: `${base}-w${index}` } },
    collector: url === undefined ? undefined : { url, ...(token ? { token } : {}) },
  };
}

/** Worker: tells the primary it is listening. */
export function reportListening(url: string): void {
  const message: ListeningMessage = { type: 'gatehouse.listening', url };
  process.send?.(message);
}

/** Worker: lets the process exit once the gateway stopped (the IPC channel would keep it alive). */
export function leaveCluster(): void {
  if (process.connected) process.disconnect();
}

export interface SuperviseOptions {
  count: number;
  /** The collector every worker ships to (the embedded one under `gatehouse start`), with one ingest key per worker. */
  collector?: { url: string; tokens: string[] };
  /** Called once, when every worker listens, with the URL they share. */
  onReady(url: string): void;
}

/** Primary: runs `count` workers until SIGTERM/SIGINT, then resolves once they all exited. */
export function superviseWorkers(options: SuperviseOptions): Promise<void> {
  const workers = new Map<number, Worker>();
  const listening = new Set<number>();
  let stopping = false;
  let announced = false;
  const fork = (index: number): void => {
    const worker = cluster.fork({
      [INDEX_ENV]: String(index),
      [COLLECTOR_ENV]: options.collector?.url ?? '',
      [COLLECTOR_TOKEN_ENV]: options.collector?.tokens[index - 1] ?? '',
    });
    workers.set(index, worker);
    worker.on('message', (message: unknown) => {
      if (!isListening(message)) return;
      listening.add(index);
      if (!announced && listening.size === options.count) {
        announced = true;
        options.onReady(message.url);
      }
    });
    worker.once('exit', (code, signal) => {
      workers.delete(index);
      listening.delete(index);
      if (stopping) return;
      log.error('gateway worker exited; restarting it', { worker: index, code, signal });
      setTimeout(() => {
        if (!stopping) fork(index);
      }, RESTART_DELAY_MS).unref();
    });
  };
  for (let index = 1; index <= options.count; index++) fork(index);
  const reload = () => {
    for (const worker of workers.values()) worker.process.kill('SIGHUP');
  };
  process.on('SIGHUP', reload);
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping workers', { signal, workers: workers.size });
      process.off('SIGHUP', reload);
      if (workers.size === 0) return resolve();
      let left = workers.size;
      for (const worker of workers.values()) {
        worker.once('exit', () => {
          if (--left === 0) resolve();
        });
        // A terminal's Ctrl-C may already have reached the workers (same process group);
        // a second signal is harmless there: a worker's stop runs once.
        worker.process.kill('SIGTERM');
      }
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

function isListening(message: unknown): message is ListeningMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'gatehouse.listening';
}
