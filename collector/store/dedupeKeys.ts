/**
 * De-duplication of audit spans, with ONE index key per record, derived from the
 * request id (`r:<id>`) when the span has one, else its trace and span id (`s:<trace><span>`).
 * The key's row also holds the span key (trace id + span id) that claimed it, so
 * a later span with the same key is told apart:
 *  - the same span key: the same span sent again (a replay): skipped;
 *  - another span key: a second record claiming that request id: recorded,
 *    flagged `duplicate_request_id`, never hidden.
 *
 * The index (DuckDB ART, about 40 bytes per key, held in memory) is what grows
 * with the trail, so keys are kept for a window (`dedupeDays`, default 7) and
 * pruned after it: a span sent again later than that would be recorded twice.
 * docs/operations.md ("Collector memory") states the cost.
 *
 * Optimistic first: a plain INSERT of every key, which fails if any exists; only
 * then (replays after an outage, or a claim) the slower checked path.
 */
import { hash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { A } from '../../proxy/telemetry/attributes.js';
import type { ReceivedSpan } from '../otlp/spans.js';

/**
 * `key` is the first 64 bits of SHA-256 over the key text: the index holds 8-byte
 * integers (about 40 bytes per key in DuckDB's ART, against ~90 for the text).
 * A collision can never drop a record: a key found with another span key makes
 * the span a flagged record, not a skipped one.
 */
export const DEDUPE_TABLE = `CREATE TABLE IF NOT EXISTS dedupe_keys (key UBIGINT PRIMARY KEY, span_key VARCHAR NOT NULL, day INTEGER NOT NULL)`;

/** What to do with one span. */
export type Verdict = 'record' | 'flag' | 'skip';

/** The optimistic insert failed (normally: a key was already there). */
export class KnownKeys extends Error {}

/** The span's request id when it can be a key: a string of 1..256 characters without control characters. */
function requestIdOf(span: ReceivedSpan): string | undefined {
  const id = span.attributes.get(A.requestId);
  return typeof id === 'string' && id.length > 0 && id.length <= 256 && !/[\u0000-\u001f]/.test(id) ? id : undefined;
}

/** The 64-bit key of a key text, as decimal digits (what DuckDB casts to UBIGINT). */
function digest(text: string): string {
  return hash('sha256', text, 'buffer').readBigUInt64BE(0).toString();
}

export function keyOf(span: ReceivedSpan): string {
  const requestId = requestIdOf(span);
  return digest(requestId === undefined ? `s:${span.traceId}${span.spanId}` : `r:${requestId}`);
}

function probeOf(span: ReceivedSpan): string {
  return digest(`s:${span.traceId}${span.spanId}`);
}

/** Days since the Unix epoch (UTC), the unit keys are pruned by. */
export function dayOf(ms: number): number {
  return Math.floor(ms / 86_400_000);
}

/**
 * Claims the keys of `spans` (in order) inside the caller's transaction and
 * says what to do with each span. 'optimistic' throws KnownKeys when any key
 * exists (the caller rolls back and calls again with 'checked').
 */
export async function claimKeys(connection: DuckDBConnection, spans: readonly ReceivedSpan[], mode: 'optimistic' | 'checked', day: number): Promise<Verdict[]> {
  if (spans.length === 0) return [];
  // Keys are digits and span keys lowercase hex, so tab and line feed separate them.
  const lines: string[] = new Array(spans.length);
  const keys: string[] = new Array(spans.length);
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    keys[i] = keyOf(span);
    lines[i] = `${keys[i]}\t${span.traceId}${span.spanId}`;
  }
  const list = lines.join('\n');
  const rows = `SELECT split_part(l, chr(9), 1)::UBIGINT AS key, split_part(l, chr(9), 2) AS span_key, $2::INTEGER AS day FROM (SELECT unnest(string_split($1, chr(10))) AS l)`;
  if (mode === 'optimistic') {
    await connection.run(`INSERT INTO dedupe_keys ${rows}`, [list, day]).catch((error: unknown) => {
      throw new KnownKeys('a dedupe key is already recorded', { cause: error });
    });
    return spans.map(() => 'record');
  }
  // Which span key holds each key: the stored one, or (for keys new in this batch) the first span that carries it.
  // A claimant recorded earlier (flagged) holds `s:<its span key>` too, so its own replay is skipped.
  const probes = spans.map(probeOf);
  const before = await connection.runAndReadAll(
    `SELECT key::VARCHAR, span_key FROM dedupe_keys WHERE key IN (SELECT unnest(string_split($1, chr(10)))::UBIGINT)`, [[...keys, ...probes].join('\n')],
  );
  const holder = new Map<string, string>();
  for (const [key, spanKey] of before.getRows()) holder.set(String(key), String(spanKey));
  const verdicts: Verdict[] = [];
  const claimants: string[] = [];
  const seenSpans = new Set<string>();
  spans.forEach((span, i) => {
    const spanKey = span.traceId + span.spanId;
    const key = keys[i]!;
    const held = holder.get(key);
    if (seenSpans.has(spanKey) || held === spanKey || holder.get(probes[i]!) === spanKey) return verdicts.push('skip');
    seenSpans.add(spanKey);
    if (held === undefined) {
      holder.set(key, spanKey);
      return verdicts.push('record');
    }
    claimants.push(`${probes[i]!}\t${spanKey}`);
    return verdicts.push('flag');
  });
  await connection.run(`INSERT INTO dedupe_keys ${rows} ON CONFLICT DO NOTHING`, [[list, ...claimants].join('\n'), day]);
  return verdicts;
}

/** Deletes keys older than `days` days before `today`; returns how many. */
export async function pruneKeys(connection: DuckDBConnection, today: number, days: number): Promise<number> {
  const reader = await connection.runAndReadAll(`DELETE FROM dedupe_keys WHERE day < $1::INTEGER RETURNING 1`, [today - days]);
  return reader.currentRowCount;
}
