import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { A } from '../../proxy/telemetry/attributes.js';
import { collectorCommands } from '../../collector/cli/index.js';
import { AUDIT_COLUMNS, HASHED_COLUMNS, type AuditRecord } from '../../collector/audit/columns.js';
import { canonicalJson, GENESIS_HASH, recordHash } from '../../collector/audit/hashChain.js';
import { AuditDatabase } from '../../collector/store/auditDatabase.js';
import { streamChainRows, streamChainRowsFast } from '../../collector/store/chainRows.js';
import { recordHashOf } from './recordHash.js';
import { auditSpan, captureStdout, makeTempDir, postJson, removeDir, startTestCollector } from './support.js';

describe('canonical JSON', () => {
  it('matches the canonicalize package (RFC 8785) for records with every kind of value', () => {
    const samples: AuditRecord[] = [
      { seq: 1, prev_hash: GENESIS_HASH, cost_usd: 0.000001, gen_ai_usage_input_tokens: 1e15, tenant_id: 'acme "quoted" \\ \n\t\u0001 é 😀' },
      { seq: 2, cost_usd: 1e21, duration_ms: -0, gen_ai_request_stream: false, gen_ai_response_finish_reasons: ['stop', 'x"y'], received_at: 1736935200000123 },
      { seq: 3, cost_usd: 1.5e-7, gen_ai_response_finish_reasons: [], tenant_id: null, details: '{"a":1}' },
    ];
    for (const r of samples) {
      const expected = canonicalize(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null)));
      expect(canonicalJson(r)).toBe(expected);
      expect(recordHash(r)).toBe(createHash('sha256').update(expected ?? '').digest('hex'));
    }
  });

  it('the fast path (DuckDB to_json, normalised) gives the exact canonical JSON, also for awkward values', async () => {
    const dir = await makeTempDir();
    const c = await startTestCollector({ dataDir: dir, port: 0 });
    const awkward = ['ctl \u0001\u001f\u000b é 😀 \u2028 \u007f / "q" \\ :null,', 'literal \\u001F text', ''];
    const costs = [1e-7, 1e21, 123, 0.1 + 0.2, 5e-324, 0.000001, 123456789.123];
    await postJson(c.tracesUrl, costs.map((cost, i) => auditSpan({ [A.costUsd]: cost, [A.user]: awkward[i % awkward.length] as string, [A.durationMs]: -0 })));
    const connection = await c.store.db.connect();
    const lookup = await c.store.db.connect();
    const exact = new Map<number, string>();
    for await (const batch of streamChainRows(connection, 'audit_records')) for (const r of batch) exact.set(Number(r.record.seq), canonicalJson(r.record));
    let matched = 0;
    let wrong = 0;
    for await (const batch of streamChainRowsFast(connection, 'audit_records', lookup)) {
      for (const r of batch) {
        if (r.canonical === undefined) continue;
        if (Buffer.from(r.canonical).toString('utf8') === exact.get(Number(r.record.seq))) matched++;
        else wrong++;
      }
    }
    connection.closeSync();
    lookup.closeSync();
    await c.stop();
    await removeDir(dir);
    // rows whose text contains a literal "\\u001F" have no fast form (they take the exact path); all others match, none differs
    expect(matched).toBe(costs.filter((_, i) => i % awkward.length !== 1).length);
    expect(wrong).toBe(0);
  });

  it('the example record of docs/audit-format.md hashes to the hash the document states', async () => {
    const doc = await readFile(new URL('../../docs/audit-format.md', import.meta.url), 'utf8');
    const example = /Example \(a short record\):\s*```json\n(.+)\n```\s*Its `hash` is `([0-9a-f]{64})`/.exec(doc);
    expect(example).not.toBeNull();
    const [, line, stated] = example!;
    expect(canonicalJson(JSON.parse(line!) as AuditRecord)).toBe(line);
    expect(createHash('sha256').update(line!, 'utf8').digest('hex')).toBe(stated);
  });

  it('hashes every column except hash', () => {
    expect(HASHED_COLUMNS.map((c) => c.name)).toEqual(AUDIT_COLUMNS.map((c) => c.name).filter((n) => n !== 'hash'));
  });
});

