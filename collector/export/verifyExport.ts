/**
 * `audit verify --dir`: checks an export directory the way docs/audit-format.md
 * (section 8) prescribes, stopping at the first failure:
 *  1. the manifest is signed by a trusted key (pinned with --public-key, else the
 *     manifest's own, with a note) and every file it lists exists with its sha256
 *     and size, and no other file is there;
 *  2. every data file is readable, and holds the rows, first_seq and last_seq the
 *     manifest states;
 *  3. the chain inside: every record re-hashed, links continuous, checkpoints signed
 *     by a trusted key, the last row signed; its ends match first_seq,
 *     first_prev_hash, last_seq and last_hash; records lie in the manifest's range
 *     (and tenant);
 *  4. tool_calls holds exactly the rows derived from the records' tool_calls.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { A } from '../../proxy/telemetry/attributes.js';
import { columnFor } from '../audit/columns.js';
import { manifestSignatureValid } from '../audit/signing.js';
import { toolCallsOf } from '../audit/toolCalls.js';
import { verifyChain, type Failure, type VerifyReport } from '../audit/verifyChain.js';
import { streamChainRowsFast, withChainRows } from '../store/chainRows.js';
import { sha256File } from './auditExport.js';
import { checkFiles, readManifest, UnreadableManifest, type Manifest, type ManifestFile } from './manifest.js';

function sqlList(paths: string[]): string {
  return `[${paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ')}]`;
}

export interface ExportVerifyReport extends VerifyReport { note?: string }

const TENANT = columnFor(A.tenant);
const REQUEST_ID = columnFor(A.requestId);
const TOOL_CALLS = columnFor(A.toolCalls);

function manifestFailure(manifest: Manifest, detail: string, seq?: number | null): Failure {
  return { seq: seq ?? manifest.first_seq ?? 0, reason: 'manifest_mismatch', detail };
}

/** Step 1a: the manifest's signature, by a trusted key. */
function checkSignature(manifest: Manifest, keys: ReadonlyMap<string, string>): Failure | undefined {
  const seq = manifest.first_seq ?? 0;
  const signature = manifest.signature;
  if (signature === undefined || signature === null || typeof signature !== 'object') {
    return { seq, reason: 'manifest_unsigned', detail: 'manifest.json carries no signature' };
  }
  const pem = keys.get(signature.key_id);
  if (pem === undefined) return { seq, reason: 'unknown_key', detail: `manifest.json is signed by an untrusted key ${String(signature.key_id)}` };
  if (!manifestSignatureValid(manifest, signature, pem)) {
    return { seq, reason: 'manifest_bad_signature', detail: 'manifest.json does not match its signature (the manifest was edited)' };
  }
  return undefined;
}

