import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { A } from '../../proxy/telemetry/attributes.js';
import { type RunningCollector } from '../../collector/cli/index.js';
import { ExportTraceServiceResponse, RpcStatus } from '../../collector/otlp/traceProto.js';
import { TEST_AUTH, attemptSpan, auditSpan, makeTempDir, otlpJson, otlpProtobuf, post, postJson, removeDir, withTempDir, startTestCollector } from './support.js';

async function count(c: RunningCollector): Promise<number> {
  const rows = await c.store.db.query('SELECT count(*) AS n FROM audit_records');
  return Number(rows[0]?.n);
}

describe('OTLP/HTTP receiver', () => {
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

  it('accepts OTLP/JSON and answers with an ExportTraceServiceResponse in JSON', async () => {
    const res = await postJson(collector.tracesUrl, [auditSpan(), auditSpan()]);
    expect(res.status).toBe(200);
    expect(res.contentType).toContain('application/json');
    expect(JSON.parse(res.body.toString())).toEqual({});
    expect(await count(collector)).toBe(2);
  });

  it('accepts protobuf, gzip-compressed, and answers in protobuf', async () => {
    const span = auditSpan({ [A.costUsd]: '0.5' });
    const res = await post(collector.tracesUrl, otlpProtobuf([span]), 'application/x-protobuf', true);
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/x-protobuf');
    expect(ExportTraceServiceResponse.decode(res.body).toJSON()).toEqual({});
    const rows = await collector.store.db.query('SELECT span_id, cost_usd, tenant_id, gen_ai_response_finish_reasons AS f FROM audit_records');
    expect(rows).toEqual([{ span_id: span.spanId, cost_usd: '0.500000000000', tenant_id: 'acme', f: ['stop'] }]);
  });

  it('accepts gzip JSON', async () => {
    expect((await postJson(collector.tracesUrl, [auditSpan()], true)).status).toBe(200);
    expect(await count(collector)).toBe(1);
  });

  it('rejects other content types with 415, undecodable bodies with 400, GET with 405', async () => {
    expect((await post(collector.tracesUrl, 'x', 'text/plain')).status).toBe(415);
    const bad = await post(collector.tracesUrl, Buffer.from([0xff, 0xff, 0xff, 0x01]), 'application/x-protobuf');
    expect(bad.status).toBe(400);
    expect(RpcStatus.decode(bad.body).toJSON()).toMatchObject({ code: 3 });
    const badJson = await post(collector.tracesUrl, '{"resourceSpans": 5}', 'application/json');
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body.toString())).toMatchObject({ code: 3 });
    expect((await fetch(collector.tracesUrl, { headers: TEST_AUTH })).status).toBe(405);
    // Without a key, every request is 401 first, whatever its method or content type.
    expect((await fetch(collector.tracesUrl)).status).toBe(401);
    expect((await post(collector.tracesUrl, 'x', 'text/plain', false, {})).status).toBe(401);
  });

  it('reports spans with invalid ids as partial success and stores the rest', async () => {
    const body = otlpJson([auditSpan(), auditSpan({}, { spanId: 'zz' })]);
    const res = await post(collector.tracesUrl, JSON.stringify(body), 'application/json');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toMatchObject({ partialSuccess: { rejectedSpans: 1 } });
    expect(await count(collector)).toBe(1);
  });

  // (A protobuf uint64 of nanoseconds ends in year 2554, so only OTLP/JSON can carry a time past year 9999.)
  it('rejects spans with a time past year 9999 or a malformed parent id, in both encodings, and stores the rest', async () => {
    const far = auditSpan({}, { startMs: 8.64e15 });
    const badParent = auditSpan({}, { parentSpanId: 'abc' });
    const json = await post(collector.tracesUrl, JSON.stringify(otlpJson([auditSpan(), far, badParent])), 'application/json');
    expect(json.status).toBe(200);
    expect(JSON.parse(json.body.toString())).toMatchObject({ partialSuccess: { rejectedSpans: 2 } });
    const pb = await post(collector.tracesUrl, otlpProtobuf([auditSpan(), badParent]), 'application/x-protobuf');
    expect(pb.status).toBe(200);
    expect(ExportTraceServiceResponse.decode(pb.body).toJSON()).toMatchObject({ partialSuccess: { rejectedSpans: '1' } });
    expect(await count(collector)).toBe(2);
    // The store keeps answering afterwards.
    expect((await postJson(collector.tracesUrl, [auditSpan()])).status).toBe(200);
  });

  it('ignores spans that are not audit records', async () => {
    const plain = auditSpan();
    delete plain.attributes['gatehouse.audit'];
    expect((await postJson(collector.tracesUrl, [plain])).status).toBe(200);
    expect(await count(collector)).toBe(0);
  });

  it('de-duplicates a resent batch by trace and span id', async () => {
    const batch = [auditSpan(), auditSpan(), auditSpan()];
    await postJson(collector.tracesUrl, batch);
    await postJson(collector.tracesUrl, batch);
    await post(collector.tracesUrl, otlpProtobuf([...batch, auditSpan()]), 'application/x-protobuf');
    expect(await count(collector)).toBe(4);
    const seqs = await collector.store.db.query('SELECT seq FROM audit_records ORDER BY seq');
    expect(seqs.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
  });

  it('joins upstream attempt spans into the record as attempts JSON', async () => {
    const parent = auditSpan({ [A.routeAttempts]: 2 });
    await postJson(collector.tracesUrl, [attemptSpan(parent, 2, 'ok'), attemptSpan(parent, 1, 'error')]);
    await postJson(collector.tracesUrl, [parent]);
    const rows = await collector.store.db.query('SELECT attempts FROM audit_records');
    const attempts = JSON.parse(String(rows[0]?.attempts)) as Array<{ attributes: Record<string, unknown> }>;
    expect(attempts.map((a) => a.attributes[A.attemptOutcome])).toEqual(['error', 'ok']);
  });

  it('answers 413 over the size limit', async () => {
    await collector.stop();
    collector = await startTestCollector({ dataDir: dir, port: 0, maxBodyBytes: 1000 });
    const res = await postJson(collector.tracesUrl, Array.from({ length: 20 }, () => auditSpan()));
    expect(res.status).toBe(413);
    const zipped = await post(collector.tracesUrl, JSON.stringify(otlpJson(Array.from({ length: 20 }, () => auditSpan()))), 'application/json', true);
    expect(zipped.status).toBe(413);
  });
});

