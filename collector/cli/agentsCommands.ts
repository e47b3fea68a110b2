/**
 * `gatehouse agents list | export | unregistered`: the auditor's inventory
 * (collector/agents/inventory.ts). The registry comes from `--agents-dir DIR`, or
 * from `agents.dir` in `--config FILE`; the activity from the audit store.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse as parseYaml } from 'yaml';
import { readAgentDirectory, RegistryError } from '../../proxy/agents/registry.js';
import type { Agent } from '../../proxy/agents/agentSchema.js';
import { agentInventory, toolsReachedBy, unregisteredAgents, type InventoryRow } from '../agents/inventory.js';
import { CATALOG_SNAPSHOT_FILE, readCatalogSnapshot } from '../../proxy/mcp/catalogSnapshot.js';
import { readCompiled } from '../../proxy/policy/compiled.js';
import { PolicyEngine } from '../../proxy/policy/engine.js';
import { readPolicyData } from '../../proxy/policy/policyData.js';
import { parse, parseTime, STORE_OPTIONS, UsageError } from './arguments.js';
import { readStore, storeLocation, type CommandIO } from './commandIO.js';
import { formatTable } from './table.js';

const FAR_FUTURE = new Date('9999-01-01T00:00:00Z');
const REGISTRY_OPTIONS = { 'agents-dir': { type: 'string' }, config: { type: 'string' }, policies: { type: 'string' }, tools: { type: 'string' } } as const;
const PERIOD_OPTIONS = { from: { type: 'string' }, to: { type: 'string' } } as const;
export const EXPORT_FORMATS = ['csv', 'parquet', 'json'] as const;

interface RegistrySource { 'agents-dir'?: string; config?: string; policies?: string; tools?: string; db?: string; 'data-dir'?: string }

async function configFile(values: RegistrySource): Promise<{ agents?: { dir?: unknown }; policy?: { dir?: unknown } } | undefined> {
  if (values.config === undefined) return undefined;
  return (parseYaml(await readFile(values.config, 'utf8')) ?? {}) as { agents?: { dir?: unknown }; policy?: { dir?: unknown } };
}

async function registryAgents(values: RegistrySource): Promise<Agent[]> {
  let dir = values['agents-dir'];
  if (dir === undefined && values.config !== undefined) {
    const config = await configFile(values);
    if (typeof config?.agents?.dir !== 'string') throw new UsageError(`${values.config} sets no agents.dir`);
    dir = config.agents.dir;
  }
  if (dir === undefined) throw new UsageError('name the registry: --agents-dir DIR, or --config FILE with agents.dir');
  try {
    return [...(await readAgentDirectory(resolve(dir))).agents];
  } catch (error) {
    if (error instanceof RegistryError) throw new UsageError(error.message);
    throw new UsageError(`cannot read the agent registry ${dir}: ${(error as Error).message}`);
  }
}

/**
 * The tools each agent really reaches: the gateway's last offered tools
 * (`--tools`, default `<data dir>/mcp-tools.json`) that the tool policy
 * (`--policies`, default `policy.dir` of `--config`, else ./policies) shows it.
 * Undefined when there is no snapshot of the gateway's tools.
 */
async function reachableTools(values: RegistrySource, agents: readonly Agent[]): Promise<Map<string, string[]> | undefined> {
  const tools = await readCatalogSnapshot(resolve(values.tools ?? join(storeLocation(values).dataDir, CATALOG_SNAPSHOT_FILE)));
  if (tools === undefined) return undefined;
  const config = await configFile(values);
  const policies = resolve(values.policies ?? (typeof config?.policy?.dir === 'string' ? config.policy.dir : './policies'));
  const data = await readPolicyData(policies);
  const engine = await PolicyEngine.load((await readCompiled(policies)).wasm, { ...data, agents: Object.fromEntries(agents.map((a) => [a.id, a])) });
  return toolsReachedBy(engine, agents, tools);
}

function period(values: { from?: string; to?: string }): { from: Date; to: Date } {
  return { from: parseTime(values.from, '--from', new Date(0)), to: parseTime(values.to, '--to', FAR_FUTURE) };
}

const LISTED = ['agent_id', 'tenant', 'status', 'owner_team', 'owner_contact', 'environment', 'models', 'reachable_tools', 'data', 'first_seen', 'last_seen', 'calls', 'cost_usd'] as const;