/** Step 2: every file readable, with the row count and seq range the manifest states. */
async function checkFileContents(connection: DuckDBConnection, dir: string, manifest: Manifest): Promise<Failure | undefined> {
  for (const f of manifest.files) {
    const path = join(dir, f.path).replace(/'/g, "''");
    let row: unknown[] | undefined;
    try {
      row = (await connection.runAndReadAll(`SELECT count(*), min(seq), max(seq) FROM read_parquet('${path}', hive_partitioning = false)`)).getRows()[0];
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      return { seq: f.first_seq ?? manifest.first_seq ?? 0, reason: 'unreadable_file', detail: `${f.path} cannot be read as Parquet (${reason})` };
    }
    const [rows, first, last] = (row ?? []).map((v) => (v === null || v === undefined ? null : Number(v)));
    if (rows !== f.rows || first !== f.first_seq || last !== f.last_seq) {
      return manifestFailure(manifest, `${f.path} holds ${rows} rows, seq ${first}..${last}; the manifest says ${f.rows} rows, seq ${f.first_seq}..${f.last_seq}`, f.first_seq);
    }
  }
  const total = (kind: ManifestFile['kind']): number => manifest.files.filter((f) => f.kind === kind).reduce((n, f) => n + f.rows, 0);
  for (const kind of ['records', 'chain_links', 'tool_calls'] as const) {
    if (manifest.rows?.[kind] !== total(kind)) return manifestFailure(manifest, `rows.${kind} is ${manifest.rows?.[kind]}, the files hold ${total(kind)}`);
  }
  return undefined;
}

/** Step 3b: the chain's ends and the records' range against the manifest. */
async function checkEnds(connection: DuckDBConnection, relation: string, records: string | undefined, manifest: Manifest, report: VerifyReport): Promise<Failure | undefined> {
  if (report.firstSeq !== (manifest.first_seq ?? undefined) || report.lastSeq !== (manifest.last_seq ?? undefined)) {
    return { seq: report.lastSeq ?? 0, reason: 'missing', detail: `the manifest covers seq ${manifest.first_seq}..${manifest.last_seq}, the files ${report.firstSeq}..${report.lastSeq}` };
  }
  if (report.firstSeq === undefined) return undefined;
  const ends = (await connection.runAndReadAll(`SELECT seq, prev_hash, hash FROM ${relation} WHERE seq IN (${report.firstSeq}, ${report.lastSeq}) ORDER BY seq`)).getRows();
  if (String(ends[0]?.[1]) !== manifest.first_prev_hash) {
    return { seq: report.firstSeq, reason: 'broken_link', detail: 'the first row does not link to the manifest\'s first_prev_hash' };
  }
  if (String(ends.at(-1)?.[2]) !== manifest.last_hash) {
    return manifestFailure(manifest, 'last_hash is not the hash of the row at last_seq', report.lastSeq);
  }
  if (records === undefined) return undefined;
  const from = Date.parse(manifest.range?.from ?? '');
  const to = Date.parse(manifest.range?.to ?? '');
  if (!Number.isFinite(from) || !Number.isFinite(to)) return manifestFailure(manifest, 'range.from and range.to must be RFC 3339 times');
  const tenant = manifest.range.tenant;
  const outside = (await connection.runAndReadAll(
    `SELECT min(seq) FROM ${records} WHERE epoch_us(received_at) < ${from * 1000} OR epoch_us(received_at) >= ${to * 1000}${
      tenant === null ? '' : ` OR ${TENANT} IS DISTINCT FROM '${tenant.replace(/'/g, "''")}'`}`,
  )).getRows()[0]?.[0];
  if (outside !== null && outside !== undefined) {
    return manifestFailure(manifest, `seq ${String(outside)} lies outside the manifest's range ${manifest.range.from}..${manifest.range.to}${tenant === null ? '' : ` for tenant ${tenant}`}`, Number(outside));
  }
  return undefined;
}

/** Step 4: tool_calls is exactly what the records' chained tool_calls column derives. */
async function checkToolCalls(connection: DuckDBConnection, records: string | undefined, toolCalls: string[]): Promise<Failure | undefined> {
  const expected = new Map<string, string>();
  if (records !== undefined) {
    const rows = await connection.runAndReadAll(
      `SELECT chain_id, seq, ${REQUEST_ID}, trace_id, span_id, epoch_us(start_time), ${TOOL_CALLS} FROM ${records} WHERE ${TOOL_CALLS} IS NOT NULL ORDER BY seq`,
    );
    for (const [chain, seq, request, trace, span, start, raw] of rows.getRows()) {
      toolCallsOf(raw).forEach((call, position) => {
        expected.set(`${String(seq)}/${position}`, JSON.stringify([chain, String(seq), request, trace, span, position, call.id, call.name, call.arguments, String(start)]));
      });
    }
  }
  const found = toolCalls.length === 0 ? [] : (await connection.runAndReadAll(
    `SELECT chain_id, seq, request_id, trace_id, span_id, position, call_id, name, arguments, epoch_us(start_time)
       FROM read_parquet(${sqlList(toolCalls)}) ORDER BY seq, position`,
  )).getRows();
  for (const [chain, seq, request, trace, span, position, id, name, args, start] of found) {
    const key = `${String(seq)}/${String(position)}`;
    const want = expected.get(key);
    const got = JSON.stringify([chain, String(seq), request, trace, span, Number(position), id, name, args, String(start)]);
    if (want === undefined) return { seq: Number(seq), reason: 'tool_calls_mismatch', detail: `tool_calls has a row (position ${String(position)}) that no chained record contains` };
    if (want !== got) return { seq: Number(seq), reason: 'tool_calls_mismatch', detail: `tool_calls row at position ${String(position)} differs from the chained record` };
    expected.delete(key);
  }
  const missing = [...expected.keys()][0];
  if (missing !== undefined) return { seq: Number(missing.split('/')[0]), reason: 'tool_calls_mismatch', detail: 'a tool call of a chained record is missing from tool_calls' };
  return undefined;
}

