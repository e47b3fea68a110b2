/**
 * A second proxy process for redisStore.test.ts: `node --import tsx hammer.ts
 * <redis url> <key prefix> <scope key> <requests/min> <reserves> <start at ms>`.
 * Waits until the start instant, fires all reserves at once against the shared
 * Redis and prints `{"ok":n,"denied":m}`.
 */
import { RedisLimitStore } from '../../proxy/limits/redisStore.js';

const [url, keyPrefix, key, limit, reserves, startAt] = process.argv.slice(2) as [string, string, string, string, string, string];
const store = new RedisLimitStore({ url, keyPrefix, commandTimeoutMs: 5000 });
await store.start();
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const limits = [{ scope: 'tenant' as const, key, requestsPerMinute: Number(limit) }];
const results = await Promise.all(Array.from({ length: Number(reserves) }, () => store.reserve({ limits, budgets: [], estimatedTokens: 10 })));
const ok = results.filter((r) => r.ok).length;
const unavailable = results.filter((r) => !r.ok && r.code === 'limits_unavailable').length;
process.stdout.write(JSON.stringify({ ok, denied: results.length - ok, unavailable }));
await store.shutdown();
