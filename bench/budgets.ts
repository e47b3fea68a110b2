/**
 * What durable, exact budgets cost (`npm run bench:budgets`), in one process,
 * interleaved:
 *
 *  - baseline: the memory store with no snapshot file (nothing persisted): one
 *    reserve and one settle of a request charged to three budget scopes;
 *  - journal, one in flight: the same with the spend journal, the settle awaited
 *    as the pipeline awaits it (one write(2) per request: the worst case);
 *  - journal, 64 in flight: 64 requests settled in the same turn share a write
 *    (group commit), reported per request.
 *
 * Money is pico-USD (BigInt) in all three, so the rows isolate the journal.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLimitStore } from '../proxy/limits/memoryStore.js';
import type { Budget } from '../proxy/policy/decision.js';
import { interleaved } from './lib/interleaved.js';

const QUICK = process.argv.includes('--quick');
const ITERATIONS = QUICK ? 5_000 : 30_000;
const ROUNDS = 5;
const BUDGETS: Budget[] = [
  { scope: 'tenant', key: 'acme', usdPerMonth: 1e9 },
  { scope: 'team', key: 'acme/research', usdPerDay: 1e9 },
  { scope: 'user', key: 'acme/alice', usdPerDay: 1e9, tokensPerDay: 1e15 },
];

const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-budgets-'));
try {
  const plain = new MemoryLimitStore();
  const journaled = new MemoryLimitStore({ snapshotPath: join(dir, 'limits.json'), snapshotIntervalMs: 3_600_000 });
  await plain.start();
  await journaled.start();
  const once = async (store: MemoryLimitStore) => {
    const r = await store.reserve({ limits: [], budgets: BUDGETS, estimatedTokens: 1500, estimatedCostUsd: 0.004 });
    if (r.ok) await store.settle(r.reservation, { tokens: 1337, costUsd: 0.0031, costPico: 3_100_000_000n });
  };
  const batch = async (store: MemoryLimitStore) => {
    const reserved = await Promise.all(Array.from({ length: 64 }, () => store.reserve({ limits: [], budgets: BUDGETS, estimatedTokens: 1500, estimatedCostUsd: 0.004 })));
    await Promise.all(reserved.map((r) => (r.ok ? store.settle(r.reservation, { tokens: 1337, costUsd: 0.0031, costPico: 3_100_000_000n }) : undefined)));
  };
  const [base, single, grouped] = await interleaved([() => once(plain), () => once(journaled), () => batch(journaled)], ITERATIONS, ROUNDS);
  const perRequest = grouped! / 64;
  console.log(`reserve + settle of a request charged to 3 budget scopes, p50 of ${ITERATIONS.toLocaleString('en')} runs in ${ROUNDS} interleaved rounds:`);
  console.log(`  no journal (baseline):             ${base!.toFixed(2)} µs`);
  console.log(`  journal, 1 in flight (worst case): ${single!.toFixed(2)} µs  (${(single! / base!).toFixed(2)}x, +${(single! - base!).toFixed(2)} µs)`);
  console.log(`  journal, 64 in flight, per request: ${perRequest.toFixed(2)} µs  (${(perRequest / base!).toFixed(2)}x, +${(perRequest - base!).toFixed(2)} µs)`);
  await plain.shutdown();
  await journaled.shutdown();
} finally {
  await rm(dir, { recursive: true, force: true });
}
