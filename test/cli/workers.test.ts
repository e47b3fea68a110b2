/**
 * `gatehouse proxy --workers 2`: a limit of N holds across the workers (they count
 * in Redis), both workers serve, and the memory store is refused with workers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKey, hashKey } from '../../proxy/identity/keyHash.js';
import { describeWithRedis, startRedis, type RunningRedis } from '../support/redis.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO, 'bin', 'gatehouse.mjs');
const LIMIT = 12;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One chat request on a new connection (so the cluster spreads them over workers). */
function chat(port: number, key: string): Promise<number> {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent: false, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

async function waitReady(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gatehouse exited ${child.exitCode}: ${output()}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready: ${output()}`);
}

describeWithRedis('gatehouse --workers', () => {
  let redis: RunningRedis;
  let dir: string;
  let key: string;
  const base = (store: 'memory' | 'redis') => ({
    dataDir: join(dir, `data-${store}`),
    providers: { sim: { type: 'simulated', latencyMs: 0, outputTokens: 4 } },
    models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
    keys: [{ id: 'w', hash: hashKey(key), tenant: 'workers-test', user: 'u1' }],
    policy: { dir: join(dir, 'policies'), watch: false },
    limits: store === 'redis' ? { store, redisUrl: redis.url, keyPrefix: `workers-${Date.now()}:` } : { store },
    audit: { mode: 'best-effort' as const },
  });

  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-workers-'));
    key = generateKey();
    await cp(join(REPO, 'policies'), join(dir, 'policies'), { recursive: true });
    // A tenant with a tenant-wide limit of LIMIT requests/min, merged into data.data.tenants.
    await writeFile(join(dir, 'policies', 'data', 'workers_test.json'), JSON.stringify({ tenants: { 'workers-test': { limits: { tenant: { requestsPerMinute: LIMIT } } } } }));
    await writeFile(join(dir, 'redis.yaml'), stringify(base('redis')));
    await writeFile(join(dir, 'memory.yaml'), stringify(base('memory')));
  });
  afterAll(async () => {
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds a limit of N exactly across two workers, and both workers serve', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'proxy', '--workers', '2', '--config', join(dir, 'redis.yaml'), '--port', String(port)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      await waitReady(port, child, () => output);
      await expect.poll(() => output, { timeout: 30_000 }).toContain('with 2 workers');
      const statuses: number[] = [];
      // In waves, so both workers take part, and the total is 2×LIMIT.
      for (let wave = 0; wave < 4; wave++) statuses.push(...(await Promise.all(Array.from({ length: LIMIT / 2 }, () => chat(port, key)))));
      expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
      expect(statuses.filter((s) => s === 429)).toHaveLength(LIMIT);
      // Each worker has its own spool directory, and both wrote audit records.
      const spools = (await readdir(join(dir, 'data-redis'))).filter((d) => /^spool-w\d$/.test(d)).sort();
      expect(spools).toEqual(['spool-w1', 'spool-w2']);
      for (const spool of spools) {
        const files = await readdir(join(dir, 'data-redis', spool));
        const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, 'data-redis', spool, f))).size));
        expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      }
    } finally {
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (c) => resolve(c))));
      expect(code).toBe(0);
    }
  }, 90_000);

  it('refuses the memory limit store with more than one worker', async () => {
    const child = spawn(process.execPath, [CLI, 'proxy', '--workers', '2', '--config', join(dir, 'memory.yaml'), '--port', '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('limits.store: redis');
  }, 60_000);
});
