/**
 * Shared setup for spool tests: a temp directory, a tracer provider whose only
 * processor is an AuditSpool, and a way to end gateway-like spans.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { AuditSpool, type AuditSpoolOptions } from '../../proxy/spool/index.js';

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-spool-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface SpooledTracer {
  spool: AuditSpool;
  provider: BasicTracerProvider;
  tracer: Tracer;
  /** Ends `count` request spans (a SERVER span with one CLIENT child each) now; returns their span ids. */
  endRequests(count: number): string[];
  shutdown(): Promise<void>;
}

export function spooledTracer(options: Partial<AuditSpoolOptions> & { dir: string }): SpooledTracer {
  const spool = new AuditSpool({ maxBytes: 64 << 20, mode: 'required', ...options });
  const provider = new BasicTracerProvider({ spanProcessors: [spool] });
  const tracer = provider.getTracer('spool-test');
  return {
    spool,
    provider,
    tracer,
    endRequests(count) {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const server = tracer.startSpan('chat', {
          kind: SpanKind.SERVER,
          attributes: { 'gatehouse.audit': true, 'gatehouse.request.id': `req-${i}` },
        });
        const attempt = tracer.startSpan('attempt', { kind: SpanKind.CLIENT });
        attempt.end();
        server.end();
        ids.push(attempt.spanContext().spanId, server.spanContext().spanId);
      }
      return ids;
    },
    shutdown: () => provider.shutdown(),
  };
}

/** Polls `condition` every 20 ms until it holds, or fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
