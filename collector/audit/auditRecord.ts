/**
 * Turns gateway spans into audit records. A span is an audit record when its
 * attribute `gatehouse.audit` is true. Its CLIENT children (one per upstream
 * attempt) become the record's `attempts` JSON when they arrive in the same
 * export or shortly before it (see AttemptBuffer).
 */
import { decimalTextOf, formatUnits, parseDecimal, roundDecimal } from '../../proxy/cost/money.js';
import { A, AUDIT_MARKER } from '../../proxy/telemetry/attributes.js';
import { AUDIT_COLUMNS, columnFor, type AuditColumn, type AuditRecord, type RecordValue } from './columns.js';
import { CANONICAL_KEYS, canonicalIndex, type RecordValues } from './hashChain.js';
import type { AttributeValue, ReceivedSpan } from '../otlp/spans.js';

const STATUS = ['unset', 'ok', 'error'];
const ATTRIBUTE_COLUMNS = AUDIT_COLUMNS.filter((c) => c.attribute !== undefined);
/** Attribute columns with their position in the record values. */
const ATTRIBUTE_SLOTS = ATTRIBUTE_COLUMNS.map((column) => ({ column, attribute: column.attribute as string, slot: canonicalIndex(column.name) }));
const SLOT = {
  recordType: canonicalIndex('record_type'), receivedAt: canonicalIndex('received_at'), traceId: canonicalIndex('trace_id'),
  spanId: canonicalIndex('span_id'), parentSpanId: canonicalIndex('parent_span_id'), spanName: canonicalIndex('span_name'),
  spanStatus: canonicalIndex('span_status'), startTime: canonicalIndex('start_time'), endTime: canonicalIndex('end_time'),
  serviceName: canonicalIndex('service_name'), serviceInstanceId: canonicalIndex('service_instance_id'),
  gatewayInstance: canonicalIndex('gateway_instance'),
  attempts: canonicalIndex('attempts'), details: canonicalIndex('details'),
};

const SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The text as valid Unicode: a lone UTF-16 surrogate (possible in OTLP/JSON
 * input, never in UTF-8) becomes U+FFFD, which is what UTF-8 storage holds, so
 * the hashed value and the stored value are the same text.
 */
export function wellFormed(s: string): string {
  return SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\ufffd') : s;
}

export function isAuditSpan(span: ReceivedSpan): boolean {
  const marker = span.attributes.get(AUDIT_MARKER);
  return marker === true || marker === 'true';
}

/** Unix nanoseconds -> integer microseconds (truncated). */
export function micros(unixNano: bigint): number {
  return Number(unixNano / 1000n);
}

/**
 * Token counts above this are not counts (no model reads a billion tokens in one
 * request) and are stored as NULL, so that no sum of them in cost_rollups can
 * overflow its BIGINT.
 */
export const MAX_TOKENS = 1_000_000_000;
const TOKEN_COLUMNS = new Set([
  A.requestMaxTokens, A.inputTokens, A.outputTokens, A.cacheReadTokens, A.cacheWriteTokens,
].map((attribute) => columnFor(attribute)));

/** Amounts are below 10^15 USD in absolute value (10^27 units of 10^-12): any sum cost_rollups keeps fits DECIMAL(38,12). */
const MAX_AMOUNT_UNITS = 10n ** 27n;

function coerce(column: AuditColumn, v: AttributeValue | undefined): RecordValue {
  if (v === undefined || v === null) return null;
  switch (column.type) {
    case 'VARCHAR':
      return typeof v === 'string' ? wellFormed(v) : typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'BIGINT': {
      const n = typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && INTEGER.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n)) return null;
      return TOKEN_COLUMNS.has(column.name) && (n < 0 || n > MAX_TOKENS) ? null : n;
    }
    case 'DOUBLE': {
      const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
      return Number.isFinite(n) ? (Object.is(n, -0) ? 0 : n) : null;
    }
    case 'DECIMAL(38,12)':
      return exactAmount(v);
    case 'BOOLEAN':
      return typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : null;
    case 'VARCHAR[]':
      if (Array.isArray(v)) return v.filter((e) => e !== null).map((e) => (typeof e === 'string' ? wellFormed(e) : JSON.stringify(e)));
      return typeof v === 'string' ? [wellFormed(v)] : null;
    default:
      return null;
  }
}