export async function verifyExport(dir: string, pinnedKeys?: ReadonlyMap<string, string>): Promise<ExportVerifyReport> {
  let manifest: Manifest;
  try {
    manifest = await readManifest(dir);
  } catch (error) {
    if (!(error instanceof UnreadableManifest)) throw error;
    return {
      ok: false, chainId: undefined, records: 0, links: 0, firstSeq: undefined, lastSeq: undefined, checkpointsVerified: 0, unsignedTail: 0,
      failure: { seq: 0, reason: 'unreadable_file', detail: error.message },
    };
  }
  const empty: ExportVerifyReport = {
    ok: false, chainId: manifest.chain_id, records: 0, links: 0, firstSeq: undefined, lastSeq: undefined,
    checkpointsVerified: 0, unsignedTail: 0,
  };
  const publicKeys = pinnedKeys ?? new Map((manifest.public_keys ?? []).map((k) => [k.key_id, k.pem]));
  const note = pinnedKeys === undefined ? 'trusted the public key in the manifest; pin the collector\'s key with --public-key' : undefined;
  const fail = (failure: Failure): ExportVerifyReport => ({ ...empty, failure, ...(note ? { note } : {}) });
  const early = checkSignature(manifest, publicKeys) ?? await checkFiles(dir, manifest, sha256File);
  if (early) return fail(early);
  if (manifest.file_format !== 'parquet') {
    return { ...empty, ok: true, records: manifest.rows.records, note: 'CSV export: the signed manifest and the files match; chain verification needs a Parquet export' };
  }
  const paths = (kind: ManifestFile['kind']): string[] => manifest.files.filter((f) => f.kind === kind).map((f) => join(dir, f.path));
  const [records, links, toolCalls] = [paths('records'), paths('chain_links'), paths('tool_calls')];
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const lookup = await instance.connect();
  try {
    const unreadable = await checkFileContents(connection, dir, manifest);
    if (unreadable) return fail(unreadable);
    const recordsRelation = records.length > 0 ? `read_parquet(${sqlList(records)}, hive_partitioning = false)` : undefined;
    let report: ExportVerifyReport = { ...empty, ok: true };
    if (records.length > 0 || links.length > 0) {
      const parts: string[] = [];
      if (recordsRelation) parts.push(`SELECT *, false AS _link FROM ${recordsRelation}`);
      if (links.length > 0) parts.push(`SELECT *, true AS _link FROM read_parquet(${sqlList(links)})`);
      const relation = `(${parts.join(' UNION ALL BY NAME ')})`;
      const ctx = { chainId: manifest.chain_id, checkpoints: manifest.checkpoints, publicKeys, acceptAnyStart: true, requireSignedEnd: true };
      // Records and links interleave by seq, so a tenant export is read sorted; a full export in stored (file) order.
      report = links.length > 0
        ? await verifyChain(streamChainRowsFast(connection, relation, lookup, { linkFlag: '_link', sorted: true }), ctx)
        : await withChainRows(connection, relation, lookup, { linkFlag: '_link' }, (rows) => verifyChain(rows, ctx));
      const failure = report.ok ? await checkEnds(connection, relation, recordsRelation, manifest, report) : undefined;
      if (failure) report = { ...report, ok: false, failure };
    } else if (manifest.first_seq !== null || manifest.last_seq !== null) {
      report = { ...empty, failure: manifestFailure(manifest, 'the manifest names a seq range, but the export holds no rows') };
    }
    if (report.ok) {
      const failure = await checkToolCalls(connection, recordsRelation, toolCalls);
      if (failure) report = { ...report, ok: false, failure };
    }
    if (note) report.note = note;
    return report;
  } finally {
    connection.closeSync();
    lookup.closeSync();
    instance.closeSync();
  }
}
