/**
 * Real `gatehouse` processes for end-to-end tests: `node bin/gatehouse.mjs ...`
 * children with their own data directory and config file, readiness read from
 * what they print, and cleanup that never leaves a child behind.
 *
 * Every child started here is registered; `stopAllProcesses()` (call it in
 * `afterEach`) SIGKILLs whatever is still running. A child's environment has no
 * provider keys, OTLP endpoint or GATEHOUSE_CONFIG from the test runner's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../proxy/config/schema.js';
import { hashKey } from '../../proxy/identity/keyHash.js';
import { ingestKeysPath, readIngestKeys, writeIngestKeys } from '../../collector/otlp/ingestKeys.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO_ROOT, 'bin', 'gatehouse.mjs');
/** Output kept per child, at most (older output is dropped). */
const MAX_OUTPUT = 1 << 20;
const DROPPED_FROM_ENV = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GATEHOUSE_CONFIG', 'GATEHOUSE_DATA_DIR', 'PORT', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];

export interface ProcessOptions {
  /** Added to the child's environment. */
  env?: Record<string, string>;
  /** Default: the repository root (where `policies/` lives). */
  cwd?: string;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of DROPPED_FROM_ENV) delete env[name];
  return { ...env, ...extra };
}

/** A running `gatehouse` child. */
export class GatehouseProcess {
  readonly child: ChildProcess;
  /** Resolves when the child has exited, with its code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stdoutText = '';
  private stderrText = '';
  private readonly listeners = new Set<() => void>();

  constructor(readonly args: string[], options: ProcessOptions = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => { this.notify(); resolve({ code, signal }); }));
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { this.stdoutText = keep(this.stdoutText + chunk); this.notify(); });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { this.stderrText = keep(this.stderrText + chunk); this.notify(); });
    RUNNING.add(this);
    void this.exited.then(() => RUNNING.delete(this));
  }

  get pid(): number { return this.child.pid ?? -1; }
  get stdout(): string { return this.stdoutText; }
  get stderr(): string { return this.stderrText; }
  get running(): boolean { return this.child.exitCode === null && this.child.signalCode === null; }

  /** Resolves with the first match of `pattern` in stdout; fails if the child exits first or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const match = this.stdoutText.match(pattern);
        if (match) return done(() => resolve(match));
        if (!this.running) done(() => reject(new Error(`gatehouse ${this.args.join(' ')} exited before printing ${String(pattern)}\n${this.describe()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)} from gatehouse ${this.args.join(' ')}\n${this.describe()}`))), timeoutMs);
      const done = (settle: () => void): void => { clearTimeout(timer); this.listeners.delete(check); settle(); };
      this.listeners.add(check);
      check();
    });
  }

  /** Sends `signal` (SIGKILL is `kill -9`) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if the child has not exited after `graceMs`. Resolves with the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => { if (this.running) this.child.kill('SIGKILL'); }, graceMs);
    const { code } = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** The last lines of output, for failure messages. */
  describe(): string {
    return `--- stdout ---\n${this.stdoutText.slice(-4000)}\n--- stderr ---\n${this.stderrText.slice(-4000)}`;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function keep(text: string): string {
  return text.length > MAX_OUTPUT ? text.slice(-MAX_OUTPUT) : text;
}

const RUNNING = new Set<GatehouseProcess>();

/** SIGKILLs every child still running; for afterEach. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...RUNNING].map((p) => p.kill('SIGKILL')));
}

export interface CommandResult { code: number | null; stdout: string; stderr: string; ms: number }

/** Runs a one-shot command (`audit verify`, `report costs`, ...) to completion. */
export async function runGatehouse(args: string[], options: ProcessOptions & { timeoutMs?: number } = {}): Promise<CommandResult> {
  const started = Date.now();
  const proc = new GatehouseProcess(args, options);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const { code } = await proc.exited;
  clearTimeout(timer);
  return { code, stdout: proc.stdout, stderr: proc.stderr, ms: Date.now() - started };
}

/** A gateway child (`start` or `proxy`) once it printed its URL. */
export interface RunningGateway { process: GatehouseProcess; url: string; demoKey: string | undefined }

const LISTENING = /Gatehouse is listening on (http:\/\/\S+)/;

async function gatewayReady(proc: GatehouseProcess): Promise<RunningGateway> {
  const [, url] = await proc.waitForOutput(LISTENING);
  const key = proc.stdout.match(/demo key:\s+(\S+)/)?.[1];
  return { process: proc, url: url!, demoKey: key };
}

/** `gatehouse proxy --config FILE --port 0`. */
export function startProxyProcess(configFile: string, options: ProcessOptions = {}): Promise<RunningGateway> {
  return gatewayReady(new GatehouseProcess(['proxy', '--config', configFile, '--port', '0'], options));
}

/** `gatehouse start [--config FILE] --port 0`: with no config file, the embedded default in `GATEHOUSE_DATA_DIR`. */
export function startGatewayProcess(configFile: string | undefined, options: ProcessOptions = {}): Promise<RunningGateway> {
  return gatewayReady(new GatehouseProcess(['start', ...(configFile ? ['--config', configFile] : []), '--port', '0'], options));
}

/** A `gatehouse collector` child once it listens. */
export interface RunningCollectorProcess { process: GatehouseProcess; url: string; tracesUrl: string }

/** The ingest key of the proxy processes tests start (instance `test-proxy`): `audit.collectorToken`. */
export const PROXY_INGEST = { id: 'test-proxy', token: `ghi_proxy_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}` };

/** Adds PROXY_INGEST to the collector data dir's ingest-keys.json (once). */
export async function allowProxyIngest(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const file = ingestKeysPath(dataDir);
  const keys = await readIngestKeys(file);
  if (!keys.some((k) => k.id === PROXY_INGEST.id)) await writeIngestKeys(file, [...keys, { id: PROXY_INGEST.id, hash: hashKey(PROXY_INGEST.token) }]);
}

/** `gatehouse collector --data-dir DIR --port PORT` (port 0 picks a free one), accepting PROXY_INGEST. */
export async function startCollectorProcess(dataDir: string, port: number, extraArgs: string[] = [], options: ProcessOptions = {}): Promise<RunningCollectorProcess> {
  await allowProxyIngest(dataDir);
  const proc = new GatehouseProcess(['collector', '--data-dir', dataDir, '--port', String(port), ...extraArgs], options);
  const [, tracesUrl] = await proc.waitForOutput(/collector listening on (http:\/\/\S+)/);
  return { process: proc, tracesUrl: tracesUrl!, url: tracesUrl!.replace(/\/v1\/traces$/, '') };
}

/** The collector's chain head from its `/healthz`; undefined while it does not answer. */
export async function collectorHead(url: string): Promise<{ chainId: string; lastSeq: number } | undefined> {
  try {
    const response = await fetch(`${url}/healthz`);
    const body = (await response.json()) as { chain_id: string; last_seq: number };
    return { chainId: body.chain_id, lastSeq: Number(body.last_seq) };
  } catch {
    return undefined;
  }
}

/** A free TCP port on 127.0.0.1 (nothing listens on it when this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A temporary directory and its removal. */
export async function tempDir(prefix = 'gatehouse-e2e-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A virtual key for a config file: the secret for the client, the entry (hash only) for `keys:`. */
export function virtualKey(entry: Omit<NonNullable<ConfigInput['keys']>[number], 'hash'>): { secret: string; entry: NonNullable<ConfigInput['keys']>[number] } {
  const secret = `gh-e2e-${entry.id}-${Math.random().toString(36).slice(2)}`;
  return { secret, entry: { ...entry, hash: hashKey(secret) } };
}

/** Writes `config` as YAML to `<dir>/gatehouse.yaml` and returns the path. */
export async function writeConfigFile(dir: string, config: ConfigInput): Promise<string> {
  const file = join(dir, 'gatehouse.yaml');
  await writeFile(file, stringify(config));
  return file;
}

/** Polls `check` every `intervalMs` until it returns something other than undefined/false. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Parses a table printed by the CLI (header, a line of dashes per column, rows), by the columns the dashes span. */
export function parseTable(text: string): Array<Record<string, string>> {
  const lines = text.split('\n');
  const dashes = lines.findIndex((line) => /^-+( +-+)* *$/.test(line));
  if (dashes < 1) return [];
  const spans = [...lines[dashes]!.matchAll(/-+/g)].map((m) => [m.index, m.index + m[0].length] as const);
  const cut = (line: string, [from, to]: readonly [number, number], last: boolean): string => line.slice(from, last ? undefined : to).trim();
  const headers = spans.map((span, i) => cut(lines[dashes - 1]!, span, i === spans.length - 1));
  const rows: Array<Record<string, string>> = [];
  for (const line of lines.slice(dashes + 1)) {
    if (line.trim() === '') break;
    rows.push(Object.fromEntries(headers.map((h, i) => [h, cut(line, spans[i]!, i === spans.length - 1)])));
  }
  return rows;
}
