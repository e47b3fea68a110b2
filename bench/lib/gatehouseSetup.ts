/**
 * Gatehouse's bench configs. The full pipeline is the default config in every
 * part the request passes (virtual key, request and response policy, memory limit
 * store, cost, spans, durable audit spool in `required` mode shipping to a
 * collector). One thing differs, and only in data: a copy of policies/ whose
 * data/defaults.json limits and budgets are raised to 1e9, so the default 3,000
 * requests/min global limit does not turn the load into 429s. The limits are still
 * evaluated and counted on every request exactly as in production.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../proxy/config/schema.js';
import { generateKey, hashKey } from '../../proxy/identity/keyHash.js';

export const REPO_DIR = join(import.meta.dirname, '..', '..');
const HUGE = 1e9;

export interface GatehouseConfigs {
  full: string;
  bare: string;
  /** The full pipeline with the Redis limit store, for `--workers`. */
  workers: string;
  /** The virtual key the bench calls with. */
  key: string;
}

export interface SetupOptions {
  workDir: string;
  mockUrl: string;
  collectorUrl: string;
  /** The collector's ingest key for the proxies. */
  collectorToken: string;
  redisUrl: string;
}

export async function writeGatehouseConfigs(options: SetupOptions): Promise<GatehouseConfigs> {
  const policiesDir = join(options.workDir, 'policies');
  await cp(join(REPO_DIR, 'policies'), policiesDir, { recursive: true, filter: (source) => !source.includes(`${join('policies', 'build')}`) });
  const defaultsFile = join(policiesDir, 'data', 'defaults.json');
  const defaults = JSON.parse(await readFile(defaultsFile, 'utf8')) as Record<string, unknown>;
  await writeFile(defaultsFile, JSON.stringify(raiseLimits(defaults), null, 2));
  const key = generateKey();
  const base = (name: string): ConfigInput => ({
    dataDir: join(options.workDir, name, 'data'),
    providers: { upstream: { type: 'openai', apiKey: 'sk-bench-upstream', baseUrl: `${options.mockUrl}/v1` } },
    models: { 'gpt-4o-mini': { targets: [{ provider: 'upstream', model: 'gpt-4o-mini' }] } },
    keys: [{ id: 'bench', hash: hashKey(key), tenant: 'bench', team: 'load', user: 'bench-user', feature: 'chat' }],
    policy: { dir: policiesDir },
    audit: { collectorUrl: options.collectorUrl, collectorToken: options.collectorToken },
  });
  const full = base('full');
  const bare: ConfigInput = { ...base('bare'), policy: { enabled: false }, audit: { enabled: false } };
  const workers: ConfigInput = { ...base('workers'), limits: { store: 'redis', redisUrl: options.redisUrl, keyPrefix: 'bench:' } };
  const files = { full: join(options.workDir, 'full.yaml'), bare: join(options.workDir, 'bare.yaml'), workers: join(options.workDir, 'workers.yaml') };
  await writeFile(files.full, stringify(full));
  await writeFile(files.bare, stringify(bare));
  await writeFile(files.workers, stringify(workers));
  return { ...files, key };
}

/** Every number under `defaults.limits`, `defaults.budgets` and `global` set to 1e9; the shape is kept. */
function raiseLimits(data: Record<string, unknown>): Record<string, unknown> {
  const raise = (value: unknown): unknown => {
    if (typeof value === 'number') return HUGE;
    if (value && typeof value === 'object' && !Array.isArray(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, raise(v)]));
    return value;
  };
  const out = structuredClone(data);
  const defaults = out.defaults as Record<string, unknown> | undefined;
  if (defaults) {
    defaults.limits = raise(defaults.limits);
    defaults.budgets = raise(defaults.budgets);
  }
  if (out.global) out.global = raise(out.global);
  return out;
}
