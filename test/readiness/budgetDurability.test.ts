/**
 * readiness `limits.durable`: the memory store passes (its journal); a Redis
 * store passes only with AOF on, and warns when it is off or unreadable.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../proxy/config/load.js';
import type { ConfigInput } from '../../proxy/config/schema.js';
import { checkBudgetDurability } from '../../proxy/readiness/checks/budgetDurability.js';
import type { ReadinessInputs } from '../../proxy/readiness/inputs.js';
import { describeWithRedis, startRedis, type RunningRedis } from '../support/redis.js';

function inputs(limits: ConfigInput['limits']): ReadinessInputs {
  const config = parseConfig({
    providers: { sim: { type: 'simulated' } }, models: { m: { targets: [{ provider: 'sim', model: 'm' }] } }, limits,
  }, '(test)', {});
  return { config } as ReadinessInputs;
}

describeWithRedis('readiness: limits.durable', () => {
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('passes the memory store, warns on Redis without AOF, passes it with AOF, warns when Redis cannot be read', async () => {
    expect((await checkBudgetDurability(inputs({ store: 'memory' }))).status).toBe('pass');
    const off = await checkBudgetDurability(inputs({ store: 'redis', redisUrl: redis.url }));
    expect(off).toMatchObject({ status: 'warn' });
    expect(off.detail).toContain('without AOF');
    const client = new Redis(redis.url);
    await client.config('SET', 'appendonly', 'yes');
    try {
      expect(await checkBudgetDurability(inputs({ store: 'redis', redisUrl: redis.url }))).toMatchObject({ status: 'pass', detail: 'Redis AOF is on (appendfsync everysec)' });
    } finally {
      // Off again, so that stopping the throwaway server does not wait on its AOF.
      await client.config('SET', 'appendonly', 'no');
      await client.quit();
    }
    expect((await checkBudgetDurability(inputs({ store: 'redis', redisUrl: 'redis://127.0.0.1:9' }))).status).toBe('warn');
  });
});
