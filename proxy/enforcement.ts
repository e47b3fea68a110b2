/**
 * The policy store and the limit store, built from the `policy` and `limits`
 * config sections. Policies load before the gateway reports ready; a SIGHUP or a
 * file change reloads them with an atomic swap.
 */
import { join, resolve } from 'node:path';
import type { Config } from './config/schema.js';
import { createAgentState, type AgentState } from './agents/agentState.js';
import { AgentRegistry } from './agents/registry.js';
import { createLimitStore } from './limits/stores.js';
import type { LimitStore } from './limits/types.js';
import { log } from './log.js';
import { PolicyStore } from './policy/store.js';

export interface EnforcementParts {
  policies: PolicyStore | undefined;
  limits: LimitStore | undefined;
  /** The agent registry (config `agents.dir`); its agents are the policies' `data.agents`. */
  agents: AgentRegistry | undefined;
  /** Agent status overrides and run counters, on the limit store's backend. */
  agentState: AgentState | undefined;
  start(): Promise<void>;
  shutdown(): Promise<void>;
}

export async function createEnforcement(config: Config): Promise<EnforcementParts> {
  if (!config.policy.enabled) {
    return { policies: undefined, limits: undefined, agents: undefined, agentState: undefined, start: async () => {}, shutdown: async () => {} };
  }
  const agents = config.agents.dir === undefined ? undefined : new AgentRegistry({
    dir: config.agents.dir,
    watch: config.agents.watch,
    onReload: (result) => {
      if (result.ok) log.info('agent registry reloaded', { revision: result.revision, agents: result.agents });
      else log.error('agent registry reload refused; the previous registry keeps answering', { error: result.error });
    },
  });
  const policies = new PolicyStore({
    ...(agents ? { extraData: () => ({ agents: agents.current.policyData }) } : {}),
    policiesDir: resolve(config.policy.dir),
    watch: config.policy.watch,
    onReload: (result) => {
      if (result.ok) {
        if (result.changed !== 'none') log.info('policy reloaded', { changed: result.changed, revision: result.revision });
      } else {
        log.error('policy reload refused; the previous policy keeps answering', { error: result.error, locations: result.locations, revision: result.revision });
      }
    },
  });
  const onError = (error: unknown, operation: string) => log.warn('limit store', { operation, error });
  const limits =
    config.limits.store === 'redis'
      ? await createLimitStore({ kind: 'redis', url: config.limits.redisUrl, keyPrefix: config.limits.keyPrefix, failMode: config.limits.failMode, onError })
      : await createLimitStore({ kind: 'memory', snapshotPath: resolve(config.limits.snapshotFile ?? join(config.dataDir, 'limits.json')), fsync: config.audit.fsync, onError });
  const agentState = await createAgentState(config.limits, resolve(join(config.dataDir, 'agent-status.json')), (error) => onError(error, 'agents'));
  let stopped: Promise<void> | undefined;
  return {
    policies,
    limits,
    agents,
    agentState,
    async start() {
      // The registry first: the policies read it as data.
      if (agents) {
        await agents.start();
        agents.onChange(() => void policies.reload());
      }
      await Promise.all([policies.start(), limits.start(), agentState.start()]);
    },
    shutdown: () => (stopped ??= Promise.allSettled([policies.shutdown(), limits.shutdown(), agentState.shutdown(), Promise.resolve(agents?.shutdown())]).then(() => undefined)),
  };
}
