/**
 * The export manifest (`manifest.json`) and its checks: every file listed
 * exists with the recorded sha256 and row count, and no unlisted data file
 * was added. See docs/audit-format.md, "Export".
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Checkpoint, ManifestSignature } from '../audit/signing.js';
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
  /** Ed25519 over the canonical JSON of every other member (docs/audit-format.md, section 5). */
  signature?: ManifestSignature;
}

/** A manifest that cannot be read or is not one: verification fails at once, naming the file. */
export class UnreadableManifest extends Error {}

/** A manifest nests 3 levels; past this it is not one (and the Python verifier's parser would give up). */
export const MAX_MANIFEST_DEPTH = 32;

function deeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

export async function readManifest(dir: string): Promise<Manifest> {
  let parsed: Manifest;
  try {
    parsed = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch (error) {
    throw new UnreadableManifest(`${MANIFEST_FILE} cannot be read as JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (deeperThan(parsed, MAX_MANIFEST_DEPTH)) throw new UnreadableManifest(`${MANIFEST_FILE} nests deeper than ${MAX_MANIFEST_DEPTH} levels`);
  if (parsed === null || typeof parsed !== 'object' || parsed.format !== 'gatehouse-audit-export' || parsed.version !== 1 || !Array.isArray(parsed.files)) {
    throw new UnreadableManifest(`${MANIFEST_FILE} is not a Gatehouse audit export manifest (format gatehouse-audit-export, version 1)`);
  }
  return parsed;
}

/** Compares the directory with the manifest; `hashFile` computes a file's sha256. */
export async function checkFiles(dir: string, manifest: Manifest, hashFile: (path: string) => Promise<string>): Promise<Failure | undefined> {
  const sizes = new Map<string, number>();
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const present = new Set<string>();
  for (const e of entries) {
    const path = relative(dir, join(e.parentPath, e.name)).split('\\').join('/');
    if (e.isDirectory()) continue;
    // A symbolic link (to a file or a directory), socket or device is not part of an export.
    if (!e.isFile()) return { seq: manifest.first_seq ?? 0, reason: 'file_mismatch', detail: `${path} is not a regular file` };
    present.add(path);
    sizes.set(path, (await stat(join(e.parentPath, e.name))).size);
  }
  present.delete(MANIFEST_FILE);
  for (const f of manifest.files) {
    const seq = f.first_seq ?? manifest.first_seq ?? 0;
    if (!present.delete(f.path)) return { seq, reason: 'file_mismatch', detail: `${f.path} is listed in the manifest but missing` };
    if (sizes.get(f.path) !== f.bytes) return { seq, reason: 'file_mismatch', detail: `${f.path} is ${sizes.get(f.path)} bytes; the manifest says ${f.bytes}` };
    if ((await hashFile(join(dir, f.path))) !== f.sha256) {
      return { seq, reason: 'file_mismatch', detail: `${f.path} does not match its sha256 in the manifest` };
    }
  }
  const extra = [...present][0];
  if (extra !== undefined) return { seq: manifest.first_seq ?? 0, reason: 'file_mismatch', detail: `${extra} is not listed in the manifest` };
  return undefined;
}
