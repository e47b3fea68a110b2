/**
 * Reads one file out of the `.tar.gz` bundle that `opa build` writes (ustar
 * entries, as Go's archive/tar produces them). Only what the policy build needs:
 * regular files, by name.
 */
import { gunzipSync } from 'node:zlib';

const BLOCK = 512;

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** The bytes of `name` (leading "/" ignored) in the gzipped tar, or undefined when absent. */
export function fileFromBundle(bundle: Uint8Array, name: string): Uint8Array | undefined {
  const wanted = name.replace(/^\/+/, '');
  const tar = gunzipSync(bundle);
  let longName: string | undefined;
  for (let offset = 0; offset + BLOCK <= tar.length; ) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156]!);
    const prefix = field(header, 345, 155);
    const entryName = longName ?? (prefix === '' ? field(header, 0, 100) : `${prefix}/${field(header, 0, 100)}`);
    const body = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    longName = undefined;
    if (type === 'L') longName = body.toString('utf8').replace(/\0+$/, '');
    else if ((type === '0' || type === '\0') && entryName.replace(/^\/+/, '') === wanted) return new Uint8Array(body);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return undefined;
}
