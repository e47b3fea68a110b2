/**
 * Only an authenticated gateway instance writes the audit trail: a forged span
 * without (or with a wrong) ingest key creates no record, is refused with 401
 * in the OTLP shape, logged and counted; keys are created and revoked on a
 * running collector; records name the instance; a reused request id is
 * flagged and both records stay visible.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { A } from '../../proxy/telemetry/attributes.js';
import { collectorCommands, type RunningCollector } from '../../collector/cli/index.js';
import { ingestKeysPath, readIngestKeys } from '../../collector/otlp/ingestKeys.js';
import { RpcStatus } from '../../collector/otlp/traceProto.js';
import { auditSpan, captureStdout, makeTempDir, otlpProtobuf, post, postJson, removeDir, startTestCollector, TEST_INGEST, withTempDir } from './support.js';

async function records(c: RunningCollector): Promise<Array<Record<string, unknown>>> {
  return c.store.db.query('SELECT seq, request_id, user_id, cost_usd, gateway_instance, duplicate_request_id, span_id FROM audit_records ORDER BY seq');
}

async function healthz(c: RunningCollector): Promise<{ ingest: Record<string, number> }> {
  return (await (await fetch(`${c.url}/healthz`)).json()) as { ingest: Record<string, number> };
}

/** Runs `work` while collecting the JSON log lines written to stderr. */
async function withLogs<T>(work: () => Promise<T>): Promise<{ result: T; logs: Array<Record<string, unknown>> }> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    const result = await work();
    return { result, logs: lines.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>) };
  } finally {
    process.stderr.write = write;
  }
}

describe('authenticated ingest', () => {
  let dir: string;
  let collector: RunningCollector;
  beforeEach(async () => {
    dir = await makeTempDir();
    collector = await startTestCollector({ dataDir: dir, port: 0 });
  });
  afterEach(async () => {
    await collector.stop();
    await removeDir(dir);
  });

  it('a forged span without an ingest key creates no record, gets 401 UNAUTHENTICATED, and is logged and counted', async () => {
    const forged = auditSpan({ [A.user]: 'mallory', [A.costUsd]: '12345.67' });
    const { result, logs } = await withLogs(async () => ({
      json: await postJson(collector.tracesUrl, [forged], false, {}),
      proto: await post(collector.tracesUrl, otlpProtobuf([forged]), 'application/x-protobuf', false, {}),
    }));
    expect(result.json.status).toBe(401);
    expect(JSON.parse(result.json.body.toString())).toMatchObject({ code: 16 });
    expect(result.proto.status).toBe(401);
    expect(RpcStatus.decode(result.proto.body).toJSON()).toMatchObject({ code: 16 });
    expect(await records(collector)).toEqual([]);
    expect(collector.store.writer?.lastSeq).toBe(0);
    expect((await healthz(collector)).ingest).toMatchObject({ refused_unauthenticated: 2, records: 0 });
    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_collector_ingest_refused_total\{[^}]*reason="missing"[^}]*\} 2/);
    const refusal = logs.find((l) => l.msg === 'collector: refused spans without a valid ingest key');
    expect(refusal).toMatchObject({ level: 'warn', reason: 'missing', client: '127.0.0.1' });
  });

  it('a wrong key is refused the same way, with WWW-Authenticate', async () => {
    const response = await fetch(collector.tracesUrl, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ghi_not-a-key' }, body: '{"resourceSpans":[]}',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await healthz(collector)).ingest.refused_unauthenticated).toBe(1);
    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_collector_ingest_refused_total\{[^}]*reason="unknown"[^}]*\} 1/);
  });

  it('a record names the gateway instance whose key sent it, not what the span claims', async () => {
    expect((await postJson(collector.tracesUrl, [auditSpan()])).status).toBe(200);
    const [row] = await records(collector);
    expect(row).toMatchObject({ gateway_instance: TEST_INGEST.id, duplicate_request_id: null });
    expect((await healthz(collector)).ingest).toMatchObject({ records: 1, refused_unauthenticated: 0 });
  });

  it('keys created and revoked with the CLI take effect on the running collector', async () => {
    const created = await captureStdout(() => collectorCommands['ingest-keys']!(['create', '--id', 'replica-7', '--data-dir', dir]));
    expect(created.code, created.err).toBe(0);
    const key = created.out.trim();
    expect(key).toMatch(/^ghi_[A-Za-z0-9_-]{43}$/);
    const stored = JSON.stringify(await readIngestKeys(ingestKeysPath(dir)));
    expect(stored).not.toContain(key);
    const auth = { authorization: `Bearer ${key}` };
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline && (status = (await postJson(collector.tracesUrl, [auditSpan()], false, auth)).status) !== 200) await new Promise((r) => setTimeout(r, 100));
    expect(status).toBe(200);
    expect((await records(collector)).map((r) => r.gateway_instance)).toEqual(['replica-7']);

    const listed = await captureStdout(() => collectorCommands['ingest-keys']!(['list', '--data-dir', dir]));
    expect(listed.out).toMatch(/^replica-7\tsha256:/m);
    expect(listed.out).not.toContain(key);
    const revoked = await captureStdout(() => collectorCommands['ingest-keys']!(['revoke', '--id', 'replica-7', '--data-dir', dir]));
    expect(revoked.code).toBe(0);
    const until = Date.now() + 5_000;
    while (Date.now() < until && (status = (await postJson(collector.tracesUrl, [auditSpan()], false, auth)).status) !== 401) await new Promise((r) => setTimeout(r, 100));
    expect(status).toBe(401);
    // Refused from then on: nothing more is recorded under the revoked key.
    const recorded = (await records(collector)).length;
    expect((await postJson(collector.tracesUrl, [auditSpan()], false, auth)).status).toBe(401);
    expect(await records(collector)).toHaveLength(recorded);
    const again = await captureStdout(() => collectorCommands['ingest-keys']!(['create', '--data-dir', dir]));
    expect(again.code).toBe(2);
    // An id the collector could not read back is refused before anything is written.
    const bad = await captureStdout(() => collectorCommands['ingest-keys']!(['create', '--id', 'bad id!', '--data-dir', dir]));
    expect(bad.code).toBe(2);
    const after = await captureStdout(() => collectorCommands['ingest-keys']!(['list', '--data-dir', dir]));
    expect(after.code).toBe(0);
    expect(after.out).not.toContain('bad id!');
  });

  it('a second record claiming an existing request id is kept and flagged, and audit show prints both', async () => {
    const original = auditSpan({ [A.requestId]: 'req-claimed', [A.user]: 'alice' });
    const claimant = auditSpan({ [A.requestId]: 'req-claimed', [A.user]: 'mallory' });
    expect((await postJson(collector.tracesUrl, [original])).status).toBe(200);
    expect((await postJson(collector.tracesUrl, [claimant])).status).toBe(200);
    // A resend of either is a duplicate span, not another claim.
    expect((await postJson(collector.tracesUrl, [original, claimant])).status).toBe(200);
    expect((await postJson(collector.tracesUrl, [claimant])).status).toBe(200);
    const rows = await records(collector);
    expect(rows.map((r) => [r.user_id, r.duplicate_request_id])).toEqual([['alice', null], ['mallory', true]]);
    expect((await healthz(collector)).ingest.duplicate_request_ids).toBe(1);
    const shown = await captureStdout(() => collectorCommands['audit show']!(['--data-dir', dir, 'req-claimed']));
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/user_id\s+alice/);
    expect(shown.out).toMatch(/user_id\s+mallory/);
    expect(shown.out).toMatch(/duplicate_request_id\s+true/);
    expect(shown.err).toMatch(/2 records claim request id req-claimed/);
  });
});

