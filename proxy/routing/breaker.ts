/**
 * A circuit breaker per route target. Closed: traffic flows. After
 * `failureThreshold` consecutive failures it opens for `cooldownMs`; then one
 * half-open probe is let through: success closes it, failure opens it again.
 * A target also rests until an upstream's Retry-After has passed.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private opened = false;
  private probing = false;
  private restUntil = 0;

  constructor(private readonly options: BreakerOptions) {}

  state(now = Date.now()): BreakerState {
    if (!this.opened) return 'closed';
    return now - this.openedAt >= this.options.cooldownMs ? 'half_open' : 'open';
  }

  /** Milliseconds until this target may be tried again; 0 when it may be tried now. */
  waitMs(now = Date.now()): number {
    const rest = Math.max(0, this.restUntil - now);
    if (!this.opened) return rest;
    if (this.probing) return Math.max(rest, this.options.cooldownMs);
    return Math.max(rest, this.openedAt + this.options.cooldownMs - now);
  }

  /** Claims the right to send one request now. A half-open breaker lets exactly one probe through. */
  tryAcquire(now = Date.now()): boolean {
    if (this.waitMs(now) > 0) return false;
    if (this.opened) this.probing = true;
    return true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.opened = false;
    this.probing = false;
  }

  onFailure(now = Date.now(), retryAfterMs?: number): void {
    this.failures++;
    if (retryAfterMs !== undefined) this.restUntil = Math.max(this.restUntil, now + retryAfterMs);
    if (this.probing || this.failures >= this.options.failureThreshold) {
      this.opened = true;
      this.openedAt = now;
      this.probing = false;
    }
  }

  /** Gives back a probe that was never sent (for example, the client left first). */
  release(): void {
    this.probing = false;
  }
}
