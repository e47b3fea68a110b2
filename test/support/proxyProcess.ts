/**
 * Runs `node bin/gatehouse.mjs proxy --config FILE --port P` as a child process,
 * the way an operator runs a replica: on a free loopback port, ready once /readyz
 * answers 200. `stop()` sends SIGTERM (SIGKILL after 5 s), removes the config
 * file, and is safe to call twice.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../proxy/config/schema.js';
import { REPO_ROOT } from './policyFixture.js';

export interface ProxyProcess {
  readonly url: string;
  readonly pid: number;
  /** What the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
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

/** Starts one proxy process with `config` (written to a temp YAML file); waits up to `readyTimeoutMs` for /readyz. */
export async function startProxyProcess(config: ConfigInput, options: { readyTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ProxyProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-proxy-'));
  const file = join(dir, 'gatehouse.yaml');
  await writeFile(file, stringify({ dataDir: join(dir, 'data'), ...config }));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await launch(file, port, dir, options);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('EADDRINUSE')) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

async function launch(file: string, port: number, dir: string, options: { readyTimeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<ProxyProcess> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_LOG_LEVEL: 'warn', ...options.env };
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'gatehouse.mjs'), 'proxy', '--config', file, '--port', String(port)], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })());
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`gatehouse proxy exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`);
    }
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`gatehouse proxy was not ready within ${options.readyTimeoutMs ?? 20_000} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, pid: child.pid!, output: () => output, stop };
}
