/**
 * Runs one request against a route's targets: in order (or weighted first pick),
 * skipping targets whose breaker is open or whose Retry-After has not passed,
 * failing over on retryable failures (429, 5xx, 529, timeouts, connection errors),
 * within a per-request budget of attempts. Records every attempt.
 */
import { GatehouseError } from '../errors.js';
import { UpstreamFailure, type FailureReason } from '../providers/types.js';
import { sleep } from '../time.js';
import type { Route, Target } from './routes.js';

export interface AttemptRecord {
  number: number;
  target: Target;
  outcome: 'ok' | 'failed' | 'skipped';
  reason?: FailureReason | 'circuit_open';
  upstreamStatus?: number;
  retryAfterMs?: number;
  /** Epoch ms. */
  startTime: number;
  /** Epoch ms; for a streaming success, set when the stream ends. */
  endTime: number;
  /** Error of a failed attempt (for the span's status; never contains a key). */
  error?: UpstreamFailure;
}

export interface FailoverOptions {
  maxAttempts: number;
  maxRetryWaitMs: number;
  signal: AbortSignal;
  /** Receives each record as soon as it exists, so a cancelled request still has them. */
  attempts: AttemptRecord[];
}

export async function withFailover<T>(
  route: Route,
  options: FailoverOptions,
  attempt: (target: Target) => Promise<T>,
): Promise<{ value: T; target: Target; record: AttemptRecord }> {
  const order = route.strategy === 'weighted' ? weightedOrder(route.targets) : route.targets;
  const { attempts } = options;
  let made = 0;
  let lastFailure: UpstreamFailure | undefined;
  const skipped = new Set<Target>();
  while (made < options.maxAttempts) {
    const now = Date.now();
    const target = pickTarget(order, skipped, attempts, now);
    if (!target) {
      const waitMs = Math.min(...order.map((t) => t.breaker.waitMs(now)));
      if (attempts.length === 0 || waitMs > options.maxRetryWaitMs) break;
      for (const t of order) if (t.breaker.waitMs(now) > 0 && !attempts.some((a) => a.target === t && a.outcome !== 'skipped')) recordSkip(attempts, t, now);
      await sleep(waitMs, options.signal);
      skipped.clear();
      continue;
    }
    skipped.add(target);
    made++;
    const record: AttemptRecord = { number: made, target, outcome: 'ok', startTime: Date.now(), endTime: 0 };
    attempts.push(record);
    try {
      const value = await attempt(target);
      record.endTime = Date.now();
      target.breaker.onSuccess();
      return { value, target, record };
    } catch (error) {
      record.endTime = Date.now();
      if (!(error instanceof UpstreamFailure)) {
        // The gateway's own adapter failed on this request (a bug, or input it could not map):
        // not the provider's health, so it is neither retried nor held against the breaker.
        record.outcome = 'failed';
        record.reason = 'bad_response';
        target.breaker.release();
        throw error;
      }
      const failure = error;
      record.outcome = 'failed';
      record.reason = failure.reason;
      record.error = failure;
      if (failure.upstreamStatus !== undefined) record.upstreamStatus = failure.upstreamStatus;
      if (failure.retryAfterMs !== undefined) record.retryAfterMs = failure.retryAfterMs;
      if (!failure.retryable) {
        target.breaker.release();
        throw failure;
      }
      target.breaker.onFailure(record.endTime, failure.retryAfterMs);
      lastFailure = failure;
    }
  }
  throw exhausted(route, attempts, lastFailure);
}

/**
 * The first target, in order, that is not yet tried and may be tried now. Each
 * resting target passed over on the way is recorded as skipped, so the span shows
 * why the primary was not called.
 */
function pickTarget(order: readonly Target[], tried: ReadonlySet<Target>, attempts: AttemptRecord[], now: number): Target | undefined {
  for (const target of order) {
    if (tried.has(target)) continue;
    if (target.breaker.tryAcquire(now)) return target;
    recordSkip(attempts, target, now);
  }
  return undefined;
}

/** Records a target passed over: `circuit_open` when its breaker is not closed, else resting after a Retry-After. */
function recordSkip(attempts: AttemptRecord[], target: Target, now: number): void {
  if (attempts.some((a) => a.target === target && a.outcome === 'skipped')) return;
  const reason = target.breaker.state(now) === 'closed' ? 'rate_limited' : 'circuit_open';
  attempts.push({ number: 0, target, outcome: 'skipped', reason, startTime: now, endTime: now });
}

function exhausted(route: Route, attempts: readonly AttemptRecord[], last: UpstreamFailure | undefined): GatehouseError {
  const now = Date.now();
  const waitMs = Math.min(...route.targets.map((t) => t.breaker.waitMs(now)));
  const tried = attempts.filter((a) => a.outcome === 'failed');
  const detail = tried.length === 0 ? 'every target is resting (circuit open or Retry-After)' : tried.map((a) => `${a.target.id}: ${a.reason}`).join('; ');
  const code = last?.reason === 'timeout' && tried.every((a) => a.reason === 'timeout') ? 'upstream_timeout' : last?.reason === 'bad_response' || last?.reason === 'stream_cut' || last?.reason === 'upstream_auth' ? 'upstream_error' : 'upstream_unavailable';
  return new GatehouseError(code, `no upstream could serve model '${route.alias}' (${detail})`, {
    cause: last,
    ...(waitMs > 0 && Number.isFinite(waitMs) ? { retryAfterSeconds: Math.ceil(waitMs / 1000) } : {}),
  });
}

/** The first target drawn by weight, then the others in their configured order. */
function weightedOrder(targets: readonly Target[]): readonly Target[] {
  let total = 0;
  for (const t of targets) total += t.weight;
  let pick = Math.random() * total;
  const first = targets.find((t) => (pick -= t.weight) < 0) ?? targets[0]!;
  return [first, ...targets.filter((t) => t !== first)];
}
