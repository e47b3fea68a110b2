/**
 * The contract of a limit store: the one place where per-scope rate limits and
 * budgets are counted and enforced. The request policy decides WHICH limits and
 * budgets apply (proxy/policy/decision.ts); a LimitStore enforces them.
 *
 * Semantics shared by every store (docs in proxy/limits/README.md):
 * - Rate limits are a sliding-window log over the last WINDOW_MS (60 s): a limit of
 *   N requests/min admits at most N requests in ANY 60-second interval, and a limit
 *   of T tokens/min at most T reserved-then-reconciled tokens.
 * - Budgets are counted per UTC calendar day and month. A budget is exceeded once
 *   spending has REACHED it: the request that crosses it is admitted and finishes,
 *   the next one is refused with `budget_exceeded`.
 * - `reserve` checks every scope and either reserves in all of them or in none.
 */
import type { Budget, RateLimit, ScopeKind } from '../policy/decision.js';

/** Length of the rate-limit window: limits are per minute. */
export const WINDOW_MS = 60_000;

/** A counter's identity: its scope kind and the policy-chosen key. */
export interface ScopeRef {
  scope: ScopeKind;
  key: string;
}

export interface ReserveRequest {
  limits: readonly RateLimit[];
  budgets: readonly Budget[];
  /** Input plus expected output tokens (see tokenEstimate.ts); a non-negative integer. */
  estimatedTokens: number;
  /** Optional pre-call cost estimate, counted against USD budgets until settled (default 0). */
  estimatedCostUsd?: number;
  /** Unix milliseconds; defaults to Date.now(). Budgets use the UTC day/month of this instant. */
  now?: number;
}

/**
 * What was reserved. Pass it to exactly one of `settle` or `release`; later calls are
 * no-ops. Treat it as opaque; it holds no secrets and may be logged.
 */
export interface Reservation {
  readonly id: string;
  /** Rate-limit scopes counted (duplicates merged). */
  readonly limits: readonly ScopeRef[];
  /** Budget scopes counted, each in `day` and `month`. */
  readonly budgets: readonly ScopeRef[];
  readonly estimatedTokens: number;
  readonly estimatedCostUsd: number;
  /** estimatedCostUsd in exact pico-USD: what reserve added to the budgets, and settle and release take back. */
  readonly estimatedCostPico: bigint;
  /** Unix ms of the reservation; the request is charged to this instant's day and month. */
  readonly at: number;
  /** UTC period ids of `at`: `YYYY-MM-DD` and `YYYY-MM`. */
  readonly day: string;
  readonly month: string;
  /** False when the store was unavailable and configured to fail open: nothing was counted. */
  readonly enforced: boolean;
}

/** One window of the tightest scope, for the `x-ratelimit-*` headers. */
export interface WindowState {
  scope: ScopeKind;
  key: string;
  limit: number;
  remaining: number;
  /** Milliseconds until `remaining` next grows (the oldest counted entry leaves the window). */
  resetMs: number;
}

export type BudgetName = 'usdPerDay' | 'usdPerMonth' | 'tokensPerDay' | 'tokensPerMonth';

export type ReserveResult =
  | {
      ok: true;
      reservation: Reservation;
      /** Tightest requests window after this reservation; absent when no requests/min limit applies. */
      requests?: WindowState;
      tokens?: WindowState;
    }
  | {
      ok: false;
      code: 'rate_limited';
      scope: ScopeRef;
      dimension: 'requests' | 'tokens';
      /** Whole seconds (>= 1) until this request would fit. */
      retryAfterSeconds: number;
      /** The refusing scope's window (remaining as it stands). */
      window: WindowState;
      /** True when the request's own estimate exceeds tokens/min: it can never fit. */
      neverFits?: boolean;
    }
  | {
      ok: false;
      code: 'budget_exceeded';
      scope: ScopeRef;
      budget: BudgetName;
      limit: number;
      spent: number;
      /** Whole seconds until the UTC day or month rolls over. */
      retryAfterSeconds: number;
    }
  | {
      ok: false;
      /** The store could not be reached and is configured to fail closed (503). */
      code: 'limits_unavailable';
      retryAfterSeconds: number;
    };

export type ReserveDenial = Exclude<ReserveResult, { ok: true }>;

export interface ActualUsage {
  /** Input plus output tokens the provider reported (or the gateway counted). */
  tokens: number;
  costUsd: number;
  /** The exact cost in pico-USD (the audit trail's amount); when absent, costUsd's decimal is used. */
  costPico?: bigint;
}

/** A budget counter: tokens, and USD as exact pico-USD (1e-12 USD), as the audit trail counts money. */
export interface Spend {
  tokens: number;
  pico: bigint;
}

export interface PeriodUsage {
  tokens: number;
  usd: number;
}

/** Counters of one scope, as the request policy sees them in `input.usage`. */
export interface ScopeUsage extends ScopeRef {
  /** Requests and tokens counted in the last 60 s (in-flight reservations included). */
  requestsLastMinute: number;
  tokensLastMinute: number;
  /** Spend in the current UTC day and month (in-flight estimates included). */
  day: PeriodUsage;
  month: PeriodUsage;
}

/**
 * A limit store. start() before use; shutdown() is safe to call twice and without
 * start(). No method throws for a store outage: reserve reports it as a result,
 * settle/release/usage report it to the store's `onError` hook and degrade.
 */
export interface LimitStore {
  readonly kind: 'memory' | 'redis';
  start(): Promise<void>;
  shutdown(): Promise<void>;
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Reconciles tokens (estimate → actual) and adds the actual cost to budgets. */
  settle(reservation: Reservation, actual: ActualUsage): Promise<void>;
  /** Gives everything back, for a request that never reached the provider. */
  release(reservation: Reservation): Promise<void>;
  /** A snapshot of counters; scopes without counters read as zeros. */
  usage(scopes: readonly ScopeRef[], now?: number): Promise<ScopeUsage[]>;
}

/** Where a store reports errors it does not throw (logging/metrics hook). */
export type LimitErrorHandler = (error: unknown, operation: 'reserve' | 'settle' | 'release' | 'usage' | 'snapshot' | 'journal' | 'connect') => void;
