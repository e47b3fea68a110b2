/**
 * The audit record's columns. Chain, identity and time columns are fixed; one
 * column per entry of AUDIT_ATTRIBUTES follows, derived from the attribute name
 * (`gatehouse.` dropped, dots become underscores: `gatehouse.tenant.id` ->
 * `tenant_id`, `gen_ai.request.model` -> `gen_ai_request_model`). Adding an
 * attribute to AUDIT_ATTRIBUTES adds a column to the store, exports and hash.
 */
import { AUDIT_ATTRIBUTES, type AttributeName, type AttributeType } from '../../proxy/telemetry/attributes.js';

export type ColumnType = 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'DECIMAL(38,12)' | 'BOOLEAN' | 'VARCHAR[]' | 'TIMESTAMP';

/** Exact money: 12 digits after the point (pico-USD), up to 26 before it. */
export const MONEY_TYPE = 'DECIMAL(38,12)';

export interface AuditColumn {
  name: string;
  type: ColumnType;
  /** The span attribute this column holds, for attribute columns. */
  attribute?: AttributeName;
  /** Message content: present only when captured; dropped when the collector is told not to store content. */
  content?: boolean;
}

const SQL_TYPE: Record<AttributeType, ColumnType> = {
  string: 'VARCHAR',
  int: 'BIGINT',
  double: 'DOUBLE',
  decimal: 'DECIMAL(38,12)',
  boolean: 'BOOLEAN',
  'string[]': 'VARCHAR[]',
};

export function columnNameOf(attribute: string): string {
  return attribute.replace(/^gatehouse\./, '').replace(/[^A-Za-z0-9_]/g, '_').toLowerCase();
}

const LEADING: AuditColumn[] = [
  { name: 'chain_id', type: 'VARCHAR' },
  { name: 'seq', type: 'BIGINT' },
  { name: 'prev_hash', type: 'VARCHAR' },
  { name: 'hash', type: 'VARCHAR' },
  { name: 'record_type', type: 'VARCHAR' },
  { name: 'received_at', type: 'TIMESTAMP' },
  { name: 'trace_id', type: 'VARCHAR' },
  { name: 'span_id', type: 'VARCHAR' },
  { name: 'parent_span_id', type: 'VARCHAR' },
  { name: 'span_name', type: 'VARCHAR' },
  { name: 'span_status', type: 'VARCHAR' },
  { name: 'start_time', type: 'TIMESTAMP' },
  { name: 'end_time', type: 'TIMESTAMP' },
  { name: 'service_name', type: 'VARCHAR' },
  { name: 'service_instance_id', type: 'VARCHAR' },
  { name: 'gateway_instance', type: 'VARCHAR' },
];

const TRAILING: AuditColumn[] = [
  { name: 'duplicate_request_id', type: 'BOOLEAN' },
  { name: 'attempts', type: 'VARCHAR' },
  { name: 'details', type: 'VARCHAR' },
];

const ATTRIBUTE_COLUMNS: AuditColumn[] = AUDIT_ATTRIBUTES.map((a) => ({
  name: columnNameOf(a.name),
  type: SQL_TYPE[a.type],
  attribute: a.name,
  ...(a.content ? { content: true } : {}),
}));

/** All columns of `audit_records`, in table order. */
export const AUDIT_COLUMNS: readonly AuditColumn[] = [...LEADING, ...ATTRIBUTE_COLUMNS, ...TRAILING];

{
  const seen = new Set<string>();
  for (const c of AUDIT_COLUMNS) {
    if (seen.has(c.name)) throw new Error(`audit column '${c.name}' is derived twice; rename the attribute in proxy/telemetry/attributes.ts`);
    seen.add(c.name);
  }
}

/** Columns covered by the record hash: every column except `hash`. */
export const HASHED_COLUMNS: readonly AuditColumn[] = AUDIT_COLUMNS.filter((c) => c.name !== 'hash');

/** Column name for a known attribute (throws for attributes outside AUDIT_ATTRIBUTES). */
export function columnFor(attribute: AttributeName): string {
  const column = ATTRIBUTE_COLUMNS.find((c) => c.attribute === attribute);
  if (column === undefined) throw new Error(`${attribute} is not an audit attribute`);
  return column.name;
}

export type RecordValue = string | number | boolean | null | string[];
/** One audit record: column name -> value. TIMESTAMP columns hold integer microseconds since the Unix epoch. */
export type AuditRecord = Record<string, RecordValue>;
