/**
 * `gatehouse readiness`: every check, in a fixed order (docs/readiness.md). A
 * config that does not load is the first failure, and the only one reported.
 */
import { resolve } from 'node:path';
import type { AuditDatabase } from '../../collector/store/auditDatabase.js';
import { ConfigError } from '../config/load.js';
import { resolveConfig } from '../cli/configSource.js';
import { fail, pass, type CheckResult } from './check.js';
import { checkAgents } from './checks/agents.js';
import { checkAttribution } from './checks/attribution.js';
import { checkBudgetDurability } from './checks/budgetDurability.js';
import { checkAuditMode, checkCollector, checkSchema, checkSigningKey, checkSpool } from './checks/audit.js';
import { checkShadowedModels } from './checks/configHygiene.js';
import { checkFailover } from './checks/failover.js';
import { checkGuardrails } from './checks/guardrails.js';
import { checkLimits } from './checks/limits.js';
import { checkPrices } from './checks/prices.js';
import { checkPromptTracking } from './checks/prompts.js';
import { checkSecrets } from './checks/secrets.js';
import { checkTools } from './checks/tools.js';
import { loadInputs, type ReadinessInputs } from './inputs.js';

export interface ReadinessOptions {
  config?: string;
  env?: NodeJS.ProcessEnv;
  /** Opens the audit store read-only, when there is one. */
  openStore?: (file: string) => Promise<{ db: AuditDatabase; close(): Promise<void> }>;
}

export async function runReadiness(options: ReadinessOptions = {}): Promise<CheckResult[]> {
  let inputs: ReadinessInputs;
  try {
    // Readiness only looks: the embedded default writes no demo key here.
    const source = await resolveConfig(options.config, options.env, { persist: false });
    // The file as written (for the secrets check): --config or $GATEHOUSE_CONFIG; the embedded default has none.
    inputs = await loadInputs(source.config, source.source, source.demoKey === undefined ? resolve(source.source) : undefined);
  } catch (error) {
    if (error instanceof ConfigError) {
      return [fail('config.valid', 'the config loads', error.message.replace(/:\n\s*/, ': ').replace(/\n\s*/g, '; '), 'fix each problem listed (unknown keys, unset environment variables, invalid values)')];
    }
    throw error;
  }
  const results: CheckResult[] = [pass('config.valid', 'the config loads', inputs.source)];
  results.push(checkShadowedModels(inputs));
  results.push(checkLimits(inputs));
  results.push(await checkBudgetDurability(inputs));
  results.push(checkAttribution(inputs));
  results.push(checkAuditMode(inputs));
  results.push(await checkCollector(inputs));
  results.push(await checkSpool(inputs));
  results.push(checkSchema());
  results.push(checkSigningKey(inputs));
  const store = inputs.auditDb !== undefined && options.openStore !== undefined ? await options.openStore(inputs.auditDb).catch(() => undefined) : undefined;
  try {
    results.push(await checkPromptTracking(store?.db));
  } finally {
    await store?.close();
  }
  results.push(checkGuardrails(inputs));
  results.push(checkFailover(inputs));
  results.push(checkAgents(inputs));
  results.push(checkTools(inputs));
  results.push(checkSecrets(inputs));
  results.push(checkPrices(inputs));
  return results;
}
