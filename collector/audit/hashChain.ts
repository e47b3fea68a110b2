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

/** The hashed columns in canonical (sorted) key order. */
export const CANONICAL_KEYS: readonly string[] = HASHED_COLUMNS.map((c) => c.name).sort();
const PREFIXES = CANONICAL_KEYS.map((k) => `"${k}":`);
const INDEX = new Map(CANONICAL_KEYS.map((k, i) => [k, i]));
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Position of column `name` in CANONICAL_KEYS (throws for `hash` and unknown columns). */
export function canonicalIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new Error(`${name} is not a hashed audit column`);
  return i;
}

const CHAIN_ID = canonicalIndex('chain_id');
const SEQ = canonicalIndex('seq');
const PREV_HASH = canonicalIndex('prev_hash');

/**
 * A record as the values of its hashed columns in CANONICAL_KEYS order (null:
 * absent). The ingest path builds records in this form: it is cheaper to fill
 * and to serialise than an AuditRecord object with some 70 keys.
 */
export type RecordValues = RecordValue[];

function value(v: RecordValue): string {
  if (typeof v === 'string') return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError('audit records cannot hold NaN or Infinity');
    return JSON.stringify(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
}

/** RFC 8785 canonical JSON of record values (CANONICAL_KEYS order); nulls are left out. */
export function canonicalJsonOf(values: readonly RecordValue[]): string {
  let out = '{';
  for (let i = 0; i < PREFIXES.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    if (out.length > 1) out += ',';
    out += (PREFIXES[i] as string) + value(v);
  }
  return `${out}}`;
}

/** The values of a record object, in CANONICAL_KEYS order. */
export function valuesOf(record: AuditRecord): RecordValues {
  return CANONICAL_KEYS.map((k) => record[k] ?? null);
}

/** RFC 8785 canonical JSON of a record's hashed columns; null and missing columns are left out. */
export function canonicalJson(record: AuditRecord): string {
  return canonicalJsonOf(valuesOf(record));
}

export function recordHash(record: AuditRecord): string {
  return hash('sha256', canonicalJson(record), 'hex');
}

/** A record placed in the chain: its values (chain columns filled in), canonical JSON and hash. */
export interface ChainedRecord {
  values: RecordValues;
  seq: number;
  canonical: string;
  hash: string;
}

/** The head of one chain. `append`/`appendValues` are the only ways records get `seq`, `prev_hash` and `hash`. */
export class HashChain {
  constructor(
    readonly chainId: string,
    private seq: number,
    private head: string,
  ) {}

  get lastSeq(): number { return this.seq; }
  get lastHash(): string { return this.head; }

  /** Fills chain_id, seq and prev_hash into `values` (mutating it), hashes the record and advances the head. */
  appendValues(values: RecordValues): ChainedRecord {
    const seq = this.seq + 1;
    values[CHAIN_ID] = this.chainId;
    values[SEQ] = seq;
    values[PREV_HASH] = this.head;
    const canonical = canonicalJsonOf(values);
    const h = hash('sha256', canonical, 'hex');
    this.seq = seq;
    this.head = h;
    return { values, seq, canonical, hash: h };
  }

  /** Assigns chain_id, seq, prev_hash and hash to `record` (mutating it) and advances the head. */
  append(record: AuditRecord): AuditRecord {
    const chained = this.appendValues(valuesOf(record));
    record.chain_id = this.chainId;
    record.seq = chained.seq;
    record.prev_hash = chained.values[PREV_HASH] as string;
    record.hash = chained.hash;
    return record;
  }

  /** Restores the head after a failed transaction. */
  reset(seq: number, head: string): void {
    this.seq = seq;
    this.head = head;
  }
}
