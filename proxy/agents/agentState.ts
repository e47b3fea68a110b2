/**
 * What changes about agents while the gateway runs, shared by every replica
 * through the limit store's backend (memory for one process, Redis for many):
 *
 * - status overrides: an agent suspended or decommissioned through the admin API
 *   (adminRoutes.ts). Every request of a registered agent reads its override, so
 *   a suspension applies on the next request on every replica.
 * - run counters: calls, tokens and USD per run (one trace id), for run budgets.
 *   A run's counters expire RUN_TTL_MS after its last call.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { LuaScript } from '../limits/luaScript.js';
import { closeShared, connectShared, sharedRedis } from '../limits/sharedRedis.js';
import type { RunBudget } from './agentSchema.js';

export interface StatusOverride {
  status: 'suspended' | 'decommissioned';
  reason: string;
  /** Who changed it: the admin key's id, and the user it named. */
  by: string;
  /** RFC 3339. */
  at: string;
}

export type RunVerdict =
  | { ok: true; calls: number }
  | { ok: false; dimension: 'calls' | 'tokens' | 'usd'; limit: number; used: number };

export interface AgentState {
  start(): Promise<void>;
  shutdown(): Promise<void>;
  /** The override of agent `key` (`tenant/id`), if any. Throws when the shared store cannot be read. */
  status(key: string): Promise<StatusOverride | undefined>;
  /**
   * Sets (or, with undefined, clears) the override of agent `key`, atomically
   * unless it is decommissioned: a decommissioned agent stays so ('decommissioned'
   * is returned and nothing changes), whatever runs at the same time on other replicas.
   */
  changeStatus(key: string, override: StatusOverride | undefined): Promise<'changed' | 'decommissioned'>;
  /** Counts one call of run `key` (`tenant/trace id`), unless the budget is spent: calls past `calls`, or tokens/USD already reached. */
  admitRun(key: string, budget: RunBudget): Promise<RunVerdict>;
  /** Adds what a call of the run used. Never throws. */
  settleRun(key: string, tokens: number, usdMicros: number): Promise<void>;
}

/** A run's counters live this long after its last call. */
export const RUN_TTL_MS = 24 * 3_600_000;
/** Runs a memory state remembers per tenant at most (the oldest are forgotten first): one tenant never evicts another's. */
const MAX_MEMORY_RUNS_PER_TENANT = 100_000;

interface RunCounters { calls: number; tokens: number; usdMicros: number; touched: number }

function verdictOf(counters: { calls: number; tokens: number; usdMicros: number }, budget: RunBudget): RunVerdict | undefined {
  if (budget.calls !== undefined && counters.calls + 1 > budget.calls) return { ok: false, dimension: 'calls', limit: budget.calls, used: counters.calls };
  if (budget.tokens !== undefined && counters.tokens >= budget.tokens) return { ok: false, dimension: 'tokens', limit: budget.tokens, used: counters.tokens };
  if (budget.usd !== undefined && counters.usdMicros >= Math.round(budget.usd * 1e6)) {
    return { ok: false, dimension: 'usd', limit: budget.usd, used: counters.usdMicros / 1e6 };
  }
  return undefined;
}

/**
 * One process: run counters in maps (per tenant), overrides in a map kept in
 * `file` (0600, rewritten atomically on every change), so a suspension survives
 * a restart.
 */
