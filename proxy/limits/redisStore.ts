/**
 * The Redis limit store, for several proxy replicas: every replica runs the same
 * atomic Lua script against the same keys, so a limit of N is N in total.
 *
 * When Redis cannot be reached (or does not answer within `commandTimeoutMs`):
 * - `failMode: 'closed'` (default): reserve answers `limits_unavailable` (503) — no
 *   request reaches a provider unmetered;
 * - `failMode: 'open'`: reserve admits with an unenforced reservation (no headers),
 *   for operators who value availability over the limits.
 * settle/release failures are reported to `onError`; that spend is lost from the counters.
 * Replica clocks must be NTP-synced: a skew of d ms shifts the window edge by d ms.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { picoToUsd, usdToPico } from '../cost/money.js';
import type { Budget, RateLimit } from '../policy/decision.js';
import { BUDGET_ORDER, budgetDenial } from './budgets.js';
import { LuaScript } from './luaScript.js';
import { periodsAt, type Periods } from './periods.js';
import { RESERVE_LUA, SETTLE_LUA, USAGE_LUA } from './redisScripts.js';
import { actualPico, claimOnce, newReservation, validCost, wholeTokens } from './reservation.js';
import { mergeBudgets, mergeLimits, retrySeconds, scopeId, tightestWindow, windowOf, type WindowCount } from './scopes.js';
import {
  WINDOW_MS,
  type ActualUsage,
  type LimitErrorHandler,
  type LimitStore,
  type Reservation,
  type ReserveRequest,
  type ReserveResult,
  type ScopeRef,
  type ScopeUsage,
} from './types.js';

export interface RedisStoreOptions {
  /** `redis://host:port/db`; ignored when `client` is given. */
  url?: string;
  /** A client to use instead of creating one; the store then never closes it. */
  client?: Redis;
  /** Prefix of every key (default `gatehouse:limits:`). For Redis Cluster use a hash tag, e.g. `{gatehouse}:`. */
  keyPrefix?: string;
  failMode?: 'closed' | 'open';
  /** Per-command timeout (default 500 ms). */
  commandTimeoutMs?: number;
  onError?: LimitErrorHandler;
}

/** Budget keys outlive their period by a day. */
const BUDGET_GRACE_MS = 86_400_000;

function toNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new Error('unexpected reply from limits script');
  return reply;
}

function count(requests: unknown, tokens: unknown, oldestAt: unknown): WindowCount {
  const oldest = toNumber(oldestAt);
  return { requests: toNumber(requests), tokens: toNumber(tokens), oldestAt: oldest < 0 ? undefined : oldest };
}

export class RedisLimitStore implements LimitStore {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly failMode: 'closed' | 'open';
  private readonly onError: LimitErrorHandler;
  private readonly reserveScript = new LuaScript(RESERVE_LUA);
  private readonly settleScript = new LuaScript(SETTLE_LUA);
  private readonly usageScript = new LuaScript(USAGE_LUA);
  private stopped = false;

