/**
 * The peers, installed next to the bench and never into the project's
 * dependencies: Portkey's gateway from npm into bench/.peers, LiteLLM's proxy from
 * PyPI into the virtualenv bench/.venv. Each runs with one worker and its
 * documented production settings, pointed at the same mock upstream.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { BENCH_DIR } from './loadgen.js';
import { freePort, startProcess, waitForHttp } from './processes.js';
import type { Row } from './targets.js';

const run = promisify(execFile);
const PEERS_DIR = join(BENCH_DIR, '.peers');
const PORTKEY_DIR = join(PEERS_DIR, 'node_modules', '@portkey-ai', 'gateway');
const VENV = join(BENCH_DIR, '.venv');
const UPSTREAM_KEY = 'sk-bench-upstream';
const LITELLM_MASTER_KEY = 'sk-bench-master';

/** A peer that could not be installed or started: the row says why. */
export interface Unavailable {
  reason: string;
}

/**
 * The package as npm serves it, with its own dependency ranges. Streaming through its
 * Node server fails with `TypeError: immutable` in updateHeaders (Portkey-AI/gateway
 * issues #1389 and #1550; pinning @hono/node-server to 1.14.2 did not help), so the
 * peer runs with bench/portkeyFetchShim.mjs, which applies its own proposed fix
 * (PR #1551: a copy of a streamed response with mutable headers) from outside.
 */
export async function ensurePortkey(say: (line: string) => void): Promise<string | Unavailable> {
  if (!existsSync(join(PORTKEY_DIR, 'package.json'))) {
    say('installing @portkey-ai/gateway into bench/.peers (npm)');
    try {
      await mkdir(PEERS_DIR, { recursive: true });
      await run('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund', '@portkey-ai/gateway'], { maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      return { reason: `npm install @portkey-ai/gateway failed: ${firstLine(error)}` };
    }
  }
  const pkg = JSON.parse(await readFile(join(PORTKEY_DIR, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export async function ensureLitellm(say: (line: string) => void): Promise<string | Unavailable> {
  const python = join(VENV, 'bin', 'python');
  if (!existsSync(join(VENV, 'bin', 'litellm'))) {
    say("installing litellm[proxy] into bench/.venv (pip); this takes a few minutes the first time");
    try {
      if (!existsSync(python)) await run('python3', ['-m', 'venv', VENV]);
      await run(join(VENV, 'bin', 'pip'), ['install', '--quiet', 'litellm[proxy]'], { maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000 });
    } catch (error) {
      return { reason: `pip install litellm[proxy] failed: ${firstLine(error)}` };
    }
  }
  try {
    const { stdout } = await run(python, ['-c', "import importlib.metadata as m; print(m.version('litellm'))"]);
    return stdout.trim();
  } catch (error) {
    return { reason: `litellm is installed but does not import: ${firstLine(error)}` };
  }
}

/** `node build/start-server.js --headless`: the npm package's own server, without its console UI. */
export async function startPortkey(version: string, mockUrl: string, cpus: string, logDir: string): Promise<Row> {
  const port = await freePort();
  // The shim gives streamed upstream responses mutable headers (bench/portkeyFetchShim.mjs), so the streaming row streams.
  const shim = join(BENCH_DIR, 'portkeyFetchShim.mjs');
  const process = startProcess('portkey', 'node', ['--import', shim, join(PORTKEY_DIR, 'build', 'start-server.js'), `--port=${port}`, '--headless'], { cpus, logDir, cwd: PORTKEY_DIR, env: { NODE_ENV: 'production' } });
  await waitForHttp(`http://127.0.0.1:${port}/`, 60_000);
  return {
    id: 'portkey',
    target: {
      url: `http://127.0.0.1:${port}/v1/chat/completions`,
      headers: ['x-portkey-provider: openai', `x-portkey-custom-host: ${mockUrl}/v1`, `Authorization: Bearer ${UPSTREAM_KEY}`],
    },
    process,
    version: `@portkey-ai/gateway ${version}`,
  };
}

/**
 * `litellm --config … --num_workers 1` with the production-guide settings that
 * apply without a database: a master key, verbose logging off, JSON logs at ERROR.
 */
export async function startLitellm(version: string, mockUrl: string, cpus: string, logDir: string, workDir: string): Promise<Row> {
  const port = await freePort();
  const config = join(workDir, 'litellm.yaml');
  await writeFile(
    config,
    stringify({
      model_list: [{ model_name: 'gpt-4o-mini', litellm_params: { model: 'openai/gpt-4o-mini', api_base: `${mockUrl}/v1`, api_key: UPSTREAM_KEY } }],
      general_settings: { master_key: LITELLM_MASTER_KEY },
      litellm_settings: { set_verbose: false, json_logs: true, request_timeout: 600 },
    }),
  );
  const process = startProcess('litellm', join(VENV, 'bin', 'litellm'), ['--config', config, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1'], {
    cpus,
    logDir,
    env: { LITELLM_LOG: 'ERROR', LITELLM_MODE: 'PRODUCTION', PYTHONUNBUFFERED: '1' },
  });
  await waitForHttp(`http://127.0.0.1:${port}/health/liveliness`, 180_000);
  return {
    id: 'litellm',
    target: { url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: [`Authorization: Bearer ${LITELLM_MASTER_KEY}`] },
    process,
    version: `litellm ${version}`,
  };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? ((error as { stderr?: string }).stderr || error.message) : String(error);
  return text.trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 200) ?? 'unknown error';
}
