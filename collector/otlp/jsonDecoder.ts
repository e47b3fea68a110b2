/**
 * Decodes `application/json` OTLP trace exports (OTLP/JSON: lowerCamelCase keys,
 * hex trace/span ids, 64-bit integers as decimal strings or numbers, enums as
 * integers). Unknown fields are ignored, as the spec requires. Throws on a body
 * that is not JSON or whose shape is not an ExportTraceServiceRequest.
 */
import { storable, validId, type AttributeValue, type DecodedExport, type ReceivedSpan } from './spans.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function object(value: Json | undefined, path: string): JsonObject {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${path}: expected an object`);
  return value;
}

function array(value: Json | undefined, path: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TypeError(`${path}: expected an array`);
  return value;
}

function text(value: Json | undefined): string {
  return typeof value === 'string' ? value : '';
}

function enumValue(value: Json | undefined, names: Record<string, number>): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return names[value] ?? 0;
  return 0;
}

function nanos(value: Json | undefined, path: string): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  throw new TypeError(`${path}: expected a uint64`);
}

function anyValue(raw: Json | undefined): AttributeValue {
  const v = object(raw, 'value');
  if ('stringValue' in v) return text(v.stringValue);
  if ('boolValue' in v) return v.boolValue === true;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return typeof v.doubleValue === 'number' ? v.doubleValue : Number(v.doubleValue);
  if ('arrayValue' in v) return array(object(v.arrayValue, 'arrayValue').values, 'arrayValue.values').map(anyValue);
  if ('kvlistValue' in v) return attributeObject(object(v.kvlistValue, 'kvlistValue').values);
  if ('bytesValue' in v) return text(v.bytesValue);
  return null;
}

function attributeObject(list: Json | undefined): { [key: string]: AttributeValue } {
  const out: { [key: string]: AttributeValue } = {};
  for (const kv of array(list, 'attributes')) {
    const o = object(kv, 'attribute');
    out[text(o.key)] = anyValue(o.value);
  }
  return out;
}

function attributes(list: Json | undefined): Map<string, AttributeValue> {
  const map = new Map<string, AttributeValue>();
  for (const kv of array(list, 'attributes')) {
    const o = object(kv, 'attribute');
    map.set(text(o.key), anyValue(o.value));
  }
  return map;
}

function scopeSpansOf(rs: JsonObject): JsonObject[] {
  return [...array(rs.scopeSpans, 'scopeSpans'), ...array(rs.instrumentationLibrarySpans, 'instrumentationLibrarySpans')]
    .map((s) => object(s, 'scopeSpans[]'));
}

export function decodeJson(body: Uint8Array): DecodedExport {
  const request = object(JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as Json, 'request');
  const resourceSpans = array(request.resourceSpans, 'resourceSpans').map((rs) => object(rs, 'resourceSpans[]'));
  const spans: ReceivedSpan[] = [];
  let rejected = 0;
  for (const rs of resourceSpans) {
    const resource = attributes(object(rs.resource, 'resource').attributes);
    for (const ss of scopeSpansOf(rs)) {
      const scope = object(ss.scope ?? ss.instrumentationLibrary, 'scope');
      for (const raw of array(ss.spans, 'spans')) {
        const s = object(raw, 'span');
        const traceId = validId(text(s.traceId), 32);
        const spanId = validId(text(s.spanId), 16);
        if (traceId === undefined || spanId === undefined) {
          rejected++;
          continue;
        }
        const status = object(s.status, 'status');
        const span: ReceivedSpan = {
          traceId,
          spanId,
          parentSpanId: text(s.parentSpanId).toLowerCase(),
          name: text(s.name),
          kind: enumValue(s.kind, SPAN_KINDS),
          startUnixNano: nanos(s.startTimeUnixNano, 'startTimeUnixNano'),
          endUnixNano: nanos(s.endTimeUnixNano, 'endTimeUnixNano'),
          attributes: attributes(s.attributes),
          statusCode: enumValue(status.code, STATUS_CODES),
          statusMessage: text(status.message),
          resource,
          scopeName: text(scope.name),
        };
        if (storable(span)) spans.push(span);
        else rejected++;
      }
    }
  }
  return {
    spans,
    rejected,
    encodeWithout(keys) {
      for (const rs of resourceSpans) {
        for (const ss of scopeSpansOf(rs)) {
          for (const raw of array(ss.spans, 'spans')) {
            const s = object(raw, 'span');
            s.attributes = array(s.attributes, 'attributes').filter((kv) => !keys.has(text(object(kv, 'attribute').key)));
          }
        }
      }
      return Buffer.from(JSON.stringify(request));
    },
  };
}
