/**
 * The default limit store: counters in this process's memory. Exact under any
 * concurrency, because each reserve runs to completion on the one JS thread, and
 * exact in money: USD is counted in integer pico-USD, as the audit trail counts it.
 * Budgets survive any restart, `kill -9` included: every settled spend is in the
 * journal (journal.ts) before its response ends, and a snapshot of the settled
 * counters (periodic when dirty, and on shutdown) lets the journal be rotated.
 * In-flight estimates are never persisted: a restart drops them with their
 * requests. Rate windows are not persisted (a restart forgets at most a minute).
 */
import { picoToUsd } from '../cost/money.js';
import type { RateLimit, ScopeKind } from '../policy/decision.js';
import { budgetDenial, exceededBudget } from './budgets.js';
import { BudgetCounters } from './budgetCounters.js';
import { periodsAt } from './periods.js';
import { SpendJournal } from './journal.js';
import { actualPico, newReservation, validCost, wholeTokens } from './reservation.js';
import { ScopeMap } from './scopeMap.js';
import { mergeBudgets, mergeLimits, retrySeconds, tightestWindow, windowOf } from './scopes.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';
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
  type Spend,
} from './types.js';
import { WindowLog, type EntryId } from './windowLog.js';

export interface MemoryStoreOptions {
  /** Budget snapshot file; without it budgets live only as long as the process. */
  snapshotPath?: string;
  /** How often a changed snapshot is written, and idle windows are swept (default 10 s). */
  snapshotIntervalMs?: number;
  /** The spend journal; default `<snapshotPath>.journal` when there is a snapshot. */
  journalPath?: string;
  /** fsync each journal write: settled spend survives power loss too, not only a process crash. */
  fsync?: boolean;
  onError?: LimitErrorHandler;
}

/** What a reservation holds until it is settled or released: its entry in each window, and its budget counters. */
interface Held {
  logs: WindowLog[];
  entries: EntryId[];
  counters: Spend[];
}

export class MemoryLimitStore implements LimitStore {
  readonly kind = 'memory' as const;
  private readonly windows = new ScopeMap<WindowLog>();
  private readonly counters = new BudgetCounters();
  private readonly held = new WeakMap<Reservation, Held>();
  /** The in-flight estimates inside each counter, so a snapshot holds settled spend only. */
  private readonly inflight = new Map<Spend, Spend>();
  private readonly journal: SpendJournal | undefined;
  private readonly onError: LimitErrorHandler;
  private timer: NodeJS.Timeout | undefined;
  private changes = 0;
  private savedChanges = 0;
  private saving: Promise<void> | undefined;

  constructor(private readonly options: MemoryStoreOptions = {}) {
    this.onError = options.onError ?? (() => {});
    const journalPath = options.journalPath ?? (options.snapshotPath === undefined ? undefined : `${options.snapshotPath}.journal`);
    this.journal = journalPath === undefined ? undefined : new SpendJournal(journalPath, options.fsync ?? false, (error) => this.onError(error, 'journal'));
  }

  /** Restores budgets from the snapshot, then the journal's later entries (a corrupt snapshot rejects, naming the file). */
  async start(): Promise<void> {
    const now = Date.now();
    let journalSeq = 0;
    if (this.options.snapshotPath !== undefined) {
      const snapshot = await readSnapshot(this.options.snapshotPath);
      if (snapshot !== undefined) this.counters.restore(snapshot.budgets, now);
      journalSeq = snapshot?.journalSeq ?? 0;
    }
    if (this.journal !== undefined) {
      const entries = await this.journal.replay(journalSeq);
      for (const entry of entries) {
        for (const [scope, key] of entry.b) this.counters.add(entry.d, entry.m, { scope: scope as ScopeKind, key }, entry.t, BigInt(entry.p), now);
      }
      this.journal.startAfter(journalSeq);
      if (entries.length > 0) this.changes++;
    }
    this.timer ??= setInterval(() => this.tick(), this.options.snapshotIntervalMs ?? 10_000);
    this.timer.unref();
  }