describe('hash chain and tamper detection', () => {
  let dir: string;

  async function verify(): Promise<{ code: number; out: string }> {
    const verifyCommand = collectorCommands['audit verify'];
    if (!verifyCommand) throw new Error('audit verify is not registered');
    return captureStdout(() => verifyCommand(['--data-dir', dir]));
  }

  async function tamper(sql: string): Promise<void> {
    const db = await AuditDatabase.open(`${dir}/audit.duckdb`);
    for (const statement of sql.split(';').filter((s) => s.trim() !== '')) await db.connection.run(statement);
    db.close();
  }

  beforeEach(async () => {
    dir = await makeTempDir();
    const c = await startTestCollector({ dataDir: dir, port: 0, checkpointEvery: 5 });
    for (let i = 0; i < 12; i++) await postJson(c.tracesUrl, [auditSpan({ [A.costUsd]: 0.01 * (i + 1) })]);
    await c.stop();
  });
  afterEach(() => removeDir(dir));

  it('an untouched chain verifies: seq 1..n, genesis prev_hash, each hash over the record', async () => {
    const db = await AuditDatabase.open(`${dir}/audit.duckdb`, { readOnly: true });
    const rows = await db.query('SELECT seq, prev_hash, hash FROM audit_records ORDER BY seq');
    const checkpoints = await db.query('SELECT seq FROM checkpoints ORDER BY seq');
    const recomputed = await recordHashOf(db, 7);
    db.close();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
    rows.slice(1).forEach((r, i) => expect(r.prev_hash).toBe(rows[i]?.hash));
    expect(recomputed).toBe(rows[6]?.hash);
    expect(checkpoints.map((c) => c.seq)).toEqual([5, 10, 12]);
    const result = await verify();
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^OK .* 12 records .*3 checkpoints verified/);
  });

  it('an edited amount fails at its seq', async () => {
    await tamper('UPDATE audit_records SET cost_usd = 99 WHERE seq = 7');
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/FAIL at seq 7: altered/);
  });

  it('a deleted row fails at its seq', async () => {
    await tamper('DELETE FROM audit_records WHERE seq = 4');
    expect((await verify()).out).toMatch(/FAIL at seq 4: missing/);
  });

  it('a deleted last row fails at its seq (the final checkpoint signs it)', async () => {
    await tamper('DELETE FROM audit_records WHERE seq = 12');
    expect((await verify()).out).toMatch(/FAIL at seq 12: missing/);
  });

  it('swapped rows fail at the first swapped seq', async () => {
    await tamper('UPDATE audit_records SET seq = -1 WHERE seq = 5; UPDATE audit_records SET seq = 5 WHERE seq = 6; UPDATE audit_records SET seq = 6 WHERE seq = -1');
    expect((await verify()).out).toMatch(/FAIL at seq 5: reordered/);
  });

  it('a forged checkpoint fails at its seq', async () => {
    await tamper(`INSERT INTO checkpoints SELECT chain_id, 3, (SELECT hash FROM audit_records WHERE seq = 3), time, key_id, signature FROM checkpoints WHERE seq = 5`);
    expect((await verify()).out).toMatch(/FAIL at seq 3: bad_signature/);
  });

  it('a deleted prefix excused by a forged retention record at the unsigned end fails as missing', async () => {
    const db = await AuditDatabase.open(`${dir}/audit.duckdb`);
    const last5 = String((await db.query('SELECT hash FROM audit_records WHERE seq = 5'))[0]?.hash);
    const details = JSON.stringify({ action: 'delete_exported_segments', deleted_from_seq: 1, deleted_to_seq: 5, deleted_last_hash: last5, deleted_rows: 5 });
    await db.connection.run(`INSERT INTO audit_records SELECT * REPLACE (13 AS seq, hash AS prev_hash, 'retention' AS record_type, $1 AS details)
      FROM audit_records WHERE seq = 12`, [details]);
    await db.connection.run('UPDATE audit_records SET hash = $1 WHERE seq = 13', [await recordHashOf(db, 13)]);
    await db.connection.run('DELETE FROM audit_records WHERE seq <= 5');
    db.close();
    expect((await verify()).out).toMatch(/FAIL at seq 6: missing: the chain starts at seq 6/);
  });

  it('a collector refuses to sign over rows edited after the last checkpoint; a crash before signing is fine', async () => {
    await tamper('DELETE FROM checkpoints WHERE seq = 12');
    const resumed = await startTestCollector({ dataDir: dir, port: 0, checkpointEvery: 5 });
    await resumed.stop();
    expect((await verify()).out).toMatch(/^OK .* 12 records/);

    await tamper('DELETE FROM checkpoints WHERE seq = 12; UPDATE audit_records SET cost_usd = 0 WHERE seq = 11');
    await expect(startTestCollector({ dataDir: dir, port: 0 })).rejects.toThrow(/changed after its last signed checkpoint \(FAIL at seq 11: altered/);
    expect((await verify()).out).toMatch(/FAIL at seq 11: altered/);
  });

  it('a re-hashed rewrite (edit, then recompute every later hash) fails at the next checkpoint', async () => {
    await tamper('UPDATE audit_records SET cost_usd = 0 WHERE seq = 7');
    const db = await AuditDatabase.open(`${dir}/audit.duckdb`);
    let prev = String((await db.query('SELECT hash FROM audit_records WHERE seq = 6'))[0]?.hash);
    for (let seq = 7; seq <= 12; seq++) {
      await db.connection.run('UPDATE audit_records SET prev_hash = $1 WHERE seq = $2', [prev, seq]);
      prev = await recordHashOf(db, seq);
      await db.connection.run('UPDATE audit_records SET hash = $1 WHERE seq = $2', [prev, seq]);
    }
    db.close();
    expect((await verify()).out).toMatch(/FAIL at seq 10: checkpoint_mismatch/);
  });
});

describe('docs/audit-format.md', () => {
  it('lists every column of the record schema, in order, with its type', async () => {
    const doc = await readFile(new URL('../../docs/audit-format.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## 2. Record schema'), doc.indexOf('## 3.'));
    const documented = [...section.matchAll(/^\| `([a-z0-9_]+)` \| ([A-Z0-9(),\[\]]+) \|/gm)].map((m) => [m[1], m[2]]);
    expect(documented).toEqual(AUDIT_COLUMNS.map((c) => [c.name, c.type]));
  });
});
