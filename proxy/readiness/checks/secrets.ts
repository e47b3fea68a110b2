/** Secrets: no provider key, upstream credential or ingest key sits inline in the config file: they come from the environment. */
import { fail, listed, pass, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

const ID = 'secrets.inline';
const TITLE = 'no secret is written in the config file';

function inline(value: unknown): boolean {
  return typeof value === 'string' && value !== '' && !/\$\{[A-Za-z_][A-Za-z0-9_]*\}/.test(value);
}

const SECRET_HEADER = /^(authorization|x-api-key|api-key|cookie|proxy-authorization)$/i;

export function checkSecrets(inputs: ReadinessInputs): CheckResult {
  const raw = inputs.raw as Record<string, any> | undefined;
  if (raw === undefined || raw === null || typeof raw !== 'object') return pass(ID, TITLE, `${inputs.source}: keys come from the environment`);
  const found: string[] = [];
  for (const [name, provider] of Object.entries((raw.providers ?? {}) as Record<string, any>)) {
    if (inline(provider?.apiKey)) found.push(`providers.${name}.apiKey`);
  }
  for (const [name, server] of Object.entries((raw.mcp?.servers ?? {}) as Record<string, any>)) {
    for (const [header, value] of Object.entries((server?.headers ?? {}) as Record<string, unknown>)) if (SECRET_HEADER.test(header) && inline(value)) found.push(`mcp.servers.${name}.headers.${header}`);
    for (const [variable, value] of Object.entries((server?.env ?? {}) as Record<string, unknown>)) if (/(key|token|secret|password)/i.test(variable) && inline(value)) found.push(`mcp.servers.${name}.env.${variable}`);
  }
  if (inline(raw.audit?.collectorToken)) found.push('audit.collectorToken');
  for (const [header, value] of Object.entries((raw.approvals?.webhook?.headers ?? {}) as Record<string, unknown>)) if (SECRET_HEADER.test(header) && inline(value)) found.push(`approvals.webhook.headers.${header}`);
  if (found.length > 0) return fail(ID, TITLE, `inline: ${listed(found)}`, 'write "${ENV_NAME}" and set the variable from your secret store');
  return pass(ID, TITLE, 'every secret is a ${ENV} reference');
}
