/**
 * The web console of `gatehouse start` (docs/console.md): the embedded
 * collector's store, and this gateway's policies (budgets), agent and prompt
 * registries and approvals. Loaded only here, like the collector.
 */
import { join, resolve } from 'node:path';
import type { RunningCollector } from '../../collector/cli/index.js';
import type { RunningConsole } from '../../collector/console/server.js';
import type { Config } from '../config/schema.js';
import type { Gateway } from '../gateway.js';
import { decideRecorded } from '../approvals/decideRecorded.js';
import { CATALOG_SNAPSHOT_FILE, readCatalogSnapshot } from '../mcp/catalogSnapshot.js';
import { toolsReachedBy } from '../../collector/agents/inventory.js';

export type { RunningConsole };

/**
 * `gateway` is absent in the primary of `--workers N`, which serves no requests:
 * there the console has the store's pages, without budgets' caps, approvals,
 * the agent registry or the prompt registry (docs/console.md).
 */
export async function startWebConsole(config: Config, collector: RunningCollector, gateway?: Gateway): Promise<RunningConsole | undefined> {
  if (!config.console.enabled) return undefined;
  const { startConsole } = await import('../../collector/console/server.js');
  const policies = gateway?.enforcement.policies;
  const agents = gateway?.enforcement.agents;
  const approvals = gateway?.approvals;
  const jaegerUiUrl = config.console.jaegerUiUrl ?? process.env.JAEGER_UI_URL;
  return startConsole({
    store: collector.store,
    host: config.console.host,
    port: config.console.port,
    secureCookies: config.console.secureCookies,
    verifyOnStart: config.console.verifyOnStart,
    ...(jaegerUiUrl ? { jaegerUiUrl } : {}),
    ...(policies ? { budgetsOf: (principal) => policies.current.callerOf(principal).budgets ?? [] } : {}),
    ...(agents ? { agents: () => agents.current.agents } : {}),
    ...(agents && policies ? {
      reachableTools: async (list) => {
        const tools = await readCatalogSnapshot(join(resolve(config.dataDir), CATALOG_SNAPSHOT_FILE));
        if (tools === undefined) return undefined;
        return toolsReachedBy(policies.current, list, tools);
      },
    } : {}),
    ...(gateway?.prompts ? { prompts: () => gateway.prompts!.current.checked } : {}),
    ...(approvals ? {
      approvals: {
        service: approvals.service,
        decide: (id, approver, decision, reason) => decideRecorded(approvals.service, approvals.audit, id, approver, decision, reason),
      },
    } : {}),
  });
}
