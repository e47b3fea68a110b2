/**
 * The limit stores by name, in one place. The config layer names one of them;
 * an unknown name is an error at start that lists the known ones. Each store's
 * module is imported only when it is chosen: the Redis store brings ioredis
 * (~11 MB of RSS), which a gateway on the memory store never needs.
 */
import type { MemoryStoreOptions } from './memoryStore.js';
import type { RedisStoreOptions } from './redisStore.js';
import type { LimitStore } from './types.js';

export type LimitStoreConfig = ({ kind: 'memory' } & MemoryStoreOptions) | ({ kind: 'redis' } & RedisStoreOptions);

const FACTORIES: { [K in LimitStoreConfig['kind']]: (config: Extract<LimitStoreConfig, { kind: K }>) => Promise<LimitStore> } = {
  memory: async (config) => new (await import('./memoryStore.js')).MemoryLimitStore(config),
  redis: async (config) => new (await import('./redisStore.js')).RedisLimitStore(config),
};

/** A new, not yet started store. `path` names the config entry in errors. */
export async function createLimitStore(config: LimitStoreConfig, path = 'limits.store'): Promise<LimitStore> {
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
