/**
 * Measures what the audit spool adds to a request: the time from ending the
 * request's spans to `durable()` resolving, with 1 and 64 concurrent requests,
 * with and without fsync. Run: node --import tsx test/spool/measureOverhead.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { AuditSpool } from '../../proxy/spool/index.js';

async function measure(concurrency: number, fsync: boolean, requests: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-spool-bench-'));
  const spool = new AuditSpool({ dir, maxBytes: 1 << 30, mode: 'required', fsync });
  const provider = new BasicTracerProvider({ spanProcessors: [spool] });
  const tracer = provider.getTracer('bench');
  await spool.start();
  const samples: number[] = [];
  let next = 0;
  const attributes = { 'gatehouse.audit': true, 'gatehouse.tenant.id': 'acme', 'gatehouse.user.id': 'u-1', 'gen_ai.request.model': 'gpt-4o-mini', 'gatehouse.cost.usd': 0.0012 };
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) {
        const server = tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.SERVER, attributes });
        tracer.startSpan('attempt', { kind: SpanKind.CLIENT }).end();
        const start = performance.now();
        server.end();
        await spool.durable();
        samples.push(performance.now() - start);
      }
    }),
  );
  const elapsed = performance.now() - began;
  const writes = spool.counters.writes;
  await provider.shutdown();
  await rm(dir, { recursive: true, force: true });
  samples.sort((a, b) => a - b);
  const pick = (q: number) => (samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0).toFixed(3);
  const mean = (samples.reduce((a, b) => a + b, 0) / samples.length).toFixed(3);
  return `concurrency=${String(concurrency).padStart(2)} fsync=${fsync ? 'on ' : 'off'} requests=${samples.length} ` +
    `durable() ms: mean ${mean} p50 ${pick(0.5)} p99 ${pick(0.99)} | ${Math.round(samples.length / (elapsed / 1000))} req/s, ` +
    `${writes} writes (${(samples.length / writes).toFixed(1)} requests per write)`;
}

for (const fsync of [false, true]) {
  for (const concurrency of [1, 64]) {
    await measure(concurrency, fsync, 500); // warm-up
    console.log(await measure(concurrency, fsync, fsync && concurrency === 1 ? 2_000 : 20_000));
  }
}