describe('the de-duplication window', () => {
  it('keeps one key per record and prunes keys older than dedupeDays', async () => {
    await withTempDir(async (dir) => {
      const c = await startTestCollector({ dataDir: dir, port: 0, dedupeDays: 7 });
      const span = auditSpan();
      expect((await postJson(c.tracesUrl, [span, auditSpan()])).status).toBe(200);
      const keys = await c.store.db.query('SELECT count(*) AS n FROM dedupe_keys');
      expect(Number(keys[0]?.n)).toBe(2);
      // Age one key past the window: pruning drops it, and only it.
      await c.store.db.connection.run(`UPDATE dedupe_keys SET day = day - 8 WHERE span_key = '${span.traceId}${span.spanId}'`);
      expect(await c.store.writer!.pruneDedupeKeys()).toBe(1);
      expect(Number((await c.store.db.query('SELECT count(*) AS n FROM dedupe_keys'))[0]?.n)).toBe(1);
      await c.stop();
    });
  });
});

describe('--unauthenticated forward', () => {
  it('forwards spans without a key to the tracing backends and never records them', async () => {
    const seen: string[] = [];
    const downstream = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => { seen.push(Buffer.concat(chunks).toString()); res.end('{}'); });
    });
    await new Promise<void>((r) => downstream.listen(0, '127.0.0.1', r));
    const port = (downstream.address() as AddressInfo).port;
    try {
      await withTempDir(async (dir) => {
        const c = await startTestCollector({ dataDir: dir, port: 0, unauthenticated: 'forward', forward: [{ url: `http://127.0.0.1:${port}/v1/traces` }] });
        const span = auditSpan({ [A.user]: 'app-without-key' });
        expect((await postJson(c.tracesUrl, [span], false, {})).status).toBe(200);
        await c.forwarder.drain();
        expect(seen.join('')).toContain(span.spanId);
        expect(await c.store.db.query('SELECT * FROM audit_records')).toEqual([]);
        expect((await healthz(c)).ingest).toMatchObject({ forwarded_unauthenticated: 1, records: 0 });
        await c.stop();
      });
    } finally {
      downstream.close();
    }
  });
});
