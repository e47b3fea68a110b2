/**
 * The spool's OTLP encoder writes exactly the bytes of the OpenTelemetry
 * serializer, for every attribute type, events, links, remote parents and status.
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import { encodeSpans } from '../../proxy/telemetry/otlpSpans.js';

function finishedSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'gatehouse', 'service.version': '0.1.0', 'host.cores': 2 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('gatehouse', '1.2.3');
  const other = provider.getTracer('another-scope');
  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true });
  const server = tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.SERVER, startTime: [1_700_000_000, 123_456_789] }, remoteParent);
  server.setAttributes({
    'gatehouse.audit': true,
    'gatehouse.request.id': 'a4b1c2d3-0000-4000-8000-000000000001',
    'http.response.status_code': 200,
    'gatehouse.cost.usd': 0.000123,
    'gen_ai.usage.input_tokens': 2 ** 40,
    'gatehouse.negative': -42,
    'gatehouse.big_negative': -(2 ** 45),
    'gatehouse.policy.reasons': ['one', 'two ünïcode', 'three'],
    'gatehouse.flags': [true, false],
    'gatehouse.numbers': [1, 2.5, -3],
    'gatehouse.text.unicode': 'héllo wörld — ✓',
    'gatehouse.text.long': 'x'.repeat(300),
    'gatehouse.text.empty': '',
    'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'y'.repeat(20_000) }] }]),
  });
  server.addEvent('gatehouse.target_skipped', { 'gatehouse.route.target': 'a/b' }, [1_700_000_000, 500]);
  server.addLink({ context: { traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'c7ad6b7169203331', traceFlags: TraceFlags.NONE, isRemote: true }, attributes: { why: 'retry' } });
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream_unavailable' });
  const child = tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT, attributes: { 'gatehouse.attempt.number': 1, 'server.port': 8080 } }, trace.setSpan(context.active(), server));
  child.end([1_700_000_001, 999_999_999]);
  server.end([4_102_444_800, 1]);
  other.startSpan('internal', { kind: SpanKind.INTERNAL }).end();
  return exporter.getFinishedSpans();
}

it('encodes spans byte for byte like the OpenTelemetry protobuf serializer', () => {
  const spans = finishedSpans();
  expect(spans).toHaveLength(3);
  const expected = ProtobufTraceSerializer.serializeRequest(spans)!;
  expect(Buffer.from(encodeSpans(spans)).equals(Buffer.from(expected))).toBe(true);
  // Twice: the scratch buffer and the key cache are reused.
  expect(Buffer.from(encodeSpans(spans)).equals(Buffer.from(expected))).toBe(true);
  expect(Buffer.from(encodeSpans([spans[0]!])).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest([spans[0]!])!))).toBe(true);
});

it('returns a copy the caller owns', () => {
  const spans = finishedSpans();
  const first = encodeSpans(spans);
  const snapshot = Buffer.from(first);
  encodeSpans([spans[2]!]);
  expect(Buffer.from(first).equals(snapshot)).toBe(true);
});
