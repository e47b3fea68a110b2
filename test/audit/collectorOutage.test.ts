/**
 * Issue 4, "Done means": the collector is down while the proxy serves 5,000
 * requests; once it comes back, exactly 5,000 audit records exist, without
 * duplicates, and the chain verifies. Real processes, a real DuckDB file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  collectorHead, eventually, PROXY_INGEST, freePort, parseTable, runGatehouse, startCollectorProcess, startProxyProcess,
  stopAllProcesses, tempDir, virtualKey, writeConfigFile,
} from '../support/processes.js';
import { requestRecords } from './auditFile.js';
import { startLoad } from './load.js';

const REQUESTS = 5_000;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await stopAllProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('collector outage', () => {
  it('the spool keeps every record while the collector is down; exactly one record per request arrives after it returns', async () => {
    const proxyDir = await tempDir();
    const collectorDir = await tempDir();
    cleanups.push(proxyDir.remove, collectorDir.remove);
    const port = await freePort(); // nothing listens here until the collector starts
    const key = virtualKey({ id: 'load', tenant: 'acme', team: 'wealth', user: 'loader', agent: 'load-bot' });
    const configFile = await writeConfigFile(proxyDir.dir, {
      dataDir: proxyDir.dir,
      providers: { sim: { type: 'simulated', latencyMs: 0, tokensPerSecond: 0, outputTokens: 8 } },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
      keys: [key.entry],
      policy: { enabled: false },
      audit: { collectorUrl: `http://127.0.0.1:${port}`, collectorToken: PROXY_INGEST.token },
    });
    const proxy = await startProxyProcess(configFile);

    const timings: Record<string, number> = {};
    let t = Date.now();
    const load = startLoad({ url: proxy.url, key: key.secret, concurrency: 32, total: REQUESTS, streamEvery: 10 });
    await load.done;
    timings.serve = Date.now() - t;
    expect(load.failed, `statuses ${JSON.stringify([...load.statuses])}`).toBe(0);
    expect(load.acknowledged).toHaveLength(REQUESTS);

    t = Date.now();
    const collector = await startCollectorProcess(collectorDir.dir, port);
    const head = await eventually(async () => {
      const h = await collectorHead(collector.url);
      return h !== undefined && h.lastSeq >= REQUESTS ? h : undefined;
    }, 40_000, `${REQUESTS} records at the collector`);
    timings.drain = Date.now() - t;
    expect(head.lastSeq).toBe(REQUESTS);

    // Reports run as separate processes, through the running collector's admin endpoint.
    const costs = await runGatehouse(['report', 'costs', '--by', 'user', '--data-dir', collectorDir.dir]);
    expect(costs.code, costs.stderr).toBe(0);
    const total = parseTable(costs.stdout).find((row) => row.user === 'TOTAL');
    expect(Number(total?.requests)).toBe(REQUESTS);

    await proxy.process.stop();
    expect(await collector.process.stop()).toBe(0);

    const records = await requestRecords(collectorDir.dir);
    expect(records.rows).toBe(REQUESTS);
    expect(records.distinctSpanIds).toBe(REQUESTS);
    expect(records.requestIds).toEqual(new Set(load.acknowledged));

    const verify = await runGatehouse(['audit', 'verify', '--data-dir', collectorDir.dir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(new RegExp(`^OK .*\\b${REQUESTS} records\\b`));
    console.info(`collector outage: served ${REQUESTS} in ${timings.serve} ms, drained in ${timings.drain} ms`);
  }, 90_000);
});
