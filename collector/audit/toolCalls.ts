/**
 * The `tool_calls` table is derived from each record's chained `tool_calls`
 * column, by one rule (docs/audit-format.md, section 2) that the collector uses
 * to fill the table and the verifiers use to check an exported tool_calls file
 * against the records: parse the column as a JSON array; element i gives row
 * `position` = i, with `call_id` = its "id", `name` = its "name", and
 * `arguments` = its "arguments", each only when it is a JSON string (else NULL),
 * with any lone surrogate (a JSON escape such as "\ud800") replaced by U+FFFD,
 * as storage holds it. A value that is not a JSON array gives no rows.
 */
import { wellFormed } from './auditRecord.js';

export interface ToolCall { id: string | null; name: string | null; arguments: string | null }

function text(v: unknown): string | null {
  return typeof v === 'string' ? wellFormed(v) : null;
}

export function toolCallsOf(raw: unknown): ToolCall[] {
  if (typeof raw !== 'string' || raw === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.map((c: unknown) => {
    const call = (typeof c === 'object' && c !== null && !Array.isArray(c) ? c : {}) as Record<string, unknown>;
    return { id: text(call.id), name: text(call.name), arguments: text(call.arguments) };
  });
}
