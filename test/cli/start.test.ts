/**
 * `gatehouse start` on a port that is taken: the embedded collector was already
 * running, so the process must stop it and exit 1 with a plain message, not
 * hang with the collector holding the event loop.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'gatehouse.mjs');

describe('gatehouse start', () => {
  let taken: Server;
  let port: number;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-start-'));
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => taken.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exits 1 with a clear message when its port is taken, stopping the embedded collector it started', async () => {
    const child = spawn(process.execPath, [CLI, 'start', '--port', String(port)], {
      env: { ...process.env, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 45_000);
      child.once('exit', (exitCode) => { clearTimeout(timer); resolve(exitCode); });
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`);
    expect(stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});

describe('gatehouse start with an invalid agent registry', () => {
  it('exits 2 and names the file and path of each problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-registry-'));
    try {
      const { writeFile, mkdir } = await import('node:fs/promises');
      await mkdir(join(dir, 'agents'));
      await writeFile(join(dir, 'agents', 'bot.yaml'), 'id: bot\nname: Bot\ntenant: acme\nowner: { team: ops }\npurpose: x\nenvironment: prod\n');
      await writeFile(join(dir, 'gatehouse.yaml'), [
        'providers: { sim: { type: simulated } }',
        'models: { gpt-4o-mini: { targets: [{ provider: sim, model: gpt-4o-mini }] } }',
        `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
        `agents: { dir: ${JSON.stringify(join(dir, 'agents'))} }`,
        'collector: { embedded: false }',
        'server: { port: 0 }',
      ].join('\n'));
      const child = spawn(process.execPath, [CLI, 'proxy', '--config', join(dir, 'gatehouse.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 45_000);
        child.once('exit', (exitCode) => { clearTimeout(timer); resolve(exitCode); });
      });
      expect(code).toBe(2);
      expect(stderr).toMatch(/bot\.yaml: owner\.contact: /);
      expect(stderr).toMatch(/bot\.yaml: environment: .*allowed: production, staging, development/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
