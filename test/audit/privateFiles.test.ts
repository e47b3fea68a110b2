/**
 * Data files are private to the service user, whatever created them: a
 * `gatehouse start` on a data directory that is 0755 with a 0644 file in it
 * leaves the directory 0700 and every file under it (DuckDB file and WAL, spool
 * segments and cursor, budget snapshot, keys, collector admin file) 0600.
 */
import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, stopAllProcesses, tempDir, virtualKey, writeConfigFile } from '../support/processes.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  await stopAllProcesses();
  for (const cleanup of cleanups) await cleanup();
});

async function modes(dir: string): Promise<Array<[string, number]>> {
  const out: Array<[string, number]> = [[dir, (await stat(dir)).mode & 0o777]];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    out.push([path, (await stat(path)).mode & 0o777]);
  }
  return out;
}

describe('private data files', () => {
  it('the data directory is 0700 and every file in it 0600 after serving requests with content capture on', async () => {
    const data = await tempDir();
    cleanups.push(data.remove);
    await chmod(data.dir, 0o755);
    await writeFile(join(data.dir, 'left-over.json'), '{}', { mode: 0o644 });
    await chmod(join(data.dir, 'left-over.json'), 0o644);
    const key = virtualKey({ id: 'k', tenant: 'acme' });
    const config = await writeConfigFile(data.dir, {
      dataDir: data.dir,
      providers: { sim: { type: 'simulated' } },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
      keys: [key.entry],
      collector: { port: 0, checkpointEvery: 1 },
      telemetry: { captureContent: true },
    });
    await chmod(config, 0o644);
    const gateway = await startGatewayProcess(config);
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'my account number is 12345' }] }),
      });
      expect(response.status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 500));
    const running = await modes(data.dir);
    expect(await gateway.process.stop()).toBe(0);
    const stopped = await modes(data.dir);
    for (const [path, mode] of [...running, ...stopped]) {
      if (path === config) continue; // the operator's own config file
      const isDir = (await stat(path).catch(() => undefined))?.isDirectory();
      if (isDir === undefined) continue; // removed meanwhile (a shipped segment)
      expect([path, mode.toString(8)]).toEqual([path, isDir ? '700' : '600']);
    }
    expect(stopped.some(([p]) => p.endsWith('audit.duckdb'))).toBe(true);
    expect(running.some(([p]) => p.includes('spool'))).toBe(true);
  }, 60_000);
});
