/** Writes agent registry files for tests: one YAML file per agent in a temp folder. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export type AgentSpec = Record<string, unknown> & { id: string };

export function agentSpec(id: string, overrides: Record<string, unknown> = {}): AgentSpec {
  return {
    id, name: `${id} (test)`, tenant: 'acme', owner: { team: 'research', contact: 'research@acme.example' },
    purpose: `Test agent ${id}`, environment: 'production', status: 'active', models: ['gpt-4o-mini'],
    tools: [{ server: 'crm', tools: ['lookup_customer'] }], data: ['crm:read'], maxDelegationDepth: 3,
    ...overrides,
  };
}

export interface TestRegistry {
  dir: string;
  write(agent: AgentSpec): Promise<void>;
  remove(): Promise<void>;
}

export async function createRegistry(agents: readonly AgentSpec[]): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-agents-'));
  const write = (agent: AgentSpec) => writeFile(join(dir, `${agent.id}.yaml`), stringify(agent));
  for (const agent of agents) await write(agent);
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) };
}
