import { describe, expect, it } from 'vitest';
import { decodeProtobuf } from '../../collector/otlp/protobufDecoder.js';
import type { AttributeValue, ReceivedSpan } from '../../collector/otlp/spans.js';
import { ExportTraceServiceRequest, type LongLike, type PbAnyValue, type PbExportRequest, type PbKeyValue } from '../../collector/otlp/traceProto.js';

/** The reference: protobufjs' generic decode, converted the way the collector always has. */
function referenceDecode(body: Uint8Array): { spans: ReceivedSpan[]; rejected: number } {
  const hex = (b: Uint8Array | undefined): string => (b === undefined || b.length === 0 ? '' : Buffer.from(b).toString('hex'));
  const u64 = (v: LongLike | number | undefined): bigint =>
    v === undefined ? 0n : typeof v === 'number' ? BigInt(v) : (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  const any = (v: PbAnyValue | null | undefined): AttributeValue => {
    if (v === undefined || v === null) return null; // a KeyValue without a value (protobufjs: null)
    switch (v.value) {
      case 'stringValue': return v.stringValue ?? '';
      case 'boolValue': return v.boolValue ?? false;
      case 'intValue': return v.intValue === undefined ? 0 : typeof v.intValue === 'number' ? v.intValue : v.intValue.high * 4294967296 + (v.intValue.low >>> 0);
      case 'doubleValue': return v.doubleValue ?? 0;
      case 'arrayValue': return (v.arrayValue?.values ?? []).map(any);
      case 'kvlistValue': return Object.fromEntries((v.kvlistValue?.values ?? []).map((kv) => [kv.key, any(kv.value)]));
      case 'bytesValue': return Buffer.from(v.bytesValue ?? new Uint8Array()).toString('base64');
      default: return null;
    }
  };
  const attrs = (list: PbKeyValue[] | undefined): Map<string, AttributeValue> => new Map((list ?? []).map((kv) => [kv.key, any(kv.value)]));
  const request = ExportTraceServiceRequest.decode(body) as unknown as PbExportRequest;
  const spans: ReceivedSpan[] = [];
  let rejected = 0;
  for (const rs of request.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of [...(rs.scopeSpans ?? []), ...(rs.instrumentationLibrarySpans ?? [])]) {
      for (const s of ss.spans ?? []) {
        const traceId = hex(s.traceId);
        const spanId = hex(s.spanId);
        if (!/^[0-9a-f]{32}$/.test(traceId) || /^0+$/.test(traceId) || !/^[0-9a-f]{16}$/.test(spanId) || /^0+$/.test(spanId)) { rejected++; continue; }
        spans.push({
          traceId, spanId, parentSpanId: hex(s.parentSpanId), name: s.name ?? '', kind: s.kind ?? 0,
          startUnixNano: u64(s.startTimeUnixNano), endUnixNano: u64(s.endTimeUnixNano), attributes: attrs(s.attributes),
          statusCode: s.status?.code ?? 0, statusMessage: s.status?.message ?? '', resource, scopeName: ss.scope?.name ?? '',
        });
      }
    }
  }
  return { spans, rejected };
}

const b64 = (hexText: string): string => Buffer.from(hexText, 'hex').toString('base64');
const kv = (key: string, value: Record<string, unknown>): Record<string, unknown> => ({ key, value });

function span(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: b64(`${(i + 1).toString(16).padStart(2, '0')}${'ab'.repeat(15)}`), spanId: b64(`${'cd'.repeat(7)}${(i + 1).toString(16).padStart(2, '0')}`),
    parentSpanId: i % 2 ? b64('0102030405060708') : undefined, name: `span ${i} é`, kind: i % 6,
    startTimeUnixNano: '1736935200000123456', endTimeUnixNano: '18446744073709551615',
    attributes: [
      kv('s', { stringValue: 'plain' }), kv('u', { stringValue: 'ünïcødé 😀 and a much longer text that exceeds the short path' }),
      kv('empty', { stringValue: '' }), kv('b', { boolValue: true }), kv('f', { boolValue: false }),
      kv('i', { intValue: 123456789 }), kv('neg', { intValue: -42 }), kv('big', { intValue: '9007199254740993' }), kv('min', { intValue: '-9223372036854775808' }),
      kv('d', { doubleValue: 0.1 + 0.2 }), kv('dneg', { doubleValue: -1.5e-300 }), kv('bytes', { bytesValue: Buffer.from([0, 1, 2, 255]) }),
      kv('arr', { arrayValue: { values: [{ stringValue: 'x' }, { intValue: 7 }, {}, { arrayValue: { values: [{ boolValue: true }] } }] } }),
      kv('kv', { kvlistValue: { values: [kv('a', { doubleValue: 2.5 }), kv('__proto__', { stringValue: 'p' }), kv('a', { stringValue: 'later' })] } }),
      { key: 'novalue' }, kv('unset', {}), kv('s', { stringValue: 'duplicate key, later wins' }),
    ],
    events: [{ timeUnixNano: '1', name: 'ev', attributes: [kv('x', { stringValue: 'y' })] }],
    links: [{ traceId: b64('ab'.repeat(16)), spanId: b64('cd'.repeat(8)) }],
    droppedAttributesCount: 3, flags: 257, traceState: 'k=v',
    status: i % 3 === 0 ? { code: 2, message: 'boom' } : i % 3 === 1 ? { code: -1 } : undefined,
    ...extra,
  };
}

