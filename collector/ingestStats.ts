/**
 * What the collector's receiver saw, for `/healthz` and the Prometheus scrape
 * on `/metrics`: spans recorded per gateway instance, requests refused for want
 * of a valid ingest key (the sign of a forgery attempt or a misconfigured
 * replica), and records flagged for reusing a request id. Refusals are also
 * logged, at most once per minute per reason and client address.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { metrics as sdkMetrics, resources } from '@opentelemetry/sdk-node';
import type { Counter } from '@opentelemetry/api';
import { log } from '../proxy/log.js';

const LOG_EVERY_MS = 60_000;

export interface IngestSnapshot {
  records: number;
  duplicate_request_ids: number;
  refused_unauthenticated: number;
  /** Requests without a valid key that were forwarded (not recorded) in `--unauthenticated forward` mode. */
  forwarded_unauthenticated: number;
}

export class IngestStats {
  private readonly counts: IngestSnapshot = { records: 0, duplicate_request_ids: 0, refused_unauthenticated: 0, forwarded_unauthenticated: 0 };
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();
  private readonly prometheus = new PrometheusExporter({ preventServerStart: true });
  private readonly provider: sdkMetrics.MeterProvider;
  private readonly recorded: Counter;
  private readonly refusedCounter: Counter;
  private readonly duplicates: Counter;

  constructor() {
    this.provider = new sdkMetrics.MeterProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'gatehouse-collector' }),
      readers: [this.prometheus],
    });
    const meter = this.provider.getMeter('gatehouse-collector');
    this.recorded = meter.createCounter('gatehouse.collector.records', { description: 'Audit records added to the chain, by the gateway instance that sent them' });
    this.refusedCounter = meter.createCounter('gatehouse.collector.ingest.refused', { description: 'OTLP requests without a valid ingest key (never recorded), by reason' });
    this.duplicates = meter.createCounter('gatehouse.collector.duplicate_request_ids', { description: 'Records whose request id an earlier record already carried' });
  }

  snapshot(): IngestSnapshot {
    return { ...this.counts };
  }

  recordedFrom(instance: string, records: number, duplicateRequestIds: number): void {
    if (records > 0) {
      this.counts.records += records;
      this.recorded.add(records, { instance });
    }
    if (duplicateRequestIds > 0) {
      this.counts.duplicate_request_ids += duplicateRequestIds;
      this.duplicates.add(duplicateRequestIds, { instance });
      log.warn('collector: records reuse an existing request id (flagged duplicate_request_id)', { instance, records: duplicateRequestIds });
    }
  }

  refused(reason: 'missing' | 'unknown', req: IncomingMessage, forwarded: boolean): void {
    if (forwarded) this.counts.forwarded_unauthenticated++;
    else this.counts.refused_unauthenticated++;
    this.refusedCounter.add(1, { reason, action: forwarded ? 'forwarded' : 'refused' });
    const client = req.socket.remoteAddress ?? 'unknown';
    const key = `${reason}|${client}`;
    const now = Date.now();
    const last = this.lastLogged.get(key);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.suppressed++;
      return;
    }
    if (this.lastLogged.size > 1_000) this.lastLogged.clear();
    this.lastLogged.set(key, { at: now, suppressed: 0 });
    log.warn(forwarded ? 'collector: spans without a valid ingest key were forwarded, not recorded' : 'collector: refused spans without a valid ingest key', {
      reason, client, userAgent: req.headers['user-agent']?.slice(0, 128), similarSinceLastLog: last?.suppressed ?? 0,
    });
  }

  serveMetrics(req: IncomingMessage, res: ServerResponse): void {
    this.prometheus.getMetricsRequestHandler(req, res);
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown().catch(() => undefined);
  }
}
