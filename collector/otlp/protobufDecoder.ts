/**
 * Decodes `application/x-protobuf` OTLP trace exports into ReceivedSpans.
 * Throws on a body that is not a valid ExportTraceServiceRequest.
 */
import {
  ExportTraceServiceRequest,
  type LongLike,
  type PbAnyValue,
  type PbExportRequest,
  type PbKeyValue,
  type PbScopeSpans,
} from './traceProto.js';
import { validId, type AttributeValue, type DecodedExport, type ReceivedSpan } from './spans.js';

function hex(bytes: Uint8Array | undefined): string {
  if (bytes === undefined || bytes.length === 0) return '';
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function unsigned64(value: LongLike | number | undefined): bigint {
  if (value === undefined) return 0n;
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}

function signed64(value: LongLike | number): number {
  if (typeof value === 'number') return value;
  return value.high * 4294967296 + (value.low >>> 0);
}

function anyValue(value: PbAnyValue | undefined): AttributeValue {
  if (value === undefined) return null;
  switch (value.value) {
    case 'stringValue': return value.stringValue ?? '';
    case 'boolValue': return value.boolValue ?? false;
    case 'intValue': return value.intValue === undefined ? 0 : signed64(value.intValue);
    case 'doubleValue': return value.doubleValue ?? 0;
    case 'arrayValue': return (value.arrayValue?.values ?? []).map(anyValue);
    case 'kvlistValue': return Object.fromEntries((value.kvlistValue?.values ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
    case 'bytesValue': return Buffer.from(value.bytesValue ?? new Uint8Array()).toString('base64');
    default: return null;
  }
}

function attributes(list: PbKeyValue[] | undefined): Map<string, AttributeValue> {
  const map = new Map<string, AttributeValue>();
  for (const kv of list ?? []) map.set(kv.key, anyValue(kv.value));
  return map;
}

export function decodeProtobuf(body: Uint8Array): DecodedExport {
  const message = ExportTraceServiceRequest.decode(body);
  const request = message as unknown as PbExportRequest;
  const spans: ReceivedSpan[] = [];
  let rejected = 0;
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    const scopes: PbScopeSpans[] = [...(rs.scopeSpans ?? []), ...(rs.instrumentationLibrarySpans ?? [])];
    for (const ss of scopes) {
      for (const s of ss.spans ?? []) {
        const traceId = validId(hex(s.traceId), 32);
        const spanId = validId(hex(s.spanId), 16);
        if (traceId === undefined || spanId === undefined) {
          rejected++;
          continue;
        }
        spans.push({
          traceId,
          spanId,
          parentSpanId: hex(s.parentSpanId),
          name: s.name ?? '',
          kind: s.kind ?? 0,
          startUnixNano: unsigned64(s.startTimeUnixNano),
          endUnixNano: unsigned64(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          statusCode: s.status?.code ?? 0,
          statusMessage: s.status?.message ?? '',
          resource,
          scopeName: ss.scope?.name ?? '',
        });
      }
    }
  }
  return {
    spans,
    rejected,
    encodeWithout(keys) {
      for (const rs of request.resourceSpans ?? []) {
        for (const ss of [...(rs.scopeSpans ?? []), ...(rs.instrumentationLibrarySpans ?? [])]) {
          for (const s of ss.spans ?? []) s.attributes = (s.attributes ?? []).filter((kv) => !keys.has(kv.key));
        }
      }
      return ExportTraceServiceRequest.encode(message).finish();
    },
  };
}