  constructor(options: RedisStoreOptions) {
    this.prefix = options.keyPrefix ?? 'gatehouse:limits:';
    this.failMode = options.failMode ?? 'closed';
    this.onError = options.onError ?? (() => {});
    this.ownsClient = options.client === undefined;
    const clientOptions: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 500,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    };
    this.client = options.client ?? new Redis(options.url ?? 'redis://127.0.0.1:6379', clientOptions);
    if (this.ownsClient) this.client.on('error', (error: unknown) => this.onError(error, 'connect'));
  }

  /** Connects. Never fails for an unreachable Redis: the client keeps reconnecting and reserve applies failMode. */
  async start(): Promise<void> {
    if (!this.ownsClient || this.client.status !== 'wait') return;
    try {
      await this.client.connect();
    } catch (error) {
      this.onError(error, 'connect');
    }
  }

  /** Closes a client the store created. Safe to call twice and without start. */
  async shutdown(): Promise<void> {
    if (this.stopped || !this.ownsClient) return;
    this.stopped = true;
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }

  private windowKeys(ref: ScopeRef): [string, string] {
    const id = scopeId(ref);
    return [`${this.prefix}wr:${id}`, `${this.prefix}wt:${id}`];
  }

  private budgetKeys(ref: ScopeRef, day: string, month: string): [string, string] {
    const id = scopeId(ref);
    return [`${this.prefix}bd:${day}:${id}`, `${this.prefix}bm:${month}:${id}`];
  }

  private keysOf(limits: readonly ScopeRef[], budgets: readonly ScopeRef[], day: string, month: string): string[] {
    const keys: string[] = [];
    for (const limit of limits) keys.push(...this.windowKeys(limit));
    for (const budget of budgets) keys.push(...this.budgetKeys(budget, day, month));
    return keys;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const now = request.now ?? Date.now();
    const tokens = wholeTokens(request.estimatedTokens);
    const usd = validCost(request.estimatedCostUsd ?? 0);
    const limits = mergeLimits(request.limits);
    const budgets = mergeBudgets(request.budgets);
    const periods = periodsAt(now);
    const reservation = newReservation({ tokens, usd }, limits, budgets, now, periods, true);
    if (limits.length === 0 && budgets.length === 0) return { ok: true, reservation };

    const args: (string | number)[] = [
      now, WINDOW_MS, `${reservation.id}|${tokens}`, tokens, reservation.estimatedCostPico.toString(), limits.length, budgets.length,
      periods.dayEndsAt + BUDGET_GRACE_MS, periods.monthEndsAt + BUDGET_GRACE_MS,
    ];
    for (const limit of limits) args.push(limit.requestsPerMinute ?? -1, limit.tokensPerMinute ?? -1);
    for (const budget of budgets) {
      for (const name of BUDGET_ORDER) {
        const amount = budget[name];
        // USD caps as exact pico-USD integers; the script compares them as integers.
        args.push(amount === undefined ? '-1' : name.startsWith('usd') ? usdToPico(amount).toString() : String(amount));
      }
    }

    let reply: unknown[];
    try {
      reply = asArray(await this.reserveScript.run(this.client, this.keysOf(limits, budgets, periods.day, periods.month), args));
    } catch (error) {
      this.onError(error, 'reserve');
      if (this.failMode === 'open') return { ok: true, reservation: { ...reservation, enforced: false } };
      return { ok: false, code: 'limits_unavailable', retryAfterSeconds: 1 };
    }
    return this.resultOf(reply, reservation, limits, budgets, periods, now);
  }

  private resultOf(
    reply: unknown[],
    reservation: Reservation,
    limits: readonly RateLimit[],
    budgets: readonly Budget[],
    periods: Periods,
    now: number,
  ): ReserveResult {
    const kind = String(reply[0]);
    if (kind === 'budget') {
      const budget = budgets[toNumber(reply[1]) - 1]!;
      const name = BUDGET_ORDER[toNumber(reply[2]) - 1]!;
      const spent = name.startsWith('usd') ? picoToUsd(BigInt(String(reply[3]))) : toNumber(reply[3]);
      return budgetDenial(budget, { name, limit: budget[name] ?? 0, spent }, periods, now);
    }
    if (kind === 'rate') {
      const limit = limits[toNumber(reply[1]) - 1]!;
      const dimension = reply[2] === 'tokens' ? 'tokens' : 'requests';
      const neverFits = dimension === 'tokens' && reservation.estimatedTokens > (limit.tokensPerMinute ?? 0);
      return {
        ok: false,
        code: 'rate_limited',
        scope: { scope: limit.scope, key: limit.key },
        dimension,
        retryAfterSeconds: retrySeconds(toNumber(reply[3])),
        window: windowOf(limit, count(reply[4], reply[5], reply[6]), dimension, now),
        ...(neverFits ? { neverFits } : {}),
      };
    }
    const counts: WindowCount[] = [];
    for (let i = 0; i < limits.length; i++) counts.push(count(reply[1 + 3 * i], reply[2 + 3 * i], reply[3 + 3 * i]));
    return {
      ok: true,
      reservation,
      requests: tightestWindow(limits, counts, 'requests', now),
      tokens: tightestWindow(limits, counts, 'tokens', now),
    };
  }

  settle(reservation: Reservation, actual: ActualUsage): Promise<void> {
    const tokens = wholeTokens(actual.tokens);
    return this.reconcile(reservation, `${reservation.id}|${tokens}`, tokens - reservation.estimatedTokens, actualPico(actual) - reservation.estimatedCostPico, 'settle');
  }

  release(reservation: Reservation): Promise<void> {
    return this.reconcile(reservation, '', -reservation.estimatedTokens, -reservation.estimatedCostPico, 'release');
  }

  private async reconcile(reservation: Reservation, member: string, tokenDelta: number, picoDelta: bigint, operation: 'settle' | 'release'): Promise<void> {
    if (!reservation.enforced || !claimOnce(reservation)) return;
    if (reservation.limits.length === 0 && reservation.budgets.length === 0) return;
    const periods = periodsAt(reservation.at);
    const args = [
      `${reservation.id}|${reservation.estimatedTokens}`, member, tokenDelta, picoDelta.toString(),
      reservation.limits.length, reservation.budgets.length,
      periods.dayEndsAt + BUDGET_GRACE_MS, periods.monthEndsAt + BUDGET_GRACE_MS, WINDOW_MS,
    ];
    try {
      await this.settleScript.run(this.client, this.keysOf(reservation.limits, reservation.budgets, periods.day, periods.month), args);
    } catch (error) {
      this.onError(error, operation);
    }
  }

  async usage(scopes: readonly ScopeRef[], now = Date.now()): Promise<ScopeUsage[]> {
    const { day, month } = periodsAt(now);
    const keys: string[] = [];
    for (const ref of scopes) keys.push(...this.windowKeys(ref), ...this.budgetKeys(ref, day, month));
    let reply: unknown[] = [];
    if (scopes.length > 0) {
      try {
        reply = asArray(await this.usageScript.run(this.client, keys, [now, WINDOW_MS]));
      } catch (error) {
        this.onError(error, 'usage');
      }
    }
    return scopes.map((ref, i) => ({
      scope: ref.scope,
      key: ref.key,
      requestsLastMinute: toNumber(reply[6 * i]),
      tokensLastMinute: toNumber(reply[6 * i + 1]),
      day: { tokens: toNumber(reply[6 * i + 2]), usd: picoUsd(reply[6 * i + 3]) },
      month: { tokens: toNumber(reply[6 * i + 4]), usd: picoUsd(reply[6 * i + 5]) },
    }));
  }
}

/** A pico-USD integer reply as USD (for the policy's usage input; budgets compare the integers themselves). */
function picoUsd(reply: unknown): number {
  const text = String(reply ?? '0');
  return /^-?\d{1,30}$/.test(text) ? picoToUsd(BigInt(text)) : 0;
}
