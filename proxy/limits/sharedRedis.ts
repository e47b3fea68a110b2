/**
 * The Redis connection of a shared-state store other than the limit store (agent
 * status, approvals): connected lazily, never queueing commands while down (a
 * caller gets an error at once, and fails closed), reconnecting with backoff.
 */
import type { Redis } from 'ioredis';

export async function sharedRedis(url: string, commandTimeoutMs: number, onError: (error: unknown) => void): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: commandTimeoutMs, retryStrategy: (attempt) => Math.min(attempt * 100, 2000) });
  client.on('error', onError);
  return client;
}

/** Connects once; a failure is reported, not thrown (the retry strategy keeps trying). */
export async function connectShared(client: Redis, onError: (error: unknown) => void): Promise<void> {
  if (client.status !== 'wait') return;
  try {
    await client.connect();
  } catch (error) {
    onError(error);
  }
}

export async function closeShared(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}
