/**
 * Joins upstream-attempt spans (CLIENT spans with `gatehouse.attempt.*`
 * attributes) to their audit span. Attempts end before the request span, so an
 * SDK may export them in an earlier batch: those wait here, bounded in count
 * and age, in memory only. An attempt that arrives after its request, or
 * across a collector restart, is not joined (the record keeps `attempts` null).
 */
import { AUDIT_ATTRIBUTES } from '../../proxy/telemetry/attributes.js';
import { SPAN_KIND_CLIENT, type ReceivedSpan } from '../otlp/spans.js';
import { attemptOf, type Attempt } from './auditRecord.js';

const CONTENT_KEYS: ReadonlySet<string> = new Set(AUDIT_ATTRIBUTES.filter((a) => a.content).map((a) => a.name));

export function isAttemptSpan(span: ReceivedSpan): boolean {
  if (span.kind !== SPAN_KIND_CLIENT || span.parentSpanId === '') return false;
  for (const key of span.attributes.keys()) if (key.startsWith('gatehouse.attempt.')) return true;
  return false;
}

function order(a: Attempt, b: Attempt): number {
  const na = Number(a.attributes['gatehouse.attempt.number'] ?? 0);
  const nb = Number(b.attributes['gatehouse.attempt.number'] ?? 0);
  return na - nb || a.start_time.localeCompare(b.start_time);
}

export class AttemptBuffer {
  private readonly waiting = new Map<string, { at: number; attempts: Attempt[] }>();

  constructor(private readonly maxParents = 50_000, private readonly maxAgeMs = 120_000) {}

  /** Keeps `span` until its parent (`parentSpanId`) arrives. */
  add(span: ReceivedSpan, now = Date.now()): void {
    const key = `${span.traceId}${span.parentSpanId}`;
    const entry = this.waiting.get(key);
    if (entry !== undefined) entry.attempts.push(attemptOf(span, CONTENT_KEYS));
    else this.waiting.set(key, { at: now, attempts: [attemptOf(span, CONTENT_KEYS)] });
    this.evict(now);
  }

  /** Removes and returns the attempts of the request span `traceId`/`spanId`, sorted by attempt number. */
  take(traceId: string, spanId: string): Attempt[] {
    const attempts = this.peek(traceId, spanId);
    this.waiting.delete(`${traceId}${spanId}`);
    return attempts;
  }

  /** The attempts of the request span `traceId`/`spanId`, sorted by attempt number, left in the buffer (see remove). */
  peek(traceId: string, spanId: string): Attempt[] {
    if (this.waiting.size === 0) return [];
    const entry = this.waiting.get(`${traceId}${spanId}`);
    return entry === undefined ? [] : entry.attempts.sort(order);
  }

  /** Drops the attempts of the request span `traceId`/`spanId` (once its record is committed). */
  remove(traceId: string, spanId: string): void {
    if (this.waiting.size > 0) this.waiting.delete(`${traceId}${spanId}`);
  }

  get size(): number { return this.waiting.size; }

  private evict(now: number): void {
    for (const [key, entry] of this.waiting) {
      if (this.waiting.size <= this.maxParents && now - entry.at <= this.maxAgeMs) break;
      this.waiting.delete(key);
    }
  }
}