export async function agentsListCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv, { ...STORE_OPTIONS, ...REGISTRY_OPTIONS, ...PERIOD_OPTIONS });
  const agents = await registryAgents(values);
  const rows = await readStore(io, values, async (db) => agentInventory(db, agents, period(values), await reachableTools(values, agents)));
  io.out(formatTable(LISTED, rows.map((r) => LISTED.map((c) => { const v = r[c]; return Array.isArray(v) ? v.join(' ') : v; }))));
  io.out(`${rows.length} agent(s)`);
  return 0;
}

export async function agentsUnregisteredCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv, { ...STORE_OPTIONS, ...PERIOD_OPTIONS });
  const rows = await readStore(io, values, (db) => unregisteredAgents(db, period(values)));
  const headers = ['tenant', 'agent', 'calls', 'first_seen', 'last_seen', 'keys'] as const;
  io.out(formatTable(headers, rows.map((r) => headers.map((h) => r[h]))));
  io.out(`${rows.length} unregistered agent(s)`);
  return 0;
}

/** DuckDB types of the CSV/Parquet columns, in order (lists become '; '-joined text, which a spreadsheet shows as one cell). */
const COLUMN_TYPES: Record<keyof InventoryRow, string> = {
  agent_id: 'VARCHAR', name: 'VARCHAR', tenant: 'VARCHAR', owner_team: 'VARCHAR', owner_contact: 'VARCHAR', purpose: 'VARCHAR', environment: 'VARCHAR',
  status: 'VARCHAR', status_reason: 'VARCHAR', models: 'VARCHAR', tools: 'VARCHAR', reachable_tools: 'VARCHAR', data: 'VARCHAR',
  budget_usd_per_day: 'DECIMAL(18,6)', budget_usd_per_month: 'DECIMAL(18,6)', budget_tokens_per_day: 'BIGINT', budget_tokens_per_month: 'BIGINT',
  requests_per_minute: 'BIGINT', tokens_per_minute: 'BIGINT', max_delegation_depth: 'INTEGER',
  run_budget_calls: 'BIGINT', run_budget_tokens: 'BIGINT', run_budget_usd: 'DECIMAL(18,6)',
  first_seen: 'TIMESTAMPTZ', last_seen: 'TIMESTAMPTZ', period_from: 'TIMESTAMPTZ', period_to: 'TIMESTAMPTZ',
  calls: 'BIGINT', refusals: 'BIGINT', input_tokens: 'BIGINT', output_tokens: 'BIGINT', cost_usd: 'DECIMAL(38,12)',
};

export async function agentsExportCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv, { ...STORE_OPTIONS, ...REGISTRY_OPTIONS, ...PERIOD_OPTIONS, format: { type: 'string' }, out: { type: 'string' } });
  const format = values.format ?? 'csv';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: expected ${EXPORT_FORMATS.join(', ')}`);
  if (values.out === undefined) throw new UsageError('--out FILE is required');
  const out = resolve(values.out);
  const agents = await registryAgents(values);
  const rows = await readStore(io, values, async (db) => agentInventory(db, agents, period(values), await reachableTools(values, agents)));
  if (format === 'json') {
    await writeFile(out, `${JSON.stringify(rows, null, 2)}\n`, { mode: 0o600 });
  } else {
    await writeTabular(rows, out, format as 'csv' | 'parquet');
  }
  io.err(`wrote ${rows.length} agent(s) to ${out}`);
  return 0;
}

/** CSV (header row, UTF-8) or zstd Parquet, written by an in-memory DuckDB from the rows as JSON lines. */
async function writeTabular(rows: readonly InventoryRow[], out: string, format: 'csv' | 'parquet'): Promise<void> {
  const staged = join(tmpdir(), `gatehouse-agents-${randomUUID()}.jsonl`);
  const flat = rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.isArray(v) ? v.join('; ') : v]))));
  await writeFile(staged, flat.join('\n'), { mode: 0o600 });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const columns = Object.entries(COLUMN_TYPES).map(([name, type]) => `'${name}': '${type}'`).join(', ');
    const options = format === 'csv' ? 'FORMAT csv, HEADER true' : 'FORMAT parquet, COMPRESSION zstd';
    const source = rows.length === 0
      ? `SELECT ${Object.entries(COLUMN_TYPES).map(([name, type]) => `NULL::${type} AS "${name}"`).join(', ')} LIMIT 0`
      : `SELECT * FROM read_json('${staged.replaceAll("'", "''")}', format = 'newline_delimited', columns = {${columns}})`;
    await connection.run(`COPY (${source}) TO '${out.replaceAll("'", "''")}' (${options})`);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(staged, { force: true });
  }
}
