/**
 * The proxy's half of the audit trail: the durable spool every span is written to
 * before its response ends, and the shipper that sends the spool to the
 * collector. Built from the `audit` config section.
 */
import { join, resolve } from 'node:path';
import type { Meter } from '@opentelemetry/api';
import type { Config } from './config/schema.js';
import { log } from './log.js';
import { AuditSpool, SpoolShipper } from './spool/index.js';

export interface AuditTrail {
  spool: AuditSpool;
  shipper: SpoolShipper | undefined;
  start(): Promise<void>;
  /** Call after the tracer provider shut down (so its last spans are spooled). Safe twice. */
  shutdown(): Promise<void>;
}

/** Where the spool ships, and the ingest key that lets this instance write the audit trail. */
export interface CollectorTarget { url: string; token?: string }

export function collectorTargetOf(config: Config, env: NodeJS.ProcessEnv = process.env): CollectorTarget | undefined {
  const url = config.audit.collectorUrl;
  if (url === undefined) return undefined;
  const token = config.audit.collectorToken ?? (env.GATEHOUSE_INGEST_KEY || undefined);
  return token === undefined ? { url } : { url, token };
}

export function createAuditTrail(config: Config, collector: CollectorTarget | undefined = collectorTargetOf(config)): AuditTrail | undefined {
  const { audit } = config;
  if (!audit.enabled) return undefined;
  const spool = new AuditSpool({
    dir: resolve(audit.spoolDir ?? join(config.dataDir, 'spool')),
    maxBytes: audit.maxBytes,
    mode: audit.mode,
    fsync: audit.fsync,
    onError: (error) => log.error('audit spool', { error }),
  });
  const shipper = collector
    ? new SpoolShipper(spool, {
      endpoint: collector.url,
      ...(collector.token ? { headers: { authorization: `Bearer ${collector.token}` } } : {}),
      fsync: audit.fsync,
      onError: (error) => log.warn('audit shipper', { error }),
    })
    : undefined;
  let stopped: Promise<void> | undefined;
  return {
    spool,
    shipper,
    async start() {
      await spool.start();
      if (collector && !collector.token) {
        log.warn('no ingest key for the collector (audit.collectorToken or GATEHOUSE_INGEST_KEY): it will refuse this instance\'s records, which wait in the spool', { collector: collector.url });
      }
      if (shipper) await shipper.start();
      else log.warn('audit.collectorUrl is not set: audit records stay in the spool until a collector is configured', { spool: spool.dir });
    },
    shutdown: () =>
      (stopped ??= (async () => {
        await spool.shutdown();
        await shipper?.shutdown();
      })()),
  };
}

/** Publishes the spool's counters; `gatehouse.audit.spool.full` is the alarm. */
export function observeSpool(meter: Meter, spool: AuditSpool): void {
  const c = spool.counters;
  meter.createObservableGauge('gatehouse.audit.spool.bytes', { unit: 'By', description: 'Bytes of audit spool on disk' }).addCallback((r) => r.observe(c.bytesOnDisk));
  meter.createObservableGauge('gatehouse.audit.spool.full', { description: '1 while the audit spool is full' }).addCallback((r) => r.observe(c.full));
  meter.createObservableCounter('gatehouse.audit.spooled_spans', { description: 'Spans written to the spool' }).addCallback((r) => r.observe(c.spooledSpans));
  meter.createObservableCounter('gatehouse.audit.dropped_spans', { description: 'Spans the spool could not keep' }).addCallback((r) => r.observe(c.droppedSpans));
  meter.createObservableCounter('gatehouse.audit.shipped_spans', { description: 'Spans the collector acknowledged' }).addCallback((r) => r.observe(c.shippedSpans));
  meter.createObservableCounter('gatehouse.audit.ship_failures', { description: 'Failed shipments to the collector' }).addCallback((r) => r.observe(c.shipFailures));
}
