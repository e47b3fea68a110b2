/**
 * The record hash and the chain. `hash` = lowercase hex SHA-256 of the UTF-8
 * bytes of the RFC 8785 (JCS) canonical JSON of the record's hashed columns
 * (every column but `hash`, with `prev_hash` among them, which chains it).
 * NULL columns are omitted, so adding a column to the schema leaves the hashes
 * of older records unchanged.
 *
 * The records are flat (values are strings, finite numbers, booleans, null or
 * arrays of strings), so JCS reduces to: keys sorted by UTF-16 code units
 * (here: ASCII column names), no whitespace, strings and numbers serialised as
 * ECMAScript JSON.stringify does. `canonicalJson` implements exactly that for
 * speed (about 10x faster than the general `canonicalize` package, which the
 * tests use as the reference); docs/audit-format.md is the normative text.
 */
import { hash } from 'node:crypto';
import { HASHED_COLUMNS, type AuditRecord, type RecordValue } from './columns.js';

export const GENESIS_HASH = '0'.repeat(64);

const SORTED_KEYS = HASHED_COLUMNS.map((c) => c.name).sort();
const PREFIXES = SORTED_KEYS.map((k) => `"${k}":`);
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function value(v: RecordValue): string {
  if (typeof v === 'string') return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError('audit records cannot hold NaN or Infinity');
    return JSON.stringify(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
}

/** RFC 8785 canonical JSON of a record's hashed columns; null and missing columns are left out. */
export function canonicalJson(record: AuditRecord): string {
  let out = '{';
  for (let i = 0; i < SORTED_KEYS.length; i++) {
    const v = record[SORTED_KEYS[i] as string];
    if (v === null || v === undefined) continue;
    if (out.length > 1) out += ',';
    out += PREFIXES[i] + value(v);
  }
  return `${out}}`;
}

export function recordHash(record: AuditRecord): string {
  return hash('sha256', canonicalJson(record), 'hex');
}

/** The head of one chain. `append` is the only way records get `seq`, `prev_hash` and `hash`. */
export class HashChain {
  constructor(
    readonly chainId: string,
    private seq: number,
    private head: string,
  ) {}

  get lastSeq(): number { return this.seq; }
  get lastHash(): string { return this.head; }

  /** Assigns chain_id, seq, prev_hash and hash to `record` (mutating it) and advances the head. */
  append(record: AuditRecord): AuditRecord {
    record.chain_id = this.chainId;
    record.seq = this.seq + 1;
    record.prev_hash = this.head;
    const h = recordHash(record);
    record.hash = h;
    this.seq += 1;
    this.head = h;
    return record;
  }

  /** Restores the head after a failed transaction. */
  reset(seq: number, head: string): void {
    this.seq = seq;
    this.head = head;
  }
}
