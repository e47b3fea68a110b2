/**
 * The export manifest (`manifest.json`) and its checks: every file listed
 * exists with the recorded sha256 and row count, and no unlisted data file
 * was added. See docs/audit-format.md, "Export".
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Checkpoint } from '../audit/signing.js';
import type { Failure } from '../audit/verifyChain.js';

export const MANIFEST_FILE = 'manifest.json';

export interface ManifestFile {
  path: string;
  kind: 'records' | 'chain_links' | 'tool_calls';
  sha256: string;
  bytes: number;
  rows: number;
  first_seq: number | null;
  last_seq: number | null;
}

export interface Manifest {
  format: 'gatehouse-audit-export';
  version: 1;
  export_id: string;
  created_at: string;
  chain_id: string;
  file_format: 'parquet' | 'csv';
  range: { from: string; to: string; tenant: string | null };
  first_seq: number | null;
  last_seq: number | null;
  first_prev_hash: string | null;
  last_hash: string | null;
  rows: { records: number; chain_links: number; tool_calls: number };
  files: ManifestFile[];
  checkpoints: Checkpoint[];
  public_keys: Array<{ key_id: string; pem: string }>;
}

export async function readManifest(dir: string): Promise<Manifest> {
  const parsed = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as Manifest;
  if (parsed.format !== 'gatehouse-audit-export') throw new Error(`${dir}/${MANIFEST_FILE} is not a Gatehouse audit export manifest`);
  return parsed;
}

/** Compares the directory with the manifest; `hashFile` computes a file's sha256. */
export async function checkFiles(dir: string, manifest: Manifest, hashFile: (path: string) => Promise<string>): Promise<Failure | undefined> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const present = new Set(entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/')));
  present.delete(MANIFEST_FILE);
  for (const f of manifest.files) {
    const seq = f.first_seq ?? manifest.first_seq ?? 0;
    if (!present.delete(f.path)) return { seq, reason: 'file_mismatch', detail: `${f.path} is listed in the manifest but missing` };
    if ((await hashFile(join(dir, f.path))) !== f.sha256) {
      return { seq, reason: 'file_mismatch', detail: `${f.path} does not match its sha256 in the manifest` };
    }
  }
  const extra = [...present][0];
  if (extra !== undefined) return { seq: manifest.first_seq ?? 0, reason: 'file_mismatch', detail: `${extra} is not listed in the manifest` };
  return undefined;
}
