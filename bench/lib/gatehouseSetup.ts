/**
 * Gatehouse's bench configs. The full pipeline is the default config in every
 * part the request passes (virtual key, request and response policy, memory limit
 * store, cost, spans, durable audit spool in `required` mode shipping to a
 * collector). One thing differs, and only in data: a copy of policies/ whose
 * data/defaults.json limits and budgets are raised to 1e9, so the default 3,000
 * requests/min global limit does not turn the load into 429s. The limits are still
 * evaluated and counted on every request exactly as in production.
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
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
  /** A key bound to the registered agent `bench-agent` (same tenant). */
  agentKey: string;
}

export interface SetupOptions {
  workDir: string;
  mockUrl: string;
  collectorUrl: string;
  /** The collector's ingest key for the proxies. */
  collectorToken: string;
  redisUrl: string;
  /** The MCP server the full pipeline offers as `crm` (bench/lib/mcpUpstream.ts), if one runs. */
  mcpUrl?: string;
}

export const BENCH_AGENT = 'bench-agent';

export async function writeGatehouseConfigs(options: SetupOptions): Promise<GatehouseConfigs> {
  const policiesDir = join(options.workDir, 'policies');
  await cp(join(REPO_DIR, 'policies'), policiesDir, { recursive: true, filter: (source) => !source.includes(`${join('policies', 'build')}`) });
  const defaultsFile = join(policiesDir, 'data', 'defaults.json');
  const defaults = JSON.parse(await readFile(defaultsFile, 'utf8')) as Record<string, unknown>;
  const raised = raiseLimits(defaults);
  await writeFile(defaultsFile, JSON.stringify(raised, null, 2));
  const tenantsFile = join(policiesDir, 'data', 'tenants.json');
  const tenants = JSON.parse(await readFile(tenantsFile, 'utf8')) as { tenants: Record<string, unknown> };
  tenants.tenants.bench = { ...(raised.defaults as Record<string, unknown>), tools: ['*'] };
  await writeFile(tenantsFile, JSON.stringify(tenants, null, 2));
  const promptsDir = join(options.workDir, 'prompts');
  await cp(join(REPO_DIR, 'prompts'), promptsDir, { recursive: true });
  const agentsDir = join(options.workDir, 'agents');
  await mkdir(agentsDir, { recursive: true });
  await writeFile(join(agentsDir, `${BENCH_AGENT}.yaml`), stringify({
    id: BENCH_AGENT, name: 'Bench advisor assistant', tenant: 'bench', owner: { team: 'load', contact: 'bench@example.invalid' },
    purpose: 'Load for npm run bench', environment: 'production', models: ['*'], tools: [{ server: 'crm', tools: ['*'] }],
    budgets: { usdPerDay: HUGE, usdPerMonth: HUGE, tokensPerDay: HUGE }, limits: { requestsPerMinute: HUGE, tokensPerMinute: HUGE },
    runBudget: { calls: 10_000_000, tokens: HUGE, usd: HUGE },
  }));
  const key = generateKey();
  const agentKey = generateKey();
  const base = (name: string): ConfigInput => ({
    dataDir: join(options.workDir, name, 'data'),
    providers: { upstream: { type: 'openai', apiKey: 'sk-bench-upstream', baseUrl: `${options.mockUrl}/v1` } },
    models: { 'gpt-4o-mini': { targets: [{ provider: 'upstream', model: 'gpt-4o-mini' }] } },
    keys: [
      { id: 'bench', hash: hashKey(key), tenant: 'bench', team: 'load', user: 'bench-user', feature: 'chat' },
      { id: 'bench-agent', hash: hashKey(agentKey), tenant: 'bench', team: 'load', user: 'bench-user', feature: 'advisor', agent: BENCH_AGENT },
    ],
    policy: { dir: policiesDir },
    audit: { collectorUrl: options.collectorUrl, collectorToken: options.collectorToken },
  });
  const full: ConfigInput = {
    ...base('full'),
    prompts: { dir: promptsDir, watch: false },
    agents: { dir: agentsDir, watch: false },
    ...(options.mcpUrl ? { mcp: { servers: { crm: { url: options.mcpUrl } } } } : {}),
  };
  const bare: ConfigInput = { ...base('bare'), policy: { enabled: false }, audit: { enabled: false } };
  const workers: ConfigInput = { ...base('workers'), limits: { store: 'redis', redisUrl: options.redisUrl, keyPrefix: 'bench:' } };
  const files = { full: join(options.workDir, 'full.yaml'), bare: join(options.workDir, 'bare.yaml'), workers: join(options.workDir, 'workers.yaml') };
  await writeFile(files.full, stringify(full));
  await writeFile(files.bare, stringify(bare));
  await writeFile(files.workers, stringify(workers));
  return { ...files, key, agentKey };
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
