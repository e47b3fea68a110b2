/**
 * The limit stores by name, in one place. The config layer names one of them;
 * an unknown name is an error at start that lists the known ones.
 */
import { MemoryLimitStore, type MemoryStoreOptions } from './memoryStore.js';
import { RedisLimitStore, type RedisStoreOptions } from './redisStore.js';
import type { LimitStore } from './types.js';

export type LimitStoreConfig = ({ kind: 'memory' } & MemoryStoreOptions) | ({ kind: 'redis' } & RedisStoreOptions);

const FACTORIES: { [K in LimitStoreConfig['kind']]: (config: Extract<LimitStoreConfig, { kind: K }>) => LimitStore } = {
  memory: (config) => new MemoryLimitStore(config),
  redis: (config) => new RedisLimitStore(config),
};

/** A new, not yet started store. `path` names the config entry in errors. */
export function createLimitStore(config: LimitStoreConfig, path = 'limits.store'): LimitStore {
  switch (config.kind) {
    case 'memory':
      return FACTORIES.memory(config);
    case 'redis':
      return FACTORIES.redis(config);
    default: {
      const kind: unknown = (config as { kind: unknown }).kind;
      throw new Error(`${path}.kind: unknown limit store '${String(kind)}'; known: ${Object.keys(FACTORIES).join(', ')}`);
    }
  }
}