function encode(request: Record<string, unknown>): Uint8Array {
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(request)).finish();
}

describe('protobuf decoder', () => {
  it('decodes exactly what protobufjs decodes, for every kind of value and every message level', () => {
    const body = encode({
      resourceSpans: [
        {
          resource: { attributes: [kv('service.name', { stringValue: 'proxy' }), kv('service.instance.id', { stringValue: 'r1' })] },
          scopeSpans: [{ scope: { name: 'gatehouse', version: '1' }, spans: [span(0), span(1), span(2)] }, { spans: [span(3)] }],
          instrumentationLibrarySpans: [{ scope: { name: 'old-sdk' }, spans: [span(4)] }],
        },
        { scopeSpans: [{ scope: { name: 'other' }, spans: [span(5), span(6, { traceId: b64('00'.repeat(16)) }), span(7, { spanId: b64('abcd') })] }] },
        {},
      ],
    });
    const decoded = decodeProtobuf(body);
    const reference = referenceDecode(body);
    expect(decoded.rejected).toBe(2);
    expect(decoded.spans).toEqual(reference.spans);
    expect(decoded.spans.map((s) => s.attributes.get('kv'))).toEqual(reference.spans.map((s) => s.attributes.get('kv')));
    expect(decoded.spans[0]?.attributes.get('min')).toBe(-9223372036854775808);
  });

  it('reads fields in any order (a scope after its spans, a resource after its scopes)', () => {
    const one = encode({ resourceSpans: [{ resource: { attributes: [kv('service.name', { stringValue: 'late' })] }, scopeSpans: [{ scope: { name: 'late-scope' }, spans: [span(0)] }] }] });
    // Re-order: ExportTraceServiceRequest.resource_spans(1) { scope_spans(2) { spans(2), scope(1) }, resource(1) }
    const request = ExportTraceServiceRequest.decode(one) as unknown as PbExportRequest;
    const rs = request.resourceSpans[0];
    const ss = rs?.scopeSpans[0];
    if (rs === undefined || ss === undefined) throw new Error('fixture');
    const field = (no: number, payload: Uint8Array): Buffer => Buffer.concat([Buffer.from([(no << 3) | 2, payload.length]), payload].map((b) => Buffer.from(b)));
    const longField = (no: number, payload: Uint8Array): Buffer => {
      const len = payload.length;
      const head = len < 128 ? [len] : [(len & 0x7f) | 0x80, len >> 7];
      return Buffer.concat([Buffer.from([(no << 3) | 2, ...head]), Buffer.from(payload)]);
    };
    const Span = ExportTraceServiceRequest.root.lookupType('otlp.Span');
    const Scope = ExportTraceServiceRequest.root.lookupType('otlp.InstrumentationScope');
    const Resource = ExportTraceServiceRequest.root.lookupType('otlp.Resource');
    const spanBytes = Span.encode(Span.fromObject(span(0))).finish();
    const scopeSpans = Buffer.concat([longField(2, spanBytes), field(1, Scope.encode(Scope.fromObject({ name: 'late-scope' })).finish())]);
    const resource = Resource.encode(Resource.fromObject({ attributes: [kv('service.name', { stringValue: 'late' })] })).finish();
    const reordered = longField(1, Buffer.concat([longField(2, scopeSpans), field(1, resource)]));
    const decoded = decodeProtobuf(reordered);
    expect(decoded.spans).toHaveLength(1);
    expect(decoded.spans[0]?.scopeName).toBe('late-scope');
    expect(decoded.spans[0]?.resource.get('service.name')).toBe('late');
    expect(decoded.spans).toEqual(decodeProtobuf(one).spans);
  });

  it('throws on truncated or malformed bodies', () => {
    const body = encode({ resourceSpans: [{ scopeSpans: [{ spans: [span(0)] }] }] });
    expect(() => decodeProtobuf(body.subarray(0, body.length - 3))).toThrow();
    expect(() => decodeProtobuf(Buffer.from([0x0a, 0xff]))).toThrow();
    expect(() => decodeProtobuf(Buffer.from([0x0f]))).toThrow();
  });
});
