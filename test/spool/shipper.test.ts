import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoolShipper, type SpoolShipperOptions } from '../../proxy/spool/index.js';
import { listSegments } from '../../proxy/spool/segmentFiles.js';
import { startSink, type OtlpSink } from './otlpSink.js';
import { resourceSpans, spanIds } from './otlpWire.js';
import { spooledTracer, tempDir, until, type SpooledTracer } from './spoolFixture.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const fast: Partial<SpoolShipperOptions> = { lingerMs: 5, minBackoffMs: 20, maxBackoffMs: 100, shutdownTimeoutMs: 1_000 };

async function sink(respond?: Parameters<typeof startSink>[0]): Promise<OtlpSink> {
  const started = await startSink(respond);
  cleanups.push(() => started.close());
  return started;
}

async function dir(): Promise<string> {
  const temp = await tempDir();
  cleanups.push(temp.remove);
  return temp.dir;
}

function tracer(spoolDir: string, options: Parameters<typeof spooledTracer>[0] | object = {}): SpooledTracer {
  const traced = spooledTracer({ ...options, dir: spoolDir });
  cleanups.push(() => traced.shutdown());
  return traced;
}

function shipper(traced: SpooledTracer, target: OtlpSink, options: Partial<SpoolShipperOptions> = {}): SpoolShipper {
  const started = new SpoolShipper(traced.spool, { ...fast, ...options, endpoint: target.url });
  cleanups.push(() => started.shutdown());
  return started;
}

const unique = (ids: string[]) => new Set(ids);

