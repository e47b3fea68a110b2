/**
 * Issue 4, "Done means": `kill -9` under load loses no record of a request
 * whose client got a complete response. The proxy and the collector run as
 * separate processes (`gatehouse proxy`, `gatehouse collector`); either one is
 * SIGKILLed mid-load and restarted on the same data directory. Afterwards every
 * acknowledged request id has exactly one record, and the chain verifies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  collectorHead, eventually, PROXY_INGEST, freePort, runGatehouse, startCollectorProcess, startProxyProcess, stopAllProcesses,
  tempDir, virtualKey, writeConfigFile,
} from '../support/processes.js';
import { requestRecords } from './auditFile.js';
import { startLoad, type Load } from './load.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await stopAllProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Waits until the collector's head has not moved for `quietMs` and is at least `atLeast`; returns it. */
async function settledHead(url: string, atLeast: number, timeoutMs: number, quietMs = 1_500): Promise<number> {
  let last = -1;
  let since = Date.now();
  return eventually(async () => {
    const seq = (await collectorHead(url))?.lastSeq ?? -1;
    if (seq !== last) {
      last = seq;
      since = Date.now();
      return undefined;
    }
    return seq >= atLeast && Date.now() - since >= quietMs ? seq : undefined;
  }, timeoutMs, `collector head to reach ${atLeast} and settle`);
}

/** Two temp dirs, a free collector port and a proxy config shipping there. */
async function setUp(): Promise<{ proxyDir: string; collectorDir: string; port: number; configFile: string; secret: string }> {
  const proxyDir = await tempDir();
  const collectorDir = await tempDir();
  cleanups.push(proxyDir.remove, collectorDir.remove);
  const port = await freePort();
  const key = virtualKey({ id: 'load', tenant: 'acme', team: 'wealth', user: 'loader', agent: 'load-bot' });
  const configFile = await writeConfigFile(proxyDir.dir, {
    dataDir: proxyDir.dir,
    providers: { sim: { type: 'simulated', latencyMs: 0, tokensPerSecond: 0, outputTokens: 8 } },
    models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
    keys: [key.entry],
    policy: { enabled: false },
    audit: { collectorUrl: `http://127.0.0.1:${port}`, collectorToken: PROXY_INGEST.token },
  });
  return { proxyDir: proxyDir.dir, collectorDir: collectorDir.dir, port, configFile, secret: key.secret };
}

function acknowledgedAtLeast(load: Load, n: number): Promise<true> {
  return eventually(async () => load.acknowledged.length >= n, 30_000, `${n} acknowledged requests`, 5);
}

/** Stops the collector, then checks the DuckDB file: every acknowledged id once, no duplicate spans, chain OK. */
async function expectEveryAcknowledgedRecorded(collectorDir: string, acknowledged: string[]): Promise<number> {
  const records = await requestRecords(collectorDir);
  const missing = acknowledged.filter((id) => !records.requestIds.has(id));
  expect(missing, `${missing.length} of ${acknowledged.length} acknowledged requests have no record`).toEqual([]);
  expect(records.distinctSpanIds).toBe(records.rows);
  expect(records.requestIds.size).toBe(records.rows);
  const verify = await runGatehouse(['audit', 'verify', '--data-dir', collectorDir]);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  expect(verify.stdout).toMatch(new RegExp(`^OK .*\\b${records.rows} records\\b`));
  return records.rows;
}

describe('kill -9 under load', () => {
  it('of the proxy: the restarted proxy ships every acknowledged record from its spool', async () => {
    const s = await setUp();
    const collector = await startCollectorProcess(s.collectorDir, s.port);
    const first = await startProxyProcess(s.configFile);
    const load = startLoad({ url: first.url, key: s.secret, concurrency: 24, streamEvery: 4 });
    await acknowledgedAtLeast(load, 1_500);
    await first.process.kill('SIGKILL');
    await load.stop();
    const acknowledged = [...load.acknowledged];
    const shippedBeforeRestart = (await collectorHead(collector.url))?.lastSeq ?? 0;

    const restartedAt = Date.now();
    const second = await startProxyProcess(s.configFile);
    await settledHead(collector.url, acknowledged.length, 30_000);
    const shippedMs = Date.now() - restartedAt;

    // The last acknowledged request is the one most likely to have been only in the spool.
    const lastId = acknowledged.at(-1)!;
    const shown = await runGatehouse(['audit', 'show', lastId, '--data-dir', s.collectorDir]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^request_id\\s+${lastId}$`, 'm'));

    await second.process.stop();
    expect(await collector.process.stop()).toBe(0);
    const rows = await expectEveryAcknowledgedRecorded(s.collectorDir, acknowledged);
    console.info(`proxy kill -9: ${acknowledged.length} acknowledged, ${load.failed} failed at the kill, ` +
      `${shippedBeforeRestart} shipped before the restart, ${rows} records; restart + shipping took ${shippedMs} ms`);
  }, 90_000);

  it('of the collector: the proxy keeps serving from its spool, and the restarted collector gets every record once', async () => {
    const s = await setUp();
    const first = await startCollectorProcess(s.collectorDir, s.port);
    const proxy = await startProxyProcess(s.configFile);
    const load = startLoad({ url: proxy.url, key: s.secret, concurrency: 24, streamEvery: 4 });
    await acknowledgedAtLeast(load, 1_500);
    await first.process.kill('SIGKILL');
    const atKill = load.acknowledged.length;
    const recordedBeforeKill = await eventually(async () => (await collectorHead(first.url)) === undefined, 5_000, 'the collector to be gone');
    expect(recordedBeforeKill).toBe(true);
    await acknowledgedAtLeast(load, atKill + 1_000); // served while the collector is down
    await load.stop();
    expect(load.failed).toBe(0);
    const acknowledged = [...load.acknowledged];

    const restartedAt = Date.now();
    const second = await startCollectorProcess(s.collectorDir, s.port);
    await settledHead(second.url, acknowledged.length, 40_000);
    const shippedMs = Date.now() - restartedAt;
    await proxy.process.stop();
    expect(await second.process.stop()).toBe(0);
    const rows = await expectEveryAcknowledgedRecorded(s.collectorDir, acknowledged);
    expect(rows).toBe(acknowledged.length); // nothing was in flight when the load stopped
    console.info(`collector kill -9: ${atKill} acknowledged before the kill, ${acknowledged.length} in all, ${rows} records; ` +
      `restart + shipping took ${shippedMs} ms`);
  }, 90_000);
});
