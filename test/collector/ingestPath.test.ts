/**
 * The fast paths of ingest and verify must keep the format's guarantees: stored values hash to the stored hash,
 * resent spans are skipped while new spans in the same export are recorded, and verification gives the same
 * verdict whatever the physical order of the rows.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { A } from '../../proxy/telemetry/attributes.js';
import { type RunningCollector } from '../../collector/cli/index.js';
import { canonicalJson } from '../../collector/audit/hashChain.js';
import { describe as describeReport } from '../../collector/audit/verifyChain.js';
import { verifyStore } from '../../collector/audit/verifyStore.js';
import { streamChainRows, streamChainRowsFast } from '../../collector/store/chainRows.js';
import { recordHashOf } from './recordHash.js';
import { attemptSpan, auditSpan, makeTempDir, postJson, removeDir, startTestCollector } from './support.js';

const AWKWARD_TEXT = ['lone \ud800 surrogate', 'nul \u0000 and \u0001\u000b\u001f controls', 'é 😀 \u2028 \u007f / "q" \\ :null,', '', 'x'.repeat(5000)];
const AWKWARD_DOUBLES = [5e-324, 1.7976931348623157e308, 0.1 + 0.2, 1e-7, 0.000015, 2.5e-5, 1e16, 1.5e20, 1e21, 123, -42.125, 0.0097];

describe('ingest and verify fast paths', () => {
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

  it('stores exactly the values it hashed, for awkward texts and numbers', async () => {
    const spans = AWKWARD_DOUBLES.map((cost, i) => auditSpan({
      [A.costUsd]: cost, [A.durationMs]: -cost, [A.user]: AWKWARD_TEXT[i % AWKWARD_TEXT.length] as string,
      [A.inputTokens]: i === 0 ? Number.MAX_SAFE_INTEGER : -i, [A.finishReasons]: i % 2 ? [] : ['stop', AWKWARD_TEXT[i % AWKWARD_TEXT.length] as string],
    }));
    expect((await postJson(collector.tracesUrl, spans)).status).toBe(200);
    const rows = await collector.store.db.query('SELECT seq, hash, user_id FROM audit_records ORDER BY seq');
    expect(rows).toHaveLength(spans.length);
    for (const row of rows) expect(await recordHashOf(collector.store.db, Number(row.seq))).toBe(row.hash);
    expect(rows[0]?.user_id).toBe('lone \ufffd surrogate'); // not representable in UTF-8: hashed and stored as U+FFFD
    const report = await verifyStore(collector.store.db, collector.store.trustedKeys);
    expect(describeReport(report)).toMatch(/^OK /);
  });

  it('computes in SQL the exact canonical JSON of ordinary and awkward rows', async () => {
    const spans = AWKWARD_DOUBLES.map((cost, i) => auditSpan({ [A.costUsd]: cost, [A.ttftMs]: cost * 3, [A.user]: AWKWARD_TEXT[i % AWKWARD_TEXT.length] as string }));
    await postJson(collector.tracesUrl, spans);
    const connection = await collector.store.db.connect();
    const lookup = await collector.store.db.connect();
    const exact = new Map<number, string>();
    for await (const batch of streamChainRows(connection, 'audit_records')) for (const r of batch) exact.set(Number(r.record.seq), canonicalJson(r.record));
    const differing: number[] = [];
    for await (const batch of streamChainRowsFast(connection, 'audit_records', lookup)) {
      for (const r of batch) if (Buffer.from(r.canonical ?? '').toString() !== exact.get(Number(r.record.seq))) differing.push(Number(r.record.seq));
    }
    connection.closeSync();
    lookup.closeSync();
    expect(differing).toEqual([]);
  });

  it('records the new spans of an export that also resends recorded ones, once, with their attempts', async () => {
    const old = [auditSpan(), auditSpan()];
    await postJson(collector.tracesUrl, old);
    const fresh = auditSpan();
    const res = await postJson(collector.tracesUrl, [old[0] as never, attemptSpan(fresh, 1, 'ok'), fresh, old[1] as never, fresh]);
    expect(res.status).toBe(200);
    const rows = await collector.store.db.query('SELECT seq, span_id, attempts FROM audit_records ORDER BY seq');
    expect(rows.map((r) => r.span_id)).toEqual([old[0]?.spanId, old[1]?.spanId, fresh.spanId]);
    expect(JSON.parse(String(rows[2]?.attempts))).toHaveLength(1);
    expect((await verifyStore(collector.store.db, collector.store.trustedKeys)).ok).toBe(true);
    const rollups = await collector.store.db.query('SELECT sum(requests) AS n FROM cost_rollups');
    expect(Number(rollups[0]?.n)).toBe(3);
  });

  it('gives the same verdict when the rows are not stored in seq order', async () => {
    for (let i = 0; i < 3; i++) await postJson(collector.tracesUrl, [auditSpan(), auditSpan(), auditSpan()]);
    await collector.store.writer?.checkpoint();
    const db = collector.store.db;
    // Move seq 2 to the end of the table: a valid chain whose storage order differs from seq order.
    await db.connection.run('CREATE TEMP TABLE moved AS SELECT * FROM audit_records WHERE seq = 2');
    await db.connection.run('DELETE FROM audit_records WHERE seq = 2');
    await db.connection.run('INSERT INTO audit_records SELECT * FROM moved');
    const stored = (await db.query('SELECT seq FROM audit_records')).map((r) => Number(r.seq));
    expect(stored).not.toEqual([...stored].sort((a, b) => a - b));
    const ok = await verifyStore(db, collector.store.trustedKeys);
    expect(ok.ok).toBe(true);
    expect(ok.records).toBe(9);
    await db.connection.run(`UPDATE audit_records SET cost_usd = cost_usd + 1 WHERE seq = 2`);
    const altered = await verifyStore(db, collector.store.trustedKeys);
    expect(altered.failure).toMatchObject({ seq: 2, reason: 'altered' });
  });
});
