/** `audit export`, `audit verify`, `audit retention`, `audit public-key`. */
import { readFile } from 'node:fs/promises';
import { keyIdOf } from '../audit/signing.js';
import { describe } from '../audit/verifyChain.js';
import { verifyStore } from '../audit/verifyStore.js';
import { exportAudit } from '../export/auditExport.js';
import { applyRetention } from '../export/retention.js';
import { verifyExport } from '../export/verifyExport.js';
import { parse, parseCount, parseTime, STORE_OPTIONS, UsageError } from './arguments.js';
import { storeLocation, type CommandIO, type StoreHandle } from './commandIO.js';

async function withStore<T>(io: CommandIO, values: { db?: string; 'data-dir'?: string }, mode: 'read' | 'write', work: (s: StoreHandle) => Promise<T>): Promise<T> {
  const store = await io.store(storeLocation(values), mode);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export async function auditExportCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv, {
    ...STORE_OPTIONS, from: { type: 'string' }, to: { type: 'string' }, tenant: { type: 'string' },
    out: { type: 'string' }, format: { type: 'string' },
  });
  if (values.out === undefined) throw new UsageError('--out DIR is required');
  const format = values.format ?? 'parquet';
  if (format !== 'parquet' && format !== 'csv') throw new UsageError(`--format: '${format}'; use parquet or csv`);
  const from = parseTime(values.from, '--from', new Date(0));
  const to = parseTime(values.to, '--to', new Date());
  const out = values.out;
  const manifest = await withStore(io, values, 'write', async (s) => {
    const writer = s.writer;
    if (writer === undefined) throw new Error('export needs write access to the store');
    return writer.exclusive(() => exportAudit(s.db, writer, { from, to, tenant: values.tenant, outDir: out, format }, s.trustedKeys));
  });
  io.out(`exported ${manifest.rows.records} records (seq ${manifest.first_seq ?? '-'}..${manifest.last_seq ?? '-'}), ` +
    `${manifest.rows.chain_links} chain links, ${manifest.rows.tool_calls} tool calls, ${manifest.checkpoints.length} checkpoints to ${out}`);
  return 0;
}

async function pinnedKeys(files: string[] | undefined): Promise<Map<string, string> | undefined> {
  if (files === undefined || files.length === 0) return undefined;
  const keys = new Map<string, string>();
  for (const file of files) {
    const pem = await readFile(file, 'utf8');
    keys.set(keyIdOf(pem), pem);
  }
  return keys;
}

export async function auditVerifyCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv, { ...STORE_OPTIONS, dir: { type: 'string' }, 'public-key': { type: 'string', multiple: true } });
  const pinned = await pinnedKeys(values['public-key']);
  if (values.dir !== undefined) {
    const report = await verifyExport(values.dir, pinned);
    io.out(describe(report));
    if (report.note) io.err(`note: ${report.note}`);
    return report.ok ? 0 : 1;
  }
  const report = await withStore(io, values, 'read', (s) => verifyStore(s.db, pinned ?? s.trustedKeys));
  io.out(describe(report));
  return report.ok ? 0 : 1;
}

export async function auditRetentionCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv, { ...STORE_OPTIONS, days: { type: 'string' }, 'dry-run': { type: 'boolean' } });
  if (values.days === undefined) throw new UsageError('--days N is required');
  const days = parseCount(values.days, '--days', 0);
  const result = await withStore(io, values, 'write', (s) => {
    const writer = s.writer;
    if (writer === undefined) throw new Error('retention needs write access to the store');
    return writer.exclusive(() => applyRetention(s.db, writer, { days, dryRun: values['dry-run'] ?? false }));
  });
  for (const skipped of result.skipped) io.err(`skipped: ${skipped}`);
  if (result.deletedRows === 0) io.out('nothing to delete: no whole exported segment is older than the retention period');
  else io.out(`${values['dry-run'] ? 'would delete' : 'deleted'} ${result.deletedRows} records (seq ${result.fromSeq}..${result.toSeq}) ` +
    `in ${result.segments.length} exported segment(s)${result.record ? `; recorded as seq ${String(result.record.seq)}` : ''}`);
  return 0;
}

export async function auditPublicKeyCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv, STORE_OPTIONS);
  const pem = await withStore(io, values, 'read', async (s) => {
    const first = [...s.trustedKeys.values()][0];
    if (first === undefined) throw new Error(`no public key found in ${s.dataDir}`);
    return first;
  });
  io.out(pem.trimEnd());
  return 0;
}