describe('SpoolShipper', () => {
  it('ships spooled spans as OTLP protobuf and deletes segments after a 2xx', async () => {
    const target = await sink();
    const spoolDir = await dir();
    const traced = tracer(spoolDir, { segmentBytes: 4096 });
    const ship = shipper(traced, target);
    await ship.start();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      ids.push(...traced.endRequests(5));
      await traced.spool.durable();
    }
    await until(() => unique(target.received).size === ids.length, 10_000, 'all spans shipped');
    expect(unique(target.received)).toEqual(unique(ids));
    expect(target.requests.every((r) => r.path === '/v1/traces' && r.contentType === 'application/x-protobuf')).toBe(true);
    await until(() => traced.spool.counters.shippedSpans === ids.length, 5_000, 'shipped counter');
    // Every closed segment is gone; only the open one may remain.
    await until(() => traced.spool.counters.bytesOnDisk <= 4096 + 2048, 5_000, 'segments deleted');
    expect((await listSegments(spoolDir)).length).toBeLessThanOrEqual(1);
    await access(join(spoolDir, 'cursor.json'));
  });

  it('retries a failing collector with backoff and loses nothing', async () => {
    const target = await sink((n) => ({ status: n < 4 ? 500 : 200 }));
    const traced = tracer(await dir());
    const ship = shipper(traced, target);
    await ship.start();
    const ids = traced.endRequests(50);
    await traced.spool.durable();
    await until(() => unique(target.received).size === ids.length, 10_000, 'all spans shipped');
    expect(unique(target.received)).toEqual(unique(ids));
    expect(traced.spool.counters.shipFailures).toBeGreaterThanOrEqual(4);
    expect(target.requests.filter((r) => r.status === 500)).toHaveLength(4);
  });

  it('sends smaller batches after a 413', async () => {
    const target = await sink((_n, body) => ({ status: resourceSpans(body).length > 2 ? 413 : 200 }));
    const traced = tracer(await dir());
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      ids.push(...traced.endRequests(2));
      await traced.spool.durable();
    }
    await shipper(traced, target).start();
    await until(() => unique(target.received).size === ids.length, 10_000, 'all spans shipped');
    expect(target.requests.some((r) => r.status === 413)).toBe(true);
  });

  it('honours Retry-After on 503', async () => {
    const target = await sink((n) => (n === 0 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
    const traced = tracer(await dir());
    const ship = shipper(traced, target);
    await ship.start();
    const ids = traced.endRequests(3);
    await traced.spool.durable();
    await until(() => unique(target.received).size === ids.length, 10_000, 'all spans shipped');
    const [first, second] = target.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
  });

  it('resumes from its cursor after a restart, and ships what an earlier run left unshipped', async () => {
    const spoolDir = await dir();
    const target = await sink();
    const first = spooledTracer({ dir: spoolDir });
    const firstShipper = new SpoolShipper(first.spool, { ...fast, endpoint: target.url });
    await firstShipper.start();
    const shippedBefore = first.endRequests(20);
    await first.spool.durable();
    await until(() => target.received.length === shippedBefore.length, 10_000, 'first batch shipped');
    await firstShipper.shutdown();
    // Spooled while no shipper runs: the process "dies" before shipping them.
    const leftBehind = first.endRequests(20);
    await first.spool.durable();
    await first.shutdown();

    const second = tracer(spoolDir);
    const ship = shipper(second, target);
    await ship.start();
    const fresh = second.endRequests(20);
    await second.spool.durable();
    const all = [...shippedBefore, ...leftBehind, ...fresh];
    await until(() => unique(target.received).size === all.length, 10_000, 'everything shipped');
    expect(unique(target.received)).toEqual(unique(all));
    // The cursor kept the first batch from being sent twice.
    expect(target.received).toHaveLength(all.length);
  });

  it('keeps shipping after a restart that follows a clean, fully shipped shutdown', async () => {
    const spoolDir = await dir();
    const target = await sink();
    const first = spooledTracer({ dir: spoolDir });
    const firstShipper = new SpoolShipper(first.spool, { ...fast, endpoint: target.url });
    await firstShipper.start();
    const before = first.endRequests(10);
    await first.shutdown(); // closes the active segment: the shipper may now delete every segment
    await until(() => target.received.length === before.length, 10_000, 'first run shipped');
    await until(() => first.spool.counters.bytesOnDisk === 0, 5_000, 'segments deleted');
    await firstShipper.shutdown();
    expect(await listSegments(spoolDir)).toEqual([]);

    const second = tracer(spoolDir);
    await shipper(second, target).start();
    const after = second.endRequests(10);
    await second.spool.durable();
    await until(() => target.received.length === before.length + after.length, 10_000, 'second run shipped');
    expect(unique(target.received)).toEqual(unique([...before, ...after]));
  });

  it('keeps everything on disk while the collector is down, then delivers it all', async () => {
    const spoolDir = await dir();
    let up = false;
    const target = await sink(() => ({ status: up ? 200 : 503 }));
    const traced = tracer(spoolDir, { segmentBytes: 8192 });
    const ship = shipper(traced, target);
    await ship.start();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      ids.push(...traced.endRequests(5));
      await traced.spool.durable();
    }
    await until(() => target.requests.length >= 3, 5_000, 'failed attempts');
    expect(target.received).toHaveLength(0);
    expect((await listSegments(spoolDir)).length).toBeGreaterThan(2);
    up = true;
    await until(() => unique(target.received).size === ids.length, 10_000, 'all spans shipped');
    expect(unique(target.received)).toEqual(unique(ids));
    // Frames waiting on disk were batched: one request carried several ExportTraceServiceRequests.
    expect(Math.max(...target.requests.map((r) => r.resourceSpans))).toBeGreaterThan(1);
  });

  it("lets a full 'required' spool accept requests again once shipped", async () => {
    let up = false;
    const target = await sink(() => ({ status: up ? 200 : 500 }));
    const traced = tracer(await dir(), { maxBytes: 64 << 10, segmentBytes: 8 << 10 });
    const ship = shipper(traced, target);
    await ship.start();
    while (traced.spool.accepting()) {
      traced.endRequests(10);
      await traced.spool.durable();
    }
    up = true;
    await until(() => traced.spool.accepting(), 10_000, 'spool accepting again');
  });

  it('shutdown is bounded when the collector never answers 2xx, safe twice and without start', async () => {
    const target = await sink(() => ({ status: 500 }));
    const traced = tracer(await dir());
    const idle = new SpoolShipper(traced.spool, { endpoint: target.url });
    await idle.shutdown();
    await idle.shutdown();
    const ship = shipper(traced, target, { shutdownTimeoutMs: 300 });
    await ship.start();
    traced.endRequests(5);
    await traced.spool.durable();
    await until(() => target.requests.length > 0, 5_000, 'an attempt');
    const began = Date.now();
    await ship.shutdown();
    await ship.shutdown();
    expect(Date.now() - began).toBeLessThan(1_000);
  });

  it('a concatenation of ExportTraceServiceRequests decodes as one request holding all resource spans', async () => {
    const serialize = (resource: string) => {
      const exporter = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': resource }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      });
      for (let i = 0; i < 3; i++) provider.getTracer('t').startSpan(`span-${i}`).end();
      return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
    };
    const a = serialize('proxy-a');
    const b = serialize('proxy-b');
    const merged = Buffer.concat([a, b]);
    expect(resourceSpans(merged)).toHaveLength(resourceSpans(a).length + resourceSpans(b).length);
    expect(resourceSpans(merged)).toHaveLength(2);
    expect(spanIds(merged)).toEqual([...spanIds(a), ...spanIds(b)]);
    expect(spanIds(merged)).toHaveLength(6);
  });
});