export class MemoryAgentState implements AgentState {
  private overrides = new Map<string, StatusOverride>();
  private readonly runs = new Map<string, Map<string, RunCounters>>();
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file?: string) {}

  async start(): Promise<void> {
    if (this.file === undefined) return;
    try {
      const saved = JSON.parse(await readFile(this.file, 'utf8')) as { overrides?: Record<string, StatusOverride> };
      this.overrides = new Map(Object.entries(saved.overrides ?? {}));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${this.file}: cannot read the agent status overrides: ${(error as Error).message}`);
    }
  }

  async shutdown(): Promise<void> {
    await this.writing;
  }

  async status(key: string): Promise<StatusOverride | undefined> {
    return this.overrides.get(key);
  }

  async changeStatus(key: string, override: StatusOverride | undefined): Promise<'changed' | 'decommissioned'> {
    if (this.overrides.get(key)?.status === 'decommissioned') return 'decommissioned';
    if (override === undefined) this.overrides.delete(key);
    else this.overrides.set(key, override);
    await this.save();
    return 'changed';
  }

  private save(): Promise<void> {
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    const text = `${JSON.stringify({ overrides: Object.fromEntries(this.overrides) }, null, 2)}\n`;
    this.writing = this.writing.then(async () => {
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, file);
    });
    return this.writing;
  }

  private runsOf(key: string): Map<string, RunCounters> {
    const tenant = key.slice(0, key.indexOf('/'));
    let runs = this.runs.get(tenant);
    if (runs === undefined) this.runs.set(tenant, (runs = new Map()));
    return runs;
  }

  async admitRun(key: string, budget: RunBudget): Promise<RunVerdict> {
    const now = Date.now();
    const runs = this.runsOf(key);
    let run = runs.get(key);
    if (run !== undefined && now - run.touched > RUN_TTL_MS) run = undefined;
    run ??= { calls: 0, tokens: 0, usdMicros: 0, touched: now };
    const refused = verdictOf(run, budget);
    if (refused) return refused;
    run.calls++;
    run.touched = now;
    // Re-inserted so the map's order is last use: the first entry is the oldest.
    runs.delete(key);
    runs.set(key, run);
    if (runs.size > MAX_MEMORY_RUNS_PER_TENANT) runs.delete(runs.keys().next().value as string);
    return { ok: true, calls: run.calls };
  }

  async settleRun(key: string, tokens: number, usdMicros: number): Promise<void> {
    const run = this.runsOf(key).get(key);
    if (run === undefined) return;
    run.tokens += tokens;
    run.usdMicros += usdMicros;
  }
}

const ADMIT_RUN_LUA = `
local c = redis.call('HMGET', KEYS[1], 'calls', 'tokens', 'usd')
local calls, tokens, usd = tonumber(c[1] or '0'), tonumber(c[2] or '0'), tonumber(c[3] or '0')
local maxCalls, maxTokens, maxUsd = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if maxCalls >= 0 and calls + 1 > maxCalls then return {'calls', calls} end
if maxTokens >= 0 and tokens >= maxTokens then return {'tokens', tokens} end
if maxUsd >= 0 and usd >= maxUsd then return {'usd', usd} end
redis.call('HINCRBY', KEYS[1], 'calls', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {'ok', calls + 1}
`;

const CHANGE_STATUS_LUA = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and cjson.decode(current).status == 'decommissioned' then return 'decommissioned' end
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 'changed'
`;

/** Several replicas: overrides in one hash, run counters in one hash per run, both under the limits key prefix. */
export class RedisAgentState implements AgentState {
  private readonly admitScript = new LuaScript(ADMIT_RUN_LUA);
  private readonly changeScript = new LuaScript(CHANGE_STATUS_LUA);

  constructor(private readonly client: Redis, private readonly prefix: string, private readonly onError: (error: unknown) => void) {}

  start(): Promise<void> {
    return connectShared(this.client, this.onError);
  }

  shutdown(): Promise<void> {
    return closeShared(this.client);
  }

  async status(key: string): Promise<StatusOverride | undefined> {
    const raw = await this.client.hget(`${this.prefix}agents:status`, key);
    return raw === null ? undefined : (JSON.parse(raw) as StatusOverride);
  }

  async changeStatus(key: string, override: StatusOverride | undefined): Promise<'changed' | 'decommissioned'> {
    const reply = await this.changeScript.run(this.client, [`${this.prefix}agents:status`], [key, override === undefined ? '' : JSON.stringify(override)]);
    return reply === 'decommissioned' ? 'decommissioned' : 'changed';
  }

  async admitRun(key: string, budget: RunBudget): Promise<RunVerdict> {
    const reply = await this.admitScript.run(this.client, [`${this.prefix}run:${key}`], [
      budget.calls ?? -1, budget.tokens ?? -1, budget.usd === undefined ? -1 : Math.round(budget.usd * 1e6), RUN_TTL_MS,
    ]) as [string, number | string];
    const [outcome, count] = reply;
    const used = Number(count);
    if (outcome === 'ok') return { ok: true, calls: used };
    const dimension = outcome as 'calls' | 'tokens' | 'usd';
    const limit = dimension === 'calls' ? budget.calls! : dimension === 'tokens' ? budget.tokens! : budget.usd!;
    return { ok: false, dimension, limit, used: dimension === 'usd' ? used / 1e6 : used };
  }

  async settleRun(key: string, tokens: number, usdMicros: number): Promise<void> {
    try {
      await this.client.multi()
        .hincrby(`${this.prefix}run:${key}`, 'tokens', Math.max(0, Math.round(tokens)))
        .hincrby(`${this.prefix}run:${key}`, 'usd', Math.max(0, Math.round(usdMicros)))
        .pexpire(`${this.prefix}run:${key}`, RUN_TTL_MS)
        .exec();
    } catch (error) {
      this.onError(error);
    }
  }
}

/** The agent state for the configured limit store; the memory one keeps its overrides in `statusFile`. */
export async function createAgentState(limits: { store: 'memory' | 'redis'; redisUrl: string; keyPrefix: string }, statusFile: string, onError: (error: unknown) => void): Promise<AgentState> {
  if (limits.store === 'memory') return new MemoryAgentState(statusFile);
  return new RedisAgentState(await sharedRedis(limits.redisUrl, 500, onError), limits.keyPrefix, onError);
}
