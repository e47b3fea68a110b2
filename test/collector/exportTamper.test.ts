/**
 * What an auditor's verifiers catch in an export: each case edits a fresh copy
 * of one pristine export the way a forger would, and both `audit verify --dir`
 * and the independent Python verifier (written from docs/audit-format.md) must
 * fail with the same reason. "Re-signed" cases model someone who also holds the
 * collector's private key (or a buggy exporter): the chain, the manifest
 * fields and the tool-call derivation must still catch them.
 */
import { execFile } from 'node:child_process';
import { cp, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { A } from '../../proxy/telemetry/attributes.js';
import { collectorCommands } from '../../collector/cli/index.js';
import { sha256File } from '../../collector/export/auditExport.js';
import type { Manifest } from '../../collector/export/manifest.js';
import { keyIdOf, signManifest, type SigningKey } from '../../collector/audit/signing.js';
import { auditSpan, captureStdout, makeTempDir, postJson, removeDir, startTestCollector } from './support.js';

const exec = promisify(execFile);
const PYTHON_VERIFIER = join(import.meta.dirname, '../../collector/verify/verify_export.py');

async function duck(sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function verifyBoth(dir: string, publicKey: string): Promise<{ js: string; py: string }> {
  const js = await captureStdout(() => collectorCommands['audit verify']!(['--dir', dir, '--public-key', publicKey]));
  let py: string;
  try {
    py = (await exec('python3', [PYTHON_VERIFIER, dir, '--public-key', publicKey])).stdout;
  } catch (error) {
    py = (error as { stdout?: string }).stdout ?? String(error);
  }
  return { js: js.out.trim(), py: py.trim() };
}

describe('tampered exports', () => {
  let dir: string;
  let pristine: string;
  let publicKey: string;
  let key: SigningKey;
  let n = 0;

  beforeAll(async () => {
    dir = await makeTempDir();
    publicKey = join(dir, 'audit-signing-key.pub.pem');
    const c = await startTestCollector({ dataDir: dir, port: 0, checkpointEvery: 7 });
    for (let i = 0; i < 20; i++) {
      await postJson(c.tracesUrl, [auditSpan({
        [A.costUsd]: `0.0${i}1`,
        [A.toolCalls]: JSON.stringify([{ id: `call-${i}`, name: 'crm.lookup', arguments: `{"customer":${i}}` }, { id: `call-${i}b`, name: 'hr.query' }]),
      })]);
    }
    await c.stop();
    pristine = join(dir, 'pristine');
    const exported = await captureStdout(() => collectorCommands['audit export']!(['--data-dir', dir, '--out', pristine, '--from', '2000-01-01']));
    expect(exported.code, exported.err).toBe(0);
    const pem = await readFile(join(dir, 'audit-signing-key.pem'), 'utf8');
    const privateKey = createPrivateKey(pem);
    const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    key = { privateKey, publicKeyPem, keyId: keyIdOf(publicKeyPem) };
  });
  afterAll(() => removeDir(dir));

  /** A fresh copy of the pristine export, its manifest, and helpers to rewrite them. */
  async function copy(): Promise<{ out: string; manifest: Manifest; save(options?: { resign?: boolean }): Promise<void>; refresh(path: string): Promise<void> }> {
    const out = join(dir, `case-${++n}`);
    await cp(pristine, out, { recursive: true });
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;
    return {
      out,
      manifest,
      async refresh(path) {
        const entry = manifest.files.find((f) => f.path === path)!;
        entry.sha256 = await sha256File(join(out, path));
        entry.bytes = (await stat(join(out, path))).size;
      },
      async save(options = {}) {
        if (options.resign) manifest.signature = signManifest(key, manifest);
        await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
      },
    };
  }

  async function rewriteParquet(path: string, select: string): Promise<void> {
    await duck(`COPY (SELECT ${select} FROM read_parquet('${path}', hive_partitioning = false)) TO '${path}.new' (FORMAT parquet, COMPRESSION zstd)`);
    await rm(path);
    await cp(`${path}.new`, path);
    await rm(`${path}.new`);
  }

  it('the untouched export verifies in both', async () => {
    const { out } = await copy();
    const r = await verifyBoth(out, publicKey);
    expect(r.js).toMatch(/^OK .* 20 records/);
    expect(r.py).toMatch(/^OK .* 20 records/);
  });

  it('an edited row: file_mismatch; with the manifest fixed up: manifest_bad_signature; re-signed too: altered at its seq', async () => {
    const c = await copy();
    const file = c.manifest.files.find((f) => f.kind === 'records')!;
    const path = join(c.out, file.path);
    await rewriteParquet(path, `* REPLACE (CASE WHEN seq = 9 THEN 1000::DECIMAL(38,12) ELSE cost_usd END AS cost_usd)`);
    let r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: file_mismatch/);
    expect(r.py).toMatch(/^FAIL at seq \d+: file_mismatch/);
    await c.refresh(file.path);
    await c.save();
    r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: manifest_bad_signature/);
    expect(r.py).toMatch(/^FAIL at seq \d+: manifest_bad_signature/);
    await c.save({ resign: true });
    r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq 9: altered/);
    expect(r.py).toMatch(/^FAIL at seq 9: altered/);
  });

  it('a forged tool_calls file: manifest_bad_signature; re-signed: tool_calls_mismatch at the forged seq', async () => {
    const c = await copy();
    const path = join(c.out, 'tool_calls.parquet');
    await rewriteParquet(path, `* REPLACE (CASE WHEN seq = 5 AND position = 0 THEN '{"customer":"everyone"}' ELSE arguments END AS arguments)`);
    await c.refresh('tool_calls.parquet');
    await c.save();
    let r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: manifest_bad_signature/);
    expect(r.py).toMatch(/^FAIL at seq \d+: manifest_bad_signature/);
    await c.save({ resign: true });
    r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq 5: tool_calls_mismatch/);
    expect(r.py).toMatch(/^FAIL at seq 5: tool_calls_mismatch/);
  });

  it('a tool call dropped from tool_calls (re-signed): tool_calls_mismatch', async () => {
    const c = await copy();
    const path = join(c.out, 'tool_calls.parquet');
    await duck(`COPY (SELECT * FROM read_parquet('${path}') WHERE NOT (seq = 12 AND position = 1)) TO '${path}.new' (FORMAT parquet)`);
    await rm(path);
    await cp(`${path}.new`, path);
    await rm(`${path}.new`);
    const entry = c.manifest.files.find((f) => f.path === 'tool_calls.parquet')!;
    entry.rows -= 1;
    c.manifest.rows.tool_calls -= 1;
    await c.refresh('tool_calls.parquet');
    await c.save({ resign: true });
    const r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq 12: tool_calls_mismatch/);
    expect(r.py).toMatch(/^FAIL at seq 12: tool_calls_mismatch/);
  });

  it('an edited last_hash: manifest_bad_signature; re-signed: manifest_mismatch', async () => {
    const c = await copy();
    c.manifest.last_hash = 'f'.repeat(64);
    await c.save();
    let r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: manifest_bad_signature/);
    expect(r.py).toMatch(/^FAIL at seq \d+: manifest_bad_signature/);
    await c.save({ resign: true });
    r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq 20: manifest_mismatch/);
    expect(r.py).toMatch(/^FAIL at seq 20: manifest_mismatch/);
  });

  it('edited row counts and ranges (re-signed): manifest_mismatch', async () => {
    const rows = await copy();
    rows.manifest.rows.records += 1;
    await rows.save({ resign: true });
    let r = await verifyBoth(rows.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: manifest_mismatch/);
    expect(r.py).toMatch(/^FAIL at seq \d+: manifest_mismatch/);
    const range = await copy();
    range.manifest.range.to = '2000-01-02T00:00:00.000Z';
    await range.save({ resign: true });
    r = await verifyBoth(range.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq 1: manifest_mismatch/);
    expect(r.py).toMatch(/^FAIL at seq 1: manifest_mismatch/);
  });

  it('a manifest without a signature: manifest_unsigned; signed by another key: unknown_key', async () => {
    const unsigned = await copy();
    delete unsigned.manifest.signature;
    await unsigned.save();
    let r = await verifyBoth(unsigned.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: manifest_unsigned/);
    expect(r.py).toMatch(/^FAIL at seq \d+: manifest_unsigned/);
    const forged = await copy();
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    forged.manifest.public_keys = [{ key_id: keyIdOf(pem), pem }];
    forged.manifest.signature = signManifest({ privateKey, publicKeyPem: pem, keyId: keyIdOf(pem) }, forged.manifest);
    await writeFile(join(forged.out, 'manifest.json'), JSON.stringify(forged.manifest));
    r = await verifyBoth(forged.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: unknown_key/);
    expect(r.py).toMatch(/^FAIL at seq \d+: unknown_key/);
  });

  it('a truncated Parquet file: file_mismatch; with its manifest entry fixed and re-signed: unreadable_file naming the file', async () => {
    const c = await copy();
    const file = c.manifest.files.find((f) => f.kind === 'records')!;
    await truncate(join(c.out, file.path), 200);
    let r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: file_mismatch/);
    expect(r.py).toMatch(/^FAIL at seq \d+: file_mismatch/);
    await c.refresh(file.path);
    await c.save({ resign: true });
    r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(new RegExp(`^FAIL at seq \\d+: unreadable_file: ${file.path.replace(/[.]/g, '\\.')}`));
    expect(r.py).toMatch(new RegExp(`^FAIL at seq \\d+: unreadable_file: ${file.path.replace(/[.]/g, '\\.')}`));
  });

  it('a manifest that is not JSON: unreadable_file', async () => {
    const c = await copy();
    await writeFile(join(c.out, 'manifest.json'), '{"format": "gatehouse-audit-export", ');
    const r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq 0: unreadable_file: manifest\.json/);
    expect(r.py).toMatch(/^FAIL at seq 0: unreadable_file: manifest\.json/);
  });

  it('hostile manifests get a verdict, not a crash: NaN, deep nesting, a non-string key id, a sloppy signature', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{"format": "gatehouse-audit-export", "version": 1, "files": [], "first_seq": NaN}', /^FAIL at seq 0: unreadable_file: manifest\.json/],
      [`{"format": "gatehouse-audit-export", "version": 1, "files": [], "x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`, /^FAIL at seq 0: unreadable_file: manifest\.json/],
    ];
    for (const [text, expected] of cases) {
      const c = await copy();
      await writeFile(join(c.out, 'manifest.json'), text);
      const r = await verifyBoth(c.out, publicKey);
      expect(r.js).toMatch(expected);
      expect(r.py).toMatch(expected);
    }
    const odd = await copy();
    odd.manifest.signature = { key_id: { not: 'a string' } as unknown as string, value: odd.manifest.signature!.value };
    await odd.save();
    let r = await verifyBoth(odd.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: unknown_key/);
    expect(r.py).toMatch(/^FAIL at seq \d+: unknown_key/);
    // The same signature with a line break in its base64: not the format the document fixes.
    const sloppy = await copy();
    const value = sloppy.manifest.signature!.value;
    sloppy.manifest.signature = { ...sloppy.manifest.signature!, value: `${value.slice(0, 40)}\n${value.slice(40)}` };
    await sloppy.save();
    r = await verifyBoth(sloppy.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: manifest_bad_signature/);
    expect(r.py).toMatch(/^FAIL at seq \d+: manifest_bad_signature/);
  });

  it('a symbolic link in the export directory: file_mismatch in both', async () => {
    const c = await copy();
    await symlink('/etc/hostname', join(c.out, 'notes.txt'));
    const r = await verifyBoth(c.out, publicKey);
    expect(r.js).toMatch(/^FAIL at seq \d+: file_mismatch: notes\.txt is not a regular file/);
    expect(r.py).toMatch(/^FAIL at seq \d+: file_mismatch: notes\.txt is not a regular file/);
  });

  it('timestamps are marked UTC: the same time filter selects the same rows in any session time zone', async () => {
    const { out, manifest } = await copy();
    const files = manifest.files.filter((f) => f.kind === 'records').map((f) => `'${join(out, f.path)}'`).join(', ');
    const types = await duck(`SELECT column_name, column_type FROM (DESCRIBE SELECT received_at, start_time, end_time FROM read_parquet([${files}], hive_partitioning = false))`);
    expect(types.map((t) => t[1])).toEqual(['TIMESTAMP WITH TIME ZONE', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP WITH TIME ZONE']);
    const counts: number[] = [];
    for (const zone of ['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati']) {
      const rows = await duck(`SET TimeZone = '${zone}';
        SELECT count(*) FROM read_parquet([${files}], hive_partitioning = false) WHERE start_time >= TIMESTAMPTZ '2025-01-15 10:00:00+00' AND start_time < TIMESTAMPTZ '2025-01-15 11:00:00+00'`);
      counts.push(Number(rows[0]?.[0]));
    }
    expect(counts).toEqual([20, 20, 20, 20]);
  });
});
