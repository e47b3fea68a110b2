/**
 * Forwards received exports to downstream OTLP/HTTP endpoints (Jaeger, Tempo,
 * an OpenTelemetry Collector), optionally without message content. Forwarding
 * never blocks or fails ingestion: it runs after the acknowledgement, at most
 * `maxInFlight` requests per target at once; failures and drops are counted.
 */
import { AUDIT_ATTRIBUTES } from '../../proxy/telemetry/attributes.js';
import type { DecodedExport } from './spans.js';

export interface ForwardTarget {
  /** Full URL, e.g. http://jaeger:4318/v1/traces. */
  url: string;
  /** Remove attributes marked `content` in AUDIT_ATTRIBUTES before sending. */
  stripContent?: boolean;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface ForwardStats { url: string; sent: number; failed: number; dropped: number }

const CONTENT_KEYS: ReadonlySet<string> = new Set(AUDIT_ATTRIBUTES.filter((a) => a.content).map((a) => a.name));

export class Forwarder {
  private readonly stats: ForwardStats[];
  private readonly inFlight: number[];
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly targets: readonly ForwardTarget[], private readonly maxInFlight = 8) {
    this.stats = targets.map((t) => ({ url: t.url, sent: 0, failed: 0, dropped: 0 }));
    this.inFlight = targets.map(() => 0);
  }

  get enabled(): boolean { return this.targets.length > 0; }

  snapshot(): ForwardStats[] { return this.stats.map((s) => ({ ...s })); }

  /** Starts forwarding `body` (already decompressed) to every target; returns at once. */
  forward(body: Uint8Array, decoded: DecodedExport, contentType: string): void {
    let stripped: Uint8Array | undefined;
    this.targets.forEach((target, i) => {
      const stats = this.stats[i] as ForwardStats;
      if ((this.inFlight[i] as number) >= this.maxInFlight) {
        stats.dropped++;
        return;
      }
      let payload = body;
      if (target.stripContent) {
        try {
          stripped ??= decoded.encodeWithout(CONTENT_KEYS);
        } catch {
          stats.failed++;
          return;
        }
        payload = stripped;
      }
      this.inFlight[i] = (this.inFlight[i] as number) + 1;
      const run = this.send(target, payload, contentType).then(
        (ok) => { if (ok) stats.sent++; else stats.failed++; },
        () => { stats.failed++; },
      ).finally(() => {
        this.inFlight[i] = (this.inFlight[i] as number) - 1;
        this.running.delete(run);
      });
      this.running.add(run);
    });
  }

  /** Waits for requests in flight. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  private async send(target: ForwardTarget, payload: Uint8Array, contentType: string): Promise<boolean> {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { ...target.headers, 'content-type': contentType },
      body: payload,
      signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
    });
    await response.arrayBuffer().catch(() => undefined);
    return response.ok;
  }
}
