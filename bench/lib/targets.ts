/**
 * The rows of the table: each starts its system on loopback, pinned, and says
 * where to send the load. Every row gets the same body and the same load tool;
 * only the URL and the auth headers differ.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target } from './loadgen.js';
import type { Bodies } from './scenarios.js';
import { GATEBENCH } from './loadgen.js';
import { freePort, startProcess, waitForHttp, type Running } from './processes.js';
import { REPO_DIR } from './gatehouseSetup.js';
import { generateIngestKey, hashKey } from '../../proxy/identity/keyHash.js';
import { ingestKeysPath, writeIngestKeys } from '../../collector/otlp/ingestKeys.js';

export type RowId = 'direct' | 'minimal' | 'gatehouse-full' | 'gatehouse-prompt-agent' | 'gatehouse-bare' | 'gatehouse-redis' | 'gatehouse-workers' | 'portkey' | 'litellm';

export const ROW_LABELS: Record<RowId, string> = {
  direct: 'direct (mock upstream alone)',
  minimal: 'minimal proxy (node:http + undici)',
  'gatehouse-full': 'Gatehouse, full pipeline',
  'gatehouse-prompt-agent': 'Gatehouse, full + registry prompt + registered agent',
  'gatehouse-bare': 'Gatehouse, bare (policy + audit off)',
  'gatehouse-redis': 'Gatehouse, full, Redis limits, 1 process (pinned)',
  'gatehouse-workers': 'Gatehouse, full, --workers 2 (Redis limits)',
  portkey: 'Portkey gateway',
  litellm: 'LiteLLM proxy',
};

export interface Row {
  id: RowId;
  target: Target;
  /** The processes whose memory is this row's (the gateway, not its helpers). */
  process: Running;
  version: string;
  /** Request bodies of its own (the prompt row); default: the common ones. */
  bodies?: Bodies;
}

export interface MockOptions {
  cpus: string;
  logDir: string;
  latencyMs: number;
  chunks: number;
  chunkIntervalMs: number;
  name: string;
}

export async function startMock(options: MockOptions): Promise<{ url: string; process: Running }> {
  const process = startProcess(options.name, GATEBENCH, ['mock', '-latency', `${options.latencyMs}ms`, '-chunks', String(options.chunks), '-chunk-interval', `${options.chunkIntervalMs}ms`], { cpus: options.cpus, logDir: options.logDir });
  const [, port] = await process.waitForLine(/^listening (\d+)/);
  return { url: `http://127.0.0.1:${port}`, process };
}

export function directRow(mock: { url: string; process: Running }): Row {
  return { id: 'direct', target: { url: `${mock.url}/v1/chat/completions`, headers: [] }, process: mock.process, version: 'bench/gatebench mock' };
}

export async function startMinimal(upstream: string, cpus: string, logDir: string): Promise<Row> {
  const port = await freePort();
  const process = startProcess('minimal', 'node', [join(REPO_DIR, 'bench', 'minimalProxy.mjs')], { cpus, logDir, env: { UPSTREAM: upstream, PORT: String(port) } });
  await process.waitForLine(/^listening/);
  const undici = JSON.parse(await readFile(join(REPO_DIR, 'node_modules', 'undici', 'package.json'), 'utf8')) as { version: string };
  return { id: 'minimal', target: { url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: [] }, process, version: `node ${globalThis.process.version}, undici ${undici.version}` };
}

export interface GatehouseStart {
  id: Extract<RowId, 'gatehouse-full' | 'gatehouse-bare' | 'gatehouse-redis' | 'gatehouse-workers'>;
  config: string;
  key: string;
  cpus: string;
  logDir: string;
  workers?: number;
  /** Directory for a V8 CPU profile (node --cpu-prof), when profiling. */
  cpuProfileDir?: string;
}

/**
 * Compiles `dir`'s proxy/ and collector/ into its dist/ when stale, so the bin
 * runs the compiled build (what `npm start` runs), not the tsx fallback. A
 * checkout from before scripts/build.mjs existed runs through tsx, as it did then.
 */
function ensureBuild(dir: string): void {
  const script = join(dir, 'scripts', 'build.mjs');
  if (!existsSync(script)) return;
  const run = spawnSync('node', [script, '--if-stale'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new Error(`${script} --if-stale failed (exit ${run.status ?? run.signal})`);
}

export async function startGatehouse(options: GatehouseStart): Promise<Row> {
  const port = await freePort();
  const nodeArgs = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [];
  // BENCH_GATEHOUSE_DIR runs another checkout's gateway (A/B of an optimization); default: this one.
  const gatehouseDir = globalThis.process.env.BENCH_GATEHOUSE_DIR ?? REPO_DIR;
  ensureBuild(gatehouseDir);
  const args = [...nodeArgs, join(gatehouseDir, 'bin', 'gatehouse.mjs'), 'proxy', '--config', options.config, '--port', String(port)];
  if (options.workers) args.push('--workers', String(options.workers));
  const process = startProcess(options.id, 'node', args, { cpus: options.cpus, logDir: options.logDir, cwd: gatehouseDir, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
  // A gateway that exits (a config error) fails the row at once, with its log, instead of after the wait.
  const exited = new Promise<never>((_, reject) => process.child.once('exit', (code) => reject(new Error(`exited ${code} before it was ready; see ${process.log}`))));
  exited.catch(() => {});
  await Promise.race([waitForHttp(`http://127.0.0.1:${port}/readyz`, 120_000), exited]).catch(async (error: unknown) => {
    await process.stop();
    throw error;
  });
  const version = JSON.parse(await readFile(join(REPO_DIR, 'package.json'), 'utf8')) as { version: string };
  return {
    id: options.id,
    target: { url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: [`Authorization: Bearer ${options.key}`] },
    process,
    version: `gatehouse ${version.version}${options.workers ? `, ${options.workers} workers` : ''}`,
  };
}

/**
 * The same full-pipeline gateway, called as the registered agent (its bound key)
 * with a registry prompt: agent admission and its limits and budgets, the prompt
 * rendered before the policy, recorded on the span. Same process, so its memory
 * and CPU are the full row's.
 */
export function promptAgentRow(full: Row, agentKey: string, bodies: Bodies): Row {
  return { ...full, id: 'gatehouse-prompt-agent', target: { url: full.target.url, headers: [`Authorization: Bearer ${agentKey}`] }, bodies };
}

/** A `gatehouse collector` that accepts one ingest key (returned as `token`), as a proxy replica would be set up. */
export async function startCollector(cpus: string, logDir: string, dataDir: string): Promise<{ url: string; token: string; process: Running }> {
  ensureBuild(REPO_DIR);
  const port = await freePort();
  const token = generateIngestKey();
  await mkdir(dataDir, { recursive: true });
  await writeIngestKeys(ingestKeysPath(dataDir), [{ id: 'bench-proxy', hash: hashKey(token) }]);
  const process = startProcess('collector', 'node', [join(REPO_DIR, 'bin', 'gatehouse.mjs'), 'collector', '--port', String(port), '--data-dir', dataDir], { cpus, logDir, cwd: REPO_DIR, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
  await process.waitForLine(/collector listening/, 120_000);
  return { url: `http://127.0.0.1:${port}`, token, process };
}

export async function startRedis(cpus: string, logDir: string): Promise<{ url: string; process: Running } | undefined> {
  const port = await freePort();
  const process = startProcess('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { cpus, logDir });
  try {
    await process.waitForLine(/Ready to accept connections/, 20_000);
  } catch {
    await process.stop();
    return undefined;
  }
  return { url: `redis://127.0.0.1:${port}`, process };
}
