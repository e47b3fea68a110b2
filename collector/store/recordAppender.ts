/**
 * Appends chained audit records, and the tool calls they carry, with the
 * DuckDB Appender. Call inside the ingest transaction: the rows become visible
 * (and durable) only on COMMIT.
 */
import { LIST, VARCHAR, timestampValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { A } from '../../proxy/telemetry/attributes.js';
import { AUDIT_COLUMNS, columnFor, type AuditRecord, type RecordValue } from '../audit/columns.js';

const STRING_LIST = LIST(VARCHAR);
const TOOL_CALLS = columnFor(A.toolCalls);
const REQUEST_ID = columnFor(A.requestId);

function appendValue(appender: DuckDBAppender, type: string, v: RecordValue | undefined): void {
  if (v === null || v === undefined) {
    appender.appendNull();
    return;
  }
  switch (type) {
    case 'VARCHAR': appender.appendVarchar(String(v)); break;
    case 'BIGINT': appender.appendBigInt(BigInt(v as number)); break;
    case 'DOUBLE': appender.appendDouble(v as number); break;
    case 'BOOLEAN': appender.appendBoolean(v as boolean); break;
    case 'TIMESTAMP': appender.appendTimestamp(timestampValue(BigInt(v as number))); break;
    case 'VARCHAR[]': appender.appendList(v as string[], STRING_LIST); break;
    default: throw new Error(`unsupported column type ${type}`);
  }
}

/** Column order of the physical table (it may differ from AUDIT_COLUMNS after migrations). */
export async function tableColumns(connection: DuckDBConnection): Promise<Array<{ name: string; type: string }>> {
  const reader = await connection.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'audit_records' ORDER BY ordinal_position`,
  );
  const known = new Map(AUDIT_COLUMNS.map((c) => [c.name, c.type]));
  return reader.getRows().map((r) => ({ name: String(r[0]), type: known.get(String(r[0])) ?? String(r[1]) }));
}

export interface ToolCall { id: string | null; name: string | null; arguments: string | null }

/** The `gatehouse.tool_calls` JSON array of a record; malformed JSON yields no rows (the raw text stays in the record). */
export function toolCallsOf(record: AuditRecord): ToolCall[] {
  const raw = record[TOOL_CALLS];
  if (typeof raw !== 'string' || raw === '') return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return [];
    return parsed.map((c: unknown) => {
      const call = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
      const args = call.arguments;
      return {
        id: typeof call.id === 'string' ? call.id : null,
        name: typeof call.name === 'string' ? call.name : null,
        arguments: args === undefined || args === null ? null : typeof args === 'string' ? args : JSON.stringify(args),
      };
    });
  } catch {
    return [];
  }
}

export async function appendRecords(
  connection: DuckDBConnection,
  columns: ReadonlyArray<{ name: string; type: string }>,
  records: readonly AuditRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const appender = await connection.createAppender('audit_records');
  for (const record of records) {
    for (const c of columns) appendValue(appender, c.type, record[c.name]);
    appender.endRow();
  }
  appender.flushSync();
  appender.closeSync();

  let calls: DuckDBAppender | undefined;
  for (const record of records) {
    const list = toolCallsOf(record);
    if (list.length === 0) continue;
    calls ??= await connection.createAppender('tool_calls');
    list.forEach((call, position) => {
      const a = calls as DuckDBAppender;
      appendValue(a, 'VARCHAR', record.chain_id);
      appendValue(a, 'BIGINT', record.seq);
      appendValue(a, 'VARCHAR', record[REQUEST_ID]);
      appendValue(a, 'VARCHAR', record.trace_id);
      appendValue(a, 'VARCHAR', record.span_id);
      a.appendInteger(position);
      appendValue(a, 'VARCHAR', call.id);
      appendValue(a, 'VARCHAR', call.name);
      appendValue(a, 'VARCHAR', call.arguments);
      appendValue(a, 'TIMESTAMP', record.start_time);
      a.endRow();
    });
  }
  if (calls !== undefined) {
    calls.flushSync();
    calls.closeSync();
  }
}