  /** Writes a final snapshot. Safe to call twice and without start. */
  async shutdown(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.saving;
    await this.save();
    await this.journal?.close();
  }

  reserve(request: ReserveRequest): Promise<ReserveResult> {
    return Promise.resolve(this.reserveNow(request));
  }

  private reserveNow(request: ReserveRequest): ReserveResult {
    const now = request.now ?? Date.now();
    const tokens = wholeTokens(request.estimatedTokens);
    const usd = validCost(request.estimatedCostUsd ?? 0);
    const limits = mergeLimits(request.limits);
    const budgets = mergeBudgets(request.budgets);
    const periods = periodsAt(now);

    const counters: Spend[] = [];
    for (const budget of budgets) {
      const day = this.counters.counter('day', periods.day, budget);
      const month = this.counters.counter('month', periods.month, budget);
      const hit = exceededBudget(budget, day, month);
      if (hit !== undefined) return budgetDenial(budget, hit, periods, now);
      counters.push(day, month);
    }

    const logs = limits.map((limit) => this.window(limit, now));
    for (let i = 0; i < limits.length; i++) {
      const denial = this.check(limits[i]!, logs[i]!, tokens, now);
      if (denial !== undefined) return denial;
    }

    const entries = logs.map((log) => log.add(now, tokens));
    const reservation = newReservation({ tokens, usd }, limits, budgets, now, periods, true);
    const pico = reservation.estimatedCostPico;
    for (const counter of counters) {
      counter.tokens += tokens;
      counter.pico += pico;
      this.hold(counter, tokens, pico);
    }
    if (counters.length > 0) this.changes++;
    this.held.set(reservation, { logs, entries, counters });
    // Each log is its own WindowCount, read as it stands after this reservation.
    return {
      ok: true,
      reservation,
      requests: tightestWindow(limits, logs, 'requests', now),
      tokens: tightestWindow(limits, logs, 'tokens', now),
    };
  }

  private check(limit: RateLimit, log: WindowLog, tokens: number, now: number): ReserveResult | undefined {
    const rpm = limit.requestsPerMinute;
    if (rpm !== undefined && log.requests + 1 > rpm) {
      return {
        ok: false,
        code: 'rate_limited',
        scope: { scope: limit.scope, key: limit.key },
        dimension: 'requests',
        retryAfterSeconds: retrySeconds(log.waitForRequest(rpm, now)),
        window: windowOf(limit, log, 'requests', now),
      };
    }
    const tpm = limit.tokensPerMinute;
    if (tpm !== undefined && log.tokens + tokens > tpm) {
      const neverFits = tokens > tpm;
      return {
        ok: false,
        code: 'rate_limited',
        scope: { scope: limit.scope, key: limit.key },
        dimension: 'tokens',
        retryAfterSeconds: retrySeconds(neverFits ? WINDOW_MS : log.waitForTokens(tpm, tokens, now)),
        window: windowOf(limit, log, 'tokens', now),
        ...(neverFits ? { neverFits } : {}),
      };
    }
    return undefined;
  }

  /** Resolves once the settled spend is in the journal (the pipeline waits for it before the response ends). */
  settle(reservation: Reservation, actual: ActualUsage): Promise<void> {
    const held = this.claim(reservation);
    if (held === undefined) return Promise.resolve();
    const tokens = wholeTokens(actual.tokens);
    for (let i = 0; i < held.logs.length; i++) held.logs[i]!.adjust(held.entries[i]!, tokens);
    const pico = actualPico(actual);
    for (const counter of held.counters) {
      counter.tokens += tokens - reservation.estimatedTokens;
      counter.pico += pico - reservation.estimatedCostPico;
      this.hold(counter, -reservation.estimatedTokens, -reservation.estimatedCostPico);
    }
    if (held.counters.length === 0) return Promise.resolve();
    this.changes++;
    if (this.journal === undefined || (tokens === 0 && pico === 0n)) return Promise.resolve();
    return this.journal.append({
      d: reservation.day, m: reservation.month, b: reservation.budgets.map((ref) => [ref.scope, ref.key]), t: tokens, p: pico.toString(),
    });
  }

