/**
 * Appends chained audit records, and the tool calls they carry. Call inside
 * the ingest transaction: the rows become visible (and durable) only on COMMIT.
 *
 * A batch crosses into DuckDB as ONE bound value: every record's canonical
 * JSON (the exact text that was hashed) plus its hash, one per line; one
 * prepared INSERT ... SELECT turns the lines into columns with DuckDB's JSON
 * reader (timestamps from their integer microseconds). That is one native call
 * per batch, and the column conversion runs on DuckDB's threads, not on the
 * event loop. (The DuckDB Appender was measured at ~27 us of event-loop CPU per
 * row even with appendDataChunk, one native call per string value: over the
 * 20,000 records/s budget on its own.)
 * Rows are inserted in seq order (DuckDB keeps insertion order), which keeps
 * the table physically sorted by seq; nothing relies on that for correctness.
 * The stored values are those of the canonical JSON, so the stored row hashes
 * to `hash` (verify re-checks that; test: chain.test.ts).
 */
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { A } from '../../proxy/telemetry/attributes.js';
import { AUDIT_COLUMNS, columnFor } from '../audit/columns.js';
import { canonicalIndex, type ChainedRecord } from '../audit/hashChain.js';
import { toolCallsOf } from '../audit/toolCalls.js';

const JSON_TYPE: Record<string, string> = { TIMESTAMP: 'BIGINT' };

const quoted = (name: string): string => `"${name}"`;
const RECORD_STRUCT = `{${AUDIT_COLUMNS.map((c) => `"${c.name}":"${JSON_TYPE[c.type] ?? c.type}"`).join(',')}}`;
const INSERT_RECORDS = `INSERT INTO audit_records (${AUDIT_COLUMNS.map((c) => quoted(c.name)).join(', ')})
  SELECT ${AUDIT_COLUMNS.map((c) => (c.type === 'TIMESTAMP' ? `make_timestamp(r.${quoted(c.name)})` : `r.${quoted(c.name)}`)).join(', ')}
  FROM (SELECT from_json(unnest(string_split($1, chr(10))), '${RECORD_STRUCT}') AS r)`;

const TOOL_CALL_STRUCT = `{"chain_id":"VARCHAR","seq":"BIGINT","request_id":"VARCHAR","trace_id":"VARCHAR","span_id":"VARCHAR",
  "position":"INTEGER","call_id":"VARCHAR","name":"VARCHAR","arguments":"VARCHAR","start_time":"BIGINT"}`.replace(/\s+/g, '');
const INSERT_TOOL_CALLS = `INSERT INTO tool_calls (chain_id, seq, request_id, trace_id, span_id, position, call_id, name, arguments, start_time)
  SELECT r.chain_id, r.seq, r.request_id, r.trace_id, r.span_id, r.position, r.call_id, r.name, r.arguments, make_timestamp(r.start_time)
  FROM (SELECT from_json(unnest(string_split($1, chr(10))), '${TOOL_CALL_STRUCT}') AS r)`;

const SLOT = {
  chainId: canonicalIndex('chain_id'), requestId: canonicalIndex(columnFor(A.requestId)), traceId: canonicalIndex('trace_id'),
  spanId: canonicalIndex('span_id'), startTime: canonicalIndex('start_time'), toolCalls: canonicalIndex(columnFor(A.toolCalls)),
};

const statements = new WeakMap<DuckDBConnection, DuckDBPreparedStatement>();

/** One staged line: the record's canonical JSON with its hash added (a JSON object either way). */
function lineOf(record: ChainedRecord): string {
  return `${record.canonical.slice(0, -1)},"hash":"${record.hash}"}`;
}

export async function appendRecords(connection: DuckDBConnection, records: readonly ChainedRecord[]): Promise<void> {
  if (records.length === 0) return;
  let insert = statements.get(connection);
  if (insert === undefined) {
    insert = await connection.prepare(INSERT_RECORDS);
    statements.set(connection, insert);
  }
  // Canonical JSON has no raw line breaks (JSON escapes them), so '\n' separates the lines.
  insert.bindVarchar(1, records.map(lineOf).join('\n'));
  await insert.run();

  const calls: string[] = [];
  for (const { values, seq } of records) {
    const list = toolCallsOf(values[SLOT.toolCalls]);
    list.forEach((call, position) => calls.push(JSON.stringify({
      chain_id: values[SLOT.chainId], seq, request_id: values[SLOT.requestId], trace_id: values[SLOT.traceId],
      span_id: values[SLOT.spanId], position, call_id: call.id, name: call.name, arguments: call.arguments, start_time: values[SLOT.startTime],
    })));
  }
  if (calls.length > 0) await connection.run(INSERT_TOOL_CALLS, [calls.join('\n')]);
}
