/**
 * Budgets that survive a crash (docs/operations.md, "Budgets across a Redis
 * restart"): the memory store journals settled spend before each response
 * ends; a Redis store is as durable as Redis's own persistence, so its
 * settings are read (CONFIG GET) and an instance without AOF is flagged.
 */
import { Redis } from 'ioredis';
import { pass, warn, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

const ID = 'limits.durable';
const TITLE = 'settled spend survives a crash';
const FIX = 'run Redis with appendonly yes and appendfsync everysec (or always); see docs/operations.md, "Budgets across a Redis restart"';

async function persistence(url: string): Promise<{ appendonly: string; appendfsync: string }> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, commandTimeout: 2_000, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  client.on('error', () => {});
  try {
    await client.connect();
    const read = async (name: string) => {
      const reply = (await client.config('GET', name)) as unknown as string[];
      return String(reply[1] ?? '');
    };
    return { appendonly: await read('appendonly'), appendfsync: await read('appendfsync') };
  } finally {
    client.disconnect();
  }
}

export async function checkBudgetDurability(inputs: ReadinessInputs): Promise<CheckResult> {
  const { config } = inputs;
  if (config.limits.store === 'memory') {
    return pass(ID, TITLE, `the memory store journals each settled spend before the response ends (${config.limits.snapshotFile ?? `${config.dataDir}/limits.json`}.journal${config.audit.fsync ? ', fsynced' : ''})`);
  }
  let settings: { appendonly: string; appendfsync: string };
  try {
    settings = await persistence(config.limits.redisUrl);
  } catch (error) {
    return warn(ID, TITLE, `could not read Redis's persistence settings (${(error as Error).message}): budgets are as durable as that Redis`, FIX);
  }
  if (settings.appendonly !== 'yes') {
    return warn(ID, TITLE, `Redis runs without AOF (appendonly ${settings.appendonly || 'unknown'}): a Redis restart forgets the spend since its last RDB snapshot`, FIX);
  }
  if (settings.appendfsync === 'no') return warn(ID, TITLE, 'Redis AOF is on with appendfsync no: the OS decides when spend reaches the disk', FIX);
  return pass(ID, TITLE, `Redis AOF is on (appendfsync ${settings.appendfsync})`);
}
