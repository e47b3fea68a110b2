/**
 * A real redis-server for tests: started on a free loopback port in a temp dir,
 * without persistence, and stopped (and its dir removed) by stop().
 *
 * When redis-server is not installed: under CI (process.env.CI set) that is an
 * error, because CI must run these suites (.ci/run installs it from Debian's
 * packages); locally, `describeWithRedis` skips the suite with a loud warning.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describeRequiring } from './requiredTool.js';

export interface RunningRedis {
  url: string;
  port: number;
  /** Stops the server and removes its dir; safe to call twice. */
  stop(): Promise<void>;
}

/** The redis-server executable on PATH, or undefined. */
export function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const MISSING = 'redis-server is not installed (apt-get install -y redis-server)';

/**
 * `describe` for a suite that needs redis-server. Missing binary: throws under CI,
 * otherwise skips the suite and says so on the console.
 */
export function describeWithRedis(name: string, suite: () => void): void {
  describeRequiring(name, findRedisServer() === undefined ? MISSING : undefined, suite);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function waitUntilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null): void => fail(new Error(`redis-server exited with ${code}:\n${output}`));
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    }
    function fail(error: Error): void {
      cleanup();
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Starts redis-server on `options.port` (e.g. to restart on the same port) or a free one. */
export async function startRedis(options: { port?: number } = {}): Promise<RunningRedis> {
  const binary = findRedisServer();
  if (binary === undefined) throw new Error(MISSING);
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-redis-'));
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await waitUntilReady(child);
    } catch (error) {
      child.kill('SIGKILL');
      if (attempt < 3 && options.port === undefined) continue; // the free port was taken meanwhile
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    child.stdout?.resume();
    child.stderr?.resume();
    let stopped: Promise<void> | undefined;
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      stop: () =>
        (stopped ??= (async () => {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
            child.kill('SIGTERM');
            await exited;
          }
          await rm(dir, { recursive: true, force: true });
        })()),
    };
  }
}
