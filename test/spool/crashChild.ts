/**
 * Child process for the kill -9 test: 16 concurrent "requests" loop forever,
 * each ending a SERVER span and a CLIENT child span, awaiting durable(), then
 * printing the server span id it acknowledged. Usage: crashChild.ts DIR [fsync]
 */
import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { AuditSpool } from '../../proxy/spool/index.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: crashChild.ts DIR [fsync]');
const spool = new AuditSpool({ dir, maxBytes: 512 << 20, mode: 'required', segmentBytes: 256 << 10, fsync: process.argv[3] === 'fsync' });
const tracer = new BasicTracerProvider({ spanProcessors: [spool] }).getTracer('crash');
await spool.start();

async function serve(worker: number): Promise<never> {
  for (let n = 0; ; n++) {
    const server = tracer.startSpan('chat', {
      kind: SpanKind.SERVER,
      attributes: { 'gatehouse.audit': true, 'gatehouse.request.id': `w${worker}-${n}` },
    });
    tracer.startSpan('attempt', { kind: SpanKind.CLIENT }).end();
    server.end();
    await spool.durable();
    process.stdout.write(`${server.spanContext().spanId}\n`);
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: 16 }, (_, worker) => serve(worker)));
