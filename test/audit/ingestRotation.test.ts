/**
 * Rotating a replica's ingest key loses nothing: records spooled while the
 * collector refuses the old key wait in the spool (the shipper never gives a
 * record up), and ship once the replica runs with the new key. Each record
 * names the key that delivered it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIngestKey, hashKey } from '../../proxy/identity/keyHash.js';
import { ingestKeysPath, writeIngestKeys } from '../../collector/otlp/ingestKeys.js';
import type { RunningCollector } from '../../collector/cli/index.js';
import { startTestCollector } from '../collector/support.js';
import { openaiClient, startTestGateway, waitFor, type TestGateway } from '../support/gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gatewayWith(dataDir: string, collector: RunningCollector, token: string): Promise<TestGateway> {
  const gw = await startTestGateway(
    {
      dataDir,
      providers: { sim: { type: 'simulated', outputTokens: 4 } },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
      audit: { enabled: true, mode: 'required' },
    },
    undefined,
    { collector: { url: collector.url, token } },
  );
  return gw;
}

async function ask(gw: TestGateway, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello ${i}` }] });
  }
}

async function instances(c: RunningCollector): Promise<string[]> {
  const rows = await c.store.db.query('SELECT gateway_instance FROM audit_records ORDER BY seq');
  return rows.map((r) => String(r.gateway_instance));
}

describe('ingest key rotation', () => {
  it('records spooled under a revoked key ship under the new key; none is lost or doubled', async () => {
    const collectorDir = await mkdtemp(join(tmpdir(), 'gatehouse-rotation-c-'));
    const gatewayDir = await mkdtemp(join(tmpdir(), 'gatehouse-rotation-g-'));
    cleanups.push(() => rm(collectorDir, { recursive: true, force: true }), () => rm(gatewayDir, { recursive: true, force: true }));
    const file = ingestKeysPath(collectorDir);
    const oldKey = generateIngestKey();
    const newKey = generateIngestKey();
    await writeIngestKeys(file, [{ id: 'replica-1', hash: hashKey(oldKey) }]);
    const collector = await startTestCollector({ dataDir: collectorDir, port: 0 });
    cleanups.push(() => collector.stop());

    const first = await gatewayWith(gatewayDir, collector, oldKey);
    await ask(first, 3);
    await waitFor(() => collector.store.writer!.lastSeq === 3, 10_000, '3 records under the old key');

    // Revoke the old key, and add the new one for the replica's restart.
    await writeIngestKeys(file, [{ id: 'replica-1b', hash: hashKey(newKey) }]);
    const refusedBefore = collector.ingest.snapshot().refused_unauthenticated;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const probe = await fetch(collector.tracesUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${oldKey}` }, body: '{}' });
      if (probe.status === 401) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await ask(first, 4);
    await waitFor(() => collector.ingest.snapshot().refused_unauthenticated > refusedBefore + 1, 10_000, 'the shipper refused under the revoked key');
    expect(collector.store.writer!.lastSeq).toBe(3);
    await first.stop();

    const second = await gatewayWith(gatewayDir, collector, newKey);
    cleanups.push(() => second.stop());
    await ask(second, 2);
    await waitFor(() => collector.store.writer!.lastSeq >= 9, 15_000, 'every spooled record under the new key');
    await new Promise((r) => setTimeout(r, 300));
    expect(await instances(collector)).toEqual([...Array(3).fill('replica-1'), ...Array(6).fill('replica-1b')]);
  }, 60_000);
});
