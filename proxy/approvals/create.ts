/** The approval service for a config: its store on the limit store's backend (memory + file, or Redis), its webhook, its links. */
import { join, resolve } from 'node:path';
import type { Tracer } from '@opentelemetry/api';
import type { Config } from '../config/schema.js';
import { log } from '../log.js';
import { APPROVALS_PATH } from './paths.js';
import { ApprovalService } from './service.js';
import { MemoryApprovalStore, type ApprovalStore } from './store.js';
import { ApprovalWebhook } from './webhook.js';


export async function createApprovals(config: Config, tracer: Tracer, gatewayUrl: () => string): Promise<ApprovalService> {
  const url = (id: string) => `${(config.approvals.publicUrl ?? gatewayUrl()).replace(/\/$/, '')}${APPROVALS_PATH}/${id}`;
  const webhook = config.approvals.webhook === undefined ? undefined : new ApprovalWebhook(config.approvals.webhook, url);
  return new ApprovalService(await createStore(config), tracer, config.approvals, url, webhook);
}

async function createStore(config: Config): Promise<ApprovalStore> {
  if (config.limits.store === 'memory') return new MemoryApprovalStore(resolve(join(config.dataDir, 'approvals.json')));
  const [{ Redis }, { RedisApprovalStore }] = await Promise.all([import('ioredis'), import('./redisStore.js')]);
  const client = new Redis(config.limits.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1_000, retryStrategy: (attempt) => Math.min(attempt * 100, 2000) });
  const onError = (error: unknown) => log.warn('approvals: Redis error', { error: String((error as Error).message ?? error) });
  client.on('error', onError);
  return new RedisApprovalStore(client, config.limits.keyPrefix, onError);
}
