/** The approval service for a config: its store on the limit store's backend (memory + file, or Redis), its webhook, its links. */
import { join, resolve } from 'node:path';
import type { Tracer } from '@opentelemetry/api';
import type { Config } from '../config/schema.js';
import { log } from '../log.js';
import { sharedRedis } from '../limits/sharedRedis.js';
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
  const { RedisApprovalStore } = await import('./redisStore.js');
  const onError = (error: unknown) => log.warn('approvals: Redis error', { error: String((error as Error).message ?? error) });
  return new RedisApprovalStore(await sharedRedis(config.limits.redisUrl, 1_000, onError), config.limits.keyPrefix, onError);
}