  release(reservation: Reservation): Promise<void> {
    const held = this.claim(reservation);
    if (held === undefined) return Promise.resolve();
    for (let i = 0; i < held.logs.length; i++) held.logs[i]!.remove(held.entries[i]!);
    for (const counter of held.counters) {
      counter.tokens -= reservation.estimatedTokens;
      counter.pico -= reservation.estimatedCostPico;
      this.hold(counter, -reservation.estimatedTokens, -reservation.estimatedCostPico);
    }
    if (held.counters.length > 0) this.changes++;
    return Promise.resolve();
  }

  /** Adds to (or, negative, takes from) the in-flight estimates inside `counter`. */
  private hold(counter: Spend, tokens: number, pico: bigint): void {
    const inflight = this.inflight.get(counter);
    if (inflight === undefined) {
      if (tokens !== 0 || pico !== 0n) this.inflight.set(counter, { tokens, pico });
      return;
    }
    inflight.tokens += tokens;
    inflight.pico += pico;
    if (inflight.tokens === 0 && inflight.pico === 0n) this.inflight.delete(counter);
  }

  /**
   * What a reservation holds, the first time settle or release asks; undefined afterwards
   * (or for a reservation this store did not make). Forgetting it here makes the second
   * call a no-op and keeps `held` as small as the requests in flight.
   */
  private claim(reservation: Reservation): Held | undefined {
    const held = this.held.get(reservation);
    if (held !== undefined) this.held.delete(reservation);
    return held;
  }

  usage(scopes: readonly ScopeRef[], now = Date.now()): Promise<ScopeUsage[]> {
    const periods = periodsAt(now);
    return Promise.resolve(
      scopes.map((ref) => {
        const log = this.windows.get(ref);
        log?.evict(now);
        const day = this.counters.find('day', periods.day, ref);
        const month = this.counters.find('month', periods.month, ref);
        return {
          scope: ref.scope,
          key: ref.key,
          requestsLastMinute: log?.requests ?? 0,
          tokensLastMinute: log?.tokens ?? 0,
          day: { tokens: day?.tokens ?? 0, usd: day ? picoToUsd(day.pico) : 0 },
          month: { tokens: month?.tokens ?? 0, usd: month ? picoToUsd(month.pico) : 0 },
        };
      }),
    );
  }

  private window(ref: ScopeRef, now: number): WindowLog {
    let log = this.windows.get(ref);
    if (log === undefined) this.windows.set(ref, (log = new WindowLog()));
    else log.evict(now);
    return log;
  }

  /** Periodic work: forget idle windows and ended periods, save a changed snapshot. */
  private tick(): void {
    const now = Date.now();
    this.windows.retain((log) => {
      log.evict(now);
      return !log.isEmpty;
    });
    this.counters.dropEnded(now);
    if (this.saving === undefined) {
      this.saving = this.save().finally(() => {
        this.saving = undefined;
      });
    }
  }

  /**
   * Writes the settled counters (in-flight estimates taken out) with the journal's
   * last sequence number, and rotates the journal in the same turn, so the
   * snapshot and the journal after it never count a settle twice or not at all.
   */
  private async save(): Promise<void> {
    const path = this.options.snapshotPath;
    if (path === undefined || this.changes === this.savedChanges) return;
    const changes = this.changes;
    const budgets = this.counters.toSnapshot(this.inflight);
    const journalSeq = this.journal?.lastSeq ?? 0;
    this.journal?.rotate();
    try {
      await writeSnapshot(path, { version: 2, savedAt: Date.now(), budgets, journalSeq }, this.options.fsync ?? false);
      this.savedChanges = changes;
      await this.journal?.written();
    } catch (error) {
      this.onError(error, 'snapshot');
    }
  }
}
