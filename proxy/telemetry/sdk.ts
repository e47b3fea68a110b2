/**
 * The OpenTelemetry SDK setup: one tracer provider and one meter provider per
 * gateway (never global, so several gateways can live in one process), W3C trace
 * context + baggage propagation, OTLP/HTTP trace export configured by the standard
 * OTEL_EXPORTER_OTLP_* variables, and Prometheus metrics served on /metrics.
 * Only this folder imports the SDK packages.
 */
import { propagation, type Context, type Meter, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { CompositePropagator, ExportResultCode, W3CBaggagePropagator, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resources, metrics as sdkMetrics, tracing } from '@opentelemetry/sdk-node';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { GatewayMetrics } from './metrics.js';

type SpanProcessor = tracing.SpanProcessor;
type ReadableSpan = tracing.ReadableSpan;
type SpanExporter = tracing.SpanExporter;

export interface TelemetryOptions {
  serviceName: string;
  /** Extra processors (the durable audit spool, an in-memory exporter in tests). */
  spanProcessors?: SpanProcessor[];
  env?: NodeJS.ProcessEnv;
  /** Called once per exporter failure; never throws into a request. */
  onExportError?: (error: unknown) => void;
}

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

export class Telemetry {
  readonly tracer: Tracer;
  readonly meter: Meter;
  readonly metrics: GatewayMetrics;
  readonly otlpEnabled: boolean;
  private readonly tracerProvider: tracing.BasicTracerProvider;
  private readonly meterProvider: sdkMetrics.MeterProvider;
  private readonly prometheus: PrometheusExporter;
  private readonly propagator = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
  private stopped = false;

  constructor(options: TelemetryOptions) {
    const env = options.env ?? process.env;
    const resource = resources.resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? options.serviceName });
    this.prometheus = new PrometheusExporter({ preventServerStart: true });
    this.meterProvider = new sdkMetrics.MeterProvider({ resource, readers: [this.prometheus] });
    this.meter = this.meterProvider.getMeter('gatehouse');
    this.metrics = new GatewayMetrics(this.meter);
    const processors = [...(options.spanProcessors ?? [])];
    this.otlpEnabled = otlpConfigured(env);
    if (this.otlpEnabled) {
      const exporter = new CountingExporter(new OTLPTraceExporter({ url: tracesEndpoint(env) }), (error) => {
        this.metrics.exportFailures.add(1, { exporter: 'otlp' });
        options.onExportError?.(error);
      });
      processors.push(new tracing.BatchSpanProcessor(exporter));
    }
    this.tracerProvider = new tracing.BasicTracerProvider({ resource, spanProcessors: processors });
    this.tracer = this.tracerProvider.getTracer('gatehouse');
  }

  /** The client's trace context and baggage, continued rather than replaced. */
  extract(headers: IncomingHttpHeaders, base: Context): Context {
    if (headers.traceparent === undefined && headers.baggage === undefined) return base;
    return this.propagator.extract(base, headers, headerGetter);
  }

  /** Baggage of a context, for recording client context on the audit record. */
  baggage(context: Context): Record<string, string> | undefined {
    const bag = propagation.getBaggage(context);
    if (!bag) return undefined;
    const out: Record<string, string> = {};
    for (const [key, entry] of bag.getAllEntries()) out[key] = entry.value;
    return out;
  }

  serveMetrics(request: IncomingMessage, response: ServerResponse): void {
    this.prometheus.getMetricsRequestHandler(request, response);
  }

  async forceFlush(): Promise<void> {
    await this.tracerProvider.forceFlush();
  }

  /** Flushes and stops exporters; safe to call twice. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled([this.tracerProvider.shutdown(), this.meterProvider.shutdown()]);
  }
}

function otlpConfigured(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_TRACES_EXPORTER === 'none' || env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The traces URL from the standard variables (the signal-specific one is used as is). */
function tracesEndpoint(env: NodeJS.ProcessEnv): string {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (specific) return specific;
  return `${(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').replace(/\/$/, '')}/v1/traces`;
}

/** Counts failed exports so that a broken exporter is visible, and never throws. */
class CountingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.onFailure(result.error);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