describe('de-duplication across restarts', () => {
  it('a batch resent after a restart adds nothing, and the chain continues', async () => {
    await withTempDir(async (dir) => {
      const batch = [auditSpan(), auditSpan()];
      let c = await startTestCollector({ dataDir: dir, port: 0 });
      await postJson(c.tracesUrl, batch);
      await c.stop();
      c = await startTestCollector({ dataDir: dir, port: 0 });
      await postJson(c.tracesUrl, [...batch, auditSpan()]);
      const rows = await c.store.db.query('SELECT seq, chain_id FROM audit_records ORDER BY seq');
      expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
      expect(new Set(rows.map((r) => r.chain_id)).size).toBe(1);
      await c.stop();
    });
  });
});

describe('forwarding', () => {
  it('forwards to downstream OTLP endpoints, stripping message content when configured', async () => {
    const seen: Array<{ type: string; body: Record<string, unknown> }> = [];
    const downstream = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ type: String(req.headers['content-type']), body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => downstream.listen(0, '127.0.0.1', r));
    const port = (downstream.address() as AddressInfo).port;
    await withTempDir(async (dir) => {
      const c = await startTestCollector({
        dataDir: dir, port: 0,
        forward: [{ url: `http://127.0.0.1:${port}/v1/traces`, stripContent: true }, { url: 'http://127.0.0.1:1/v1/traces' }],
      });
      const span = auditSpan({ [A.inputMessages]: '[{"role":"user","content":"secret"}]' });
      expect((await postJson(c.tracesUrl, [span])).status).toBe(200);
      await c.forwarder.drain();
      const stats = c.forwarder.snapshot();
      expect(stats[0]).toMatchObject({ sent: 1, failed: 0 });
      expect(stats[1]).toMatchObject({ sent: 0, failed: 1 });
      const text = JSON.stringify(seen[0]?.body);
      expect(text).toContain(span.spanId);
      expect(text).not.toContain('secret');
      expect(text).toContain(A.tenant);
      const stored = await c.store.db.query('SELECT gen_ai_input_messages AS m FROM audit_records');
      expect(String(stored[0]?.m)).toContain('secret');
      await c.stop();
    });
    downstream.close();
  });
});
