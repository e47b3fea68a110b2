/**
 * Loads the YAML config: parse, interpolate `${ENV}` in string values, validate
 * with the schema, then check cross-references. Every error names the path and,
 * where it helps, the allowed values.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[], source: string) {
    super(`invalid config ${source}:\n  ${problems.join('\n  ')}`);
  }
}

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([(error as Error).message], file);
  }
  return parseConfig(raw, file, env);
}

export function parseConfig(raw: unknown, source = '(inline)', env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const interpolated = interpolate(raw, '', env, problems);
  if (problems.length > 0) throw new ConfigError(problems, source);
  const result = configSchema.safeParse(interpolated);
  if (!result.success) throw new ConfigError(result.error.issues.map(describeIssue), source);
  const config = result.data;
  problems.push(...crossReferenceProblems(config));
  if (problems.length > 0) throw new ConfigError(problems, source);
  return config;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function interpolate(value: unknown, path: string, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push(`${path || '(root)'}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, `${path}[${i}]`, env, problems));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = interpolate(item, path ? `${path}.${key}` : key, env, problems);
    return out;
  }
  return value;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(root)';
}

/** One zod issue as `path: message` (also used by the agent registry). */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'invalid_value':
      return `${path}: ${issue.message}; allowed: ${issue.values.map(String).join(', ')}`;
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator) return `${path}: ${issue.message}`;
      return `${path}: ${issue.message}`;
    case 'unrecognized_keys':
      return `${path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    default:
      return `${path}: ${issue.message}`;
  }
}

function crossReferenceProblems(config: Config): string[] {
  const problems: string[] = [];
  const providers = Object.keys(config.providers);
  for (const [alias, model] of Object.entries(config.models)) {
    model.targets.forEach((target, i) => {
      const provider = config.providers[target.provider];
      if (!provider) {
        problems.push(`models.${alias}.targets[${i}].provider: unknown provider '${target.provider}'; known: ${providers.join(', ')}`);
      } else if (model.kind === 'embeddings' && provider.type === 'anthropic') {
        problems.push(`models.${alias}.targets[${i}].provider: '${target.provider}' is an anthropic provider, which has no embeddings API`);
      }
    });
  }
  const aliases = Object.keys(config.models);
  const keyIds = new Set<string>();
  const hashes = new Set<string>();
  config.keys.forEach((key, i) => {
    if (keyIds.has(key.id)) problems.push(`keys[${i}].id: duplicate key id '${key.id}'`);
    if (hashes.has(key.hash)) problems.push(`keys[${i}].hash: the same key hash appears twice`);
    keyIds.add(key.id);
    if (key.roles.includes('approver') && (key.user === undefined || key.user === '')) {
      problems.push(`keys[${i}].user: an approver key names the person who approves (user), so approvals are never anonymous`);
    }
    hashes.add(key.hash);
    key.models?.forEach((name, j) => {
      if (name !== '*' && !config.models[name]) problems.push(`keys[${i}].models[${j}]: unknown model '${name}'; known: ${aliases.join(', ')}`);
    });
  });
  if (config.agents.dir !== undefined && !config.policy.enabled) {
    problems.push('agents.dir: the agent registry needs policy.enabled: true (its rules and the run budgets are policy)');
  }
  if (Object.keys(config.mcp.servers).length > 0 && !config.policy.enabled) {
    problems.push('mcp.servers: the MCP gateway needs policy.enabled: true (without the tool policy every tool call would be refused)');
  }
  for (const name of Object.keys(config.mcp.servers)) {
    if (!/^[a-z][a-z0-9_-]{0,63}$/.test(name)) {
      problems.push(`mcp.servers.${name}: expected a server name of a-z, 0-9, _ and -, starting with a letter, at most 64 characters (it prefixes its tools: <name>.<tool>)`);
    }
    if (name === 'gatehouse') problems.push(`mcp.servers.${name}: 'gatehouse' is reserved`);
  }
  for (const [name, provider] of Object.entries(config.providers)) {
    if (provider.type !== 'simulated' && provider.type !== 'openai-compatible' && !provider.apiKey) {
      problems.push(`providers.${name}.apiKey: required for a ${provider.type} provider (use \${ENV_VAR} to read it from the environment)`);
    }
  }
  return problems;
}
