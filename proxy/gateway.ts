/**
 * Assembles a gateway from a validated config and starts it. Parts start
 * downstream-first (telemetry, providers, routes) and stop upstream-first (the
 * HTTP server, then providers, then telemetry), so nothing in flight loses its
 * exporter. `stop` is safe to call twice.
 */
import { log } from './log.js';
import type { PromptRegistry } from './prompts/registry.js';
import type { ApprovalService } from './approvals/service.js';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import type { tracing } from '@opentelemetry/sdk-node';
import { collectorTargetOf, createAuditTrail, observeSpool, type AuditTrail, type CollectorTarget } from './auditTrail.js';
import type { Config } from './config/schema.js';
import { PriceTable } from './cost/priceTable.js';
import { createEnforcement, type EnforcementParts } from './enforcement.js';
import { KeyRing } from './identity/keyRing.js';
import type { AuditGate, PipelineDeps } from './pipeline/deps.js';
import { Detectors } from './policy/detectors.js';
import { makePrivate } from './privateFiles.js';
import { createProviders } from './providers/registry.js';
import type { Provider } from './providers/types.js';
import { RouteTable } from './routing/routes.js';
import { createGatewayServer } from './server.js';
import { Telemetry } from './telemetry/sdk.js';

export interface GatewayOptions {
  /** Extra span processors (the audit spool, an in-memory exporter in tests). */
  spanProcessors?: tracing.SpanProcessor[];
  audit?: AuditGate;
  env?: NodeJS.ProcessEnv;
  /** Where the spool ships, with its ingest key; overrides config.audit (the embedded collector). */
  collector?: CollectorTarget;
  /** Overrides config.server.port (0 picks a free port). */
  port?: number;
  host?: string;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly config: Config;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly routes: RouteTable;
  readonly telemetry: Telemetry;
  readonly audit: AuditTrail | undefined;
  readonly enforcement: EnforcementParts;
  /** The prompt registry, when `prompts.dir` is set. */
  readonly prompts: PromptRegistry | undefined;
  /** Held tool calls, when the MCP endpoint is served; with the audit gate their decisions are recorded through. */
  readonly approvals: { service: ApprovalService; audit: AuditGate | undefined } | undefined;
  stop(): Promise<void>;
}

export async function startGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  let ready = false;
  await makePrivate(resolve(config.dataDir));
  if (config.audit.spoolDir) await makePrivate(resolve(config.audit.spoolDir), 1);
  const audit = createAuditTrail(config, options.collector ?? collectorTargetOf(config, options.env));
  await audit?.start();
  const enforcement = await createEnforcement(config);
  await enforcement.start();
  const telemetry = new Telemetry({
    serviceName: config.telemetry.serviceName,
    spanProcessors: [...(audit ? [audit.spool] : []), ...(options.spanProcessors ?? [])],
    ...(options.env ? { env: options.env } : {}),
  });
  if (audit) observeSpool(telemetry.meter, audit.spool);
  const providers = createProviders(config.providers);
  const detectors = new Detectors(config.detectors);
  const routes = new RouteTable(config, providers);
  // The MCP endpoint (and the MCP SDK) only when there is something to serve, and never without the tool policy.
  const mcpWanted = enforcement.policies !== undefined && (Object.keys(config.mcp.servers).length > 0 || config.agents.dir !== undefined);
  let listeningUrl = '';
  const approvals = mcpWanted ? await (await import('./approvals/create.js')).createApprovals(config, telemetry.tracer, () => listeningUrl) : undefined;
  let prompts: PromptRegistry | undefined;
  try {
    await approvals?.start();
    prompts = config.prompts.dir === undefined ? undefined : await startPrompts(config.prompts.dir, config.prompts.watch, telemetry.tracer, resolve(config.dataDir));
  } catch (error) {
    // E.g. an invalid prompt registry: let go of what started, so the process can exit.
    await approvals?.shutdown().catch(() => undefined);
    await Promise.allSettled([enforcement.shutdown(), telemetry.shutdown(), audit?.shutdown()]);
    throw error;
  }
  const deps: PipelineDeps = {
    config,
    routes,
    keys: new KeyRing(config.keys),
    prices: new PriceTable(config.prices),
    emit: { tracer: telemetry.tracer, metrics: telemetry.metrics, captureContent: config.telemetry.captureContent },
    audit: options.audit ?? audit?.spool,
    policies: enforcement.policies,
    limits: enforcement.limits,
    ...(enforcement.agents ? { agents: enforcement.agents } : {}),
    ...(enforcement.agentState ? { agentState: enforcement.agentState } : {}),
    ...(approvals ? { approvals } : {}),
    ...(prompts ? { prompts } : {}),
    detectors,
    startedAt: Date.now(),
  };
  const mcp = mcpWanted ? new (await import('./mcp/endpoint.js')).McpEndpoint(deps, telemetry) : undefined;
  mcp?.start();
  const server = createGatewayServer({ deps, telemetry, ready: () => ready, ...(mcp ? { mcp } : {}) });
  /** Everything but the server: providers, detectors, enforcement, telemetry and the audit spool. */
  const release = async (): Promise<void> => {
    await Promise.allSettled([...providers.values()].map((provider) => provider.close()));
    await mcp?.shutdown();
    await approvals?.shutdown();
    prompts?.shutdown();
    await detectors.close();
    await enforcement.shutdown();
    await telemetry.shutdown();
    await audit?.shutdown();
  };
  try {
    await listen(server, options.port ?? config.server.port, options.host ?? config.server.host);
  } catch (error) {
    // E.g. the port is taken: let go of everything started above, so the process can exit.
    await release();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  listeningUrl = `http://${host}:${address.port}`;
  ready = true;
  let stopping: Promise<void> | undefined;
  return {
    url: listeningUrl,
    port: address.port,
    config,
    providers,
    routes,
    telemetry,
    audit,
    enforcement,
    prompts,
    approvals: approvals ? { service: approvals, audit: deps.audit } : undefined,
    stop: () =>
      (stopping ??= (async () => {
        ready = false;
        await closeServer(server);
        await release();
      })()),
  };
}

/** The prompt registry: refuses to start on an invalid registry; label moves become audit records. */
async function startPrompts(dir: string, watchFiles: boolean, tracer: Telemetry['tracer'], dataDir: string): Promise<PromptRegistry> {
  const { PromptRegistry } = await import('./prompts/registry.js');
  const { recordLabelMoves, LabelMemory } = await import('./prompts/deployRecords.js');
  const registry = new PromptRegistry({
    dir, watch: watchFiles,
    onReload: ({ ok, error, moves }) => {
      if (ok) log.info('prompt registry reloaded', { moves: moves.map((m) => `${m.prompt}.${m.label}: ${m.from ?? '-'} -> ${m.to ?? '-'}`) });
      else log.error('prompt registry reload refused; the previous registry keeps answering', { error });
    },
  });
  await registry.start();
  // Moves made while this gateway was down are recorded at its start: the labels it served last are remembered.
  const memory = new LabelMemory(join(dataDir, 'prompt-labels.json'));
  const missed = await memory.movesSince(registry.current);
  if (missed.length > 0) await recordLabelMoves(tracer, registry.dir, missed, registry.current);
  await memory.remember(registry.current);
  registry.onMove((moves, directory) => void recordLabelMoves(tracer, registry.dir, moves, directory)
    .then(() => memory.remember(directory))
    .catch((error: unknown) => log.error('prompt label moves could not be remembered', { error: String(error) })));
  return registry;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting, lets in-flight requests finish for a while, then closes what is left. */
function closeServer(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
