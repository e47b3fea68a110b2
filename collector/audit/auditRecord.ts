/**
 * Turns gateway spans into audit records. A span is an audit record when its
 * attribute `gatehouse.audit` is true. Its CLIENT children (one per upstream
 * attempt) become the record's `attempts` JSON when they arrive in the same
 * export or shortly before it (see AttemptBuffer).
 */
import { AUDIT_MARKER } from '../../proxy/telemetry/attributes.js';
import { AUDIT_COLUMNS, type AuditColumn, type AuditRecord, type RecordValue } from './columns.js';
import type { AttributeValue, ReceivedSpan } from '../otlp/spans.js';

const STATUS = ['unset', 'ok', 'error'];
const ATTRIBUTE_COLUMNS = AUDIT_COLUMNS.filter((c) => c.attribute !== undefined);

export function isAuditSpan(span: ReceivedSpan): boolean {
  const marker = span.attributes.get(AUDIT_MARKER);
  return marker === true || marker === 'true';
}

/** Unix nanoseconds -> integer microseconds (truncated). */
export function micros(unixNano: bigint): number {
  return Number(unixNano / 1000n);
}

function coerce(column: AuditColumn, v: AttributeValue | undefined): RecordValue {
  if (v === undefined || v === null) return null;
  switch (column.type) {
    case 'VARCHAR':
      return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'BIGINT': {
      const n = typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' ? Number(v) : NaN;
      return Number.isSafeInteger(n) ? n : null;
    }
    case 'DOUBLE': {
      const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
      return Number.isFinite(n) ? (Object.is(n, -0) ? 0 : n) : null;
    }
    case 'BOOLEAN':
      return typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : null;
    case 'VARCHAR[]':
      if (Array.isArray(v)) return v.filter((e) => e !== null).map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
      return typeof v === 'string' ? [v] : null;
    default:
      return null;
  }
}

function text(v: AttributeValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

/** An upstream attempt as it appears in the `attempts` JSON. */
export interface Attempt {
  span_id: string;
  name: string;
  start_time: string;
  duration_ms: number;
  status: string;
  attributes: Record<string, AttributeValue>;
}

export function attemptOf(span: ReceivedSpan, contentKeys: ReadonlySet<string>): Attempt {
  const attributes: Record<string, AttributeValue> = {};
  for (const [k, v] of span.attributes) if (!contentKeys.has(k)) attributes[k] = v;
  return {
    span_id: span.spanId,
    name: span.name,
    start_time: new Date(micros(span.startUnixNano) / 1000).toISOString(),
    duration_ms: Number(span.endUnixNano - span.startUnixNano) / 1e6,
    status: STATUS[span.statusCode] ?? 'unset',
    attributes,
  };
}

export interface RecordOptions {
  /** false: content columns are stored as null (the proxy's capture mode still decides what arrives). */
  storeContent: boolean;
}

/** The unchained record for an audit span (chain columns are filled by HashChain). */
export function recordOf(span: ReceivedSpan, attempts: Attempt[], receivedAt: number, options: RecordOptions): AuditRecord {
  const record: AuditRecord = {
    record_type: 'request',
    received_at: receivedAt,
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: span.parentSpanId === '' ? null : span.parentSpanId,
    span_name: span.name,
    span_status: STATUS[span.statusCode] ?? 'unset',
    start_time: micros(span.startUnixNano),
    end_time: micros(span.endUnixNano),
    service_name: text(span.resource.get('service.name')),
    service_instance_id: text(span.resource.get('service.instance.id')),
    attempts: attempts.length === 0 ? null : JSON.stringify(attempts),
    details: null,
  };
  for (const column of ATTRIBUTE_COLUMNS) {
    record[column.name] = column.content && !options.storeContent ? null : coerce(column, span.attributes.get(column.attribute as string));
  }
  return record;
}

/** A chain record that is not a request (e.g. a retention deletion): only `details` and times are set. */
export function eventRecord(recordType: string, details: object, at: number): AuditRecord {
  const record: AuditRecord = { record_type: recordType, received_at: at, start_time: at, end_time: at, details: JSON.stringify(details) };
  for (const column of AUDIT_COLUMNS) if (!(column.name in record)) record[column.name] = null;
  return record;
}
