import { context, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as HttpExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { A, AUDIT_MARKER } from '../../proxy/telemetry/attributes.js';
import { startTestCollector, TEST_AUTH, withTempDir } from './support.js';

async function emitWith(makeExporter: (url: string) => SpanExporter): Promise<Array<Record<string, unknown>>> {
  return withTempDir(async (dir) => {
    const collector = await startTestCollector({ dataDir: dir, port: 0 });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'plain-sdk-app', 'service.instance.id': 'replica-1' }),
      spanProcessors: [new BatchSpanProcessor(makeExporter(collector.tracesUrl))],
    });
    const tracer = provider.getTracer('test');
    tracer.startActiveSpan('chat gpt-4o', { kind: SpanKind.SERVER }, (span) => {
      span.setAttributes({
        [AUDIT_MARKER]: true, [A.requestId]: 'sdk-req-1', [A.tenant]: 'acme', [A.user]: 'bob',
        [A.inputTokens]: 7, [A.costUsd]: 0.25, [A.finishReasons]: ['stop', 'length'], [A.requestStream]: true,
      });
      const child = tracer.startSpan(
        'upstream',
        { kind: SpanKind.CLIENT, attributes: { [A.attemptNumber]: 1, [A.attemptOutcome]: 'ok' } },
        trace.setSpan(context.active(), span),
      );
      child.end();
      span.end();
    });
    tracer.startSpan('unrelated').end();
    await provider.forceFlush();
    await provider.shutdown();
    const rows = await collector.store.db.query(
      `SELECT request_id, tenant_id, user_id, gen_ai_usage_input_tokens AS input, cost_usd, gen_ai_response_finish_reasons AS reasons,
              gen_ai_request_stream AS stream, service_name, service_instance_id, gateway_instance, span_name, attempts IS NOT NULL AS has_attempts,
              end_time >= start_time AS ordered
         FROM audit_records`,
    );
    await collector.stop();
    return rows;
  });
}

const expected = {
  request_id: 'sdk-req-1', tenant_id: 'acme', user_id: 'bob', input: 7, cost_usd: '0.250000000000', reasons: ['stop', 'length'], stream: true,
  service_name: 'plain-sdk-app', service_instance_id: 'replica-1', gateway_instance: 'test-gateway', span_name: 'chat gpt-4o', has_attempts: true, ordered: true,
};

describe('spans from the plain OpenTelemetry JS SDK', () => {
  it('are received from the protobuf exporter (gzip)', async () => {
    const rows = await emitWith((url) => new ProtoExporter({ url, compression: 'gzip' as never, headers: TEST_AUTH }));
    expect(rows).toEqual([expected]);
  });

  it('are received from the JSON exporter', async () => {
    const rows = await emitWith((url) => new HttpExporter({ url, headers: TEST_AUTH }));
    expect(rows).toEqual([expected]);
  });
});
