/**
 * What the readiness checks read, loaded the way the gateway would run: the
 * config (raw, to see what was written inline, and parsed), the compiled policy
 * with its data and the agent registry, the MCP tool list the gateway last
 * offered, and the audit store when there is one.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Agent } from '../agents/agentSchema.js';
import { readAgentDirectory } from '../agents/registry.js';
import type { Config } from '../config/schema.js';
import { CATALOG_SNAPSHOT_FILE, readCatalogSnapshot } from '../mcp/catalogSnapshot.js';
import { readCompiled } from '../policy/compiled.js';
import { PolicyEngine } from '../policy/engine.js';
import type { PolicyTool } from '../policy/input.js';
import { readPolicyData, type PolicyDocument } from '../policy/policyData.js';

export interface ReadinessInputs {
  config: Config;
  /** The config as written, before `${ENV}` interpolation (undefined for the embedded default). */
  raw: unknown;
  source: string;
  /** Absent when the policy is disabled or cannot be loaded (`loadProblem` says why). */
  engine: PolicyEngine | undefined;
  data: PolicyDocument | undefined;
  loadProblems: string[];
  agents: readonly Agent[];
  tools: PolicyTool[] | undefined;
  /** The audit store's file, when it exists. */
  auditDb: string | undefined;
  /** The collector runs in the gateway's process (`gatehouse start`). */
  embeddedCollector: boolean;
}

export async function loadInputs(config: Config, source: string, file: string | undefined): Promise<ReadinessInputs> {
  const loadProblems: string[] = [];
  const raw = file === undefined ? undefined : parseYaml(await readFile(file, 'utf8')) as unknown;
  let agents: Agent[] = [];
  if (config.agents.dir !== undefined) {
    try {
      agents = [...(await readAgentDirectory(resolve(config.agents.dir))).agents];
    } catch (error) {
      loadProblems.push(`agent registry: ${(error as Error).message}`);
    }
  }
  let engine: PolicyEngine | undefined;
  let data: PolicyDocument | undefined;
  if (config.policy.enabled) {
    try {
      const dir = resolve(config.policy.dir);
      data = await readPolicyData(dir);
      engine = await PolicyEngine.load((await readCompiled(dir)).wasm, { ...data, agents: Object.fromEntries(agents.map((a) => [a.id, a])) });
    } catch (error) {
      loadProblems.push(`policies: ${(error as Error).message}`);
    }
  }
  const dataDir = resolve(config.dataDir);
  const tools = await readCatalogSnapshot(join(dataDir, CATALOG_SNAPSHOT_FILE));
  const auditDb = join(dataDir, 'audit.duckdb');
  return {
    config, raw, source, engine, data, loadProblems, agents, tools,
    auditDb: existsSync(auditDb) ? auditDb : undefined,
    embeddedCollector: config.collector.embedded && config.audit.collectorUrl === undefined,
  };
}