/**
 * An amount as the store holds it: a decimal string with exactly 12 digits
 * after the point. A decimal string with more digits, or anything else, is not
 * an amount (null). A binary float (an older or foreign writer) is taken at its
 * shortest decimal digits, rounded half to even to 12 places.
 */
const INTEGER = /^-?\d+$/;

function exactAmount(v: AttributeValue): string | null {
  let units: bigint | undefined;
  if (typeof v === 'string') units = parseDecimal(v.trim());
  else if (typeof v === 'number' && Number.isFinite(v)) units = roundDecimal(decimalTextOf(v));
  if (units === undefined || units >= MAX_AMOUNT_UNITS || units <= -MAX_AMOUNT_UNITS) return null;
  return formatUnits(units);
}

function text(v: AttributeValue | undefined): string | null {
  return typeof v === 'string' ? wellFormed(v) : null;
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
  /** The gateway instance whose ingest key sent the span. */
  instance: string;
}

/** `record_type` values a gateway span may state (`gatehouse.record.type`); anything else is a `request`. */
export const SPAN_RECORD_TYPES: ReadonlySet<string> = new Set(['request', 'agent_status', 'tool_call', 'mcp', 'approval', 'prompt_deploy']);

function recordTypeOf(span: ReceivedSpan): string {
  const stated = span.attributes.get(A.recordType);
  return typeof stated === 'string' && SPAN_RECORD_TYPES.has(stated) ? stated : 'request';
}

/** The unchained record for an audit span, as values in CANONICAL_KEYS order (chain columns are filled by HashChain). */
export function requestValues(span: ReceivedSpan, attempts: Attempt[], receivedAt: number, options: RecordOptions): RecordValues {
  const values: RecordValues = new Array<RecordValue>(CANONICAL_KEYS.length).fill(null);
  values[SLOT.recordType] = recordTypeOf(span);
  values[SLOT.receivedAt] = receivedAt;
  values[SLOT.traceId] = span.traceId;
  values[SLOT.spanId] = span.spanId;
  values[SLOT.parentSpanId] = span.parentSpanId === '' ? null : wellFormed(span.parentSpanId);
  values[SLOT.spanName] = wellFormed(span.name);
  values[SLOT.spanStatus] = STATUS[span.statusCode] ?? 'unset';
  values[SLOT.startTime] = micros(span.startUnixNano);
  values[SLOT.endTime] = micros(span.endUnixNano);
  values[SLOT.serviceName] = text(span.resource.get('service.name'));
  values[SLOT.serviceInstanceId] = text(span.resource.get('service.instance.id'));
  values[SLOT.gatewayInstance] = options.instance;
  values[SLOT.attempts] = attempts.length === 0 ? null : wellFormed(JSON.stringify(attempts));
  const attributes = span.attributes;
  for (const { column, attribute, slot } of ATTRIBUTE_SLOTS) {
    if (column.content && !options.storeContent) continue;
    const v = attributes.get(attribute);
    if (v !== undefined && v !== null) values[slot] = coerce(column, v);
  }
  return values;
}

/** A chain record that is not a request (e.g. a retention deletion): only `details` and times are set. */
export function eventRecord(recordType: string, details: object, at: number): AuditRecord {
  const record: AuditRecord = { record_type: recordType, received_at: at, start_time: at, end_time: at, details: JSON.stringify(details) };
  for (const column of AUDIT_COLUMNS) if (!(column.name in record)) record[column.name] = null;
  return record;
}
