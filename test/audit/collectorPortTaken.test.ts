/**
 * The embedded collector's port is taken: it listens on a free port instead,
 * and the audit trail it writes there must survive the stop. (It did not: the
 * first attempt's DuckDB instance stayed open on the file and wrote its empty
 * state back over the records at exit.)
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGatehouse, startGatewayProcess, stopAllProcesses, tempDir, virtualKey, writeConfigFile } from '../support/processes.js';

describe('embedded collector on a taken port', () => {
  let taken: Server;
  let work: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    work = await tempDir();
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await stopAllProcesses();
    await new Promise((resolve) => taken.close(resolve));
    await work.remove();
  });

  it('falls back to a free port and keeps every record across the stop', async () => {
    const key = virtualKey({ id: 'k', tenant: 'acme', user: 'alice' });
    const config = await writeConfigFile(work.dir, {
      dataDir: `${work.dir}/data`,
      providers: { sim: { type: 'simulated', latencyMs: 0 } },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
      keys: [key.entry],
      policy: { enabled: false },
      collector: { port: (taken.address() as { port: number }).port },
      console: { port: 0 },
    });
    const gateway = await startGatewayProcess(config);
    expect(gateway.process.stdout + gateway.process.stderr).toContain('collector port in use');
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello ${i}` }] }),
      });
      expect(response.status).toBe(200);
    }
    // Shipped and recorded while running (the admin endpoint answers for the running collector).
    for (const deadline = Date.now() + 15_000; ;) {
      const running = await runGatehouse(['audit', 'verify', '--data-dir', `${work.dir}/data`]);
      if (/\b3 records\b/.test(running.stdout)) break;
      if (Date.now() > deadline) throw new Error(`records never arrived: ${running.stdout}${running.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await gateway.process.stop()).toBe(0);
    const after = await runGatehouse(['audit', 'verify', '--data-dir', `${work.dir}/data`]);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^OK .*\b3 records .*\b0 records after the last checkpoint/);
  }, 90_000);
});
