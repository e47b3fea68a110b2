/**
 * `gatehouse start`: the proxy and, unless `collector.embedded: false`, the
 * collector in one process, so the quick start ends with a real audit trail.
 * `gatehouse proxy`: the proxy alone (for replicas), shipping its spool to
 * `audit.collectorUrl`.
 */
import { parseArgs } from 'node:util';
import type { RunningCollector } from '../../collector/cli/index.js';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { RegistryError } from '../agents/registry.js';
import { startGateway, type Gateway } from '../gateway.js';
import { generateIngestKey } from '../identity/keyHash.js';
import { log } from '../log.js';
import { resolveConfig, type ConfigSource } from './configSource.js';
import { startWebConsole, type RunningConsole } from './webConsole.js';
import { checkWorkers, isWorker, leaveCluster, reportListening, superviseWorkers, workerConfig, workerCount } from './workers.js';

export function startCommand(argv: string[]): Promise<number> {
  return run(argv, true);
}

export function proxyCommand(argv: string[]): Promise<number> {
  return run(argv, false);
}

async function run(argv: string[], withCollector: boolean): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      workers: { type: 'string', short: 'w' },
    },
    strict: true,
  });
  let workers: number;
  try {
    workers = workerCount(values.workers);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  let resolved: ConfigSource;
  try {
    resolved = await resolveConfig(values.config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const worker = isWorker() ? workerConfig(resolved.config) : undefined;
  const config = worker?.config ?? resolved.config;
  const problem = checkWorkers(workers, config);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    return 2;
  }
  // The embedded collector accepts one ingest key per local proxy process, made fresh at each start.
  const localKeys = !worker && withCollector && config.collector.embedded ? embeddedIngestKeys(workers) : undefined;
  const collector = localKeys ? await embeddedCollector(config, localKeys) : undefined;
  if (workers > 1 && !worker) {
    // The primary: forks the workers (see workers.ts), serves nothing itself.
    const web = collector ? await startWebConsole(config, collector) : undefined;
    await superviseWorkers({
      count: workers,
      ...(collector && localKeys ? { collector: { url: collector.url, tokens: localKeys.map((k) => k.token) } } : {}),
      onReady: (url) => process.stdout.write(`\n  Gatehouse is listening on ${url} with ${workers} workers (config: ${resolved.source})\n  runtime:    ${runtimeLine()}\n${web ? `  console:    ${web.url}${web.adminKeyFile ? `  (admin key in ${web.adminKeyFile})` : ''}\n` : ''}\n`),
    });
    await web?.stop();
    await collector?.stop();
    return 0;
  }
  const port = values.port !== undefined ? Number(values.port) : process.env.PORT ? Number(process.env.PORT) : undefined;
  const target = worker ? worker.collector : collector && localKeys ? { url: collector.url, token: localKeys[0]!.token } : undefined;
  let gateway: Gateway;
  try {
    gateway = await startGateway(config, {
      ...(port !== undefined ? { port } : {}),
      ...(values.host ? { host: values.host } : {}),
      ...(target ? { collector: target } : {}),
    });
  } catch (error) {
    // The proxy could not start (e.g. its port is taken): stop the embedded collector too, so the process exits.
    await collector?.stop();
    // An invalid agent or prompt registry: its message names each file and problem.
    if (error instanceof RegistryError || (error instanceof Error && error.name === 'PromptRegistryError')) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    const { code, address, port: taken } = error as NodeJS.ErrnoException & { address?: string; port?: number };
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
    process.stderr.write(`gatehouse: cannot listen on ${address ?? ''}:${taken ?? ''}: ${code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'}; choose another with --port or server.port\n`);
    return 1;
  }
  const web = collector && !worker ? await startWebConsole(config, collector, gateway) : undefined;
  if (worker) reportListening(gateway.url);
  else announce(gateway, resolved, collector, web);
  await untilSignalled(gateway, collector, web);
  if (worker) leaveCluster();
  return 0;
}

/** `embedded` for one process, `embedded-w1` ... for workers: each record names the process that wrote it. */
function embeddedIngestKeys(workers: number): Array<{ id: string; token: string }> {
  const ids = workers > 1 ? Array.from({ length: workers }, (_, i) => `embedded-w${i + 1}`) : ['embedded'];
  return ids.map((id) => ({ id, token: generateIngestKey() }));
}

async function embeddedCollector(config: Config, ingestKeys: Array<{ id: string; token: string }>): Promise<RunningCollector> {
  // Loaded only here: `gatehouse proxy` never loads DuckDB (about 34 MB).
  const { startCollector } = await import('../../collector/cli/index.js');
  const c = config.collector;
  const options = {
    dataDir: config.dataDir,
    ingestKeys,
    host: c.host,
    checkpointEvery: c.checkpointEvery,
    checkpointIntervalMs: c.checkpointIntervalMs,
    memoryLimit: c.memoryLimit,
    dedupeDays: c.dedupeDays,
    forward: c.forward.map((f) => ({ url: f.url, stripContent: f.stripContent, ...(f.headers ? { headers: f.headers } : {}) })),
    ...(c.retentionDays !== undefined ? { retentionDays: c.retentionDays } : {}),
  };
  try {
    return await startCollector({ ...options, port: c.port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    log.warn('collector port in use; the embedded collector listens on a free port instead', { port: c.port });
    return startCollector({ ...options, port: 0 });
  }
}

function announce(gateway: Gateway, resolved: ConfigSource, collector: RunningCollector | undefined, web: RunningConsole | undefined): void {
  const models = gateway.routes.aliases();
  log.info('gatehouse started', { url: gateway.url, node: process.versions.node, config: resolved.source, models, collector: collector?.url, otlp: gateway.telemetry.otlpEnabled });
  const lines = ['', `  Gatehouse is listening on ${gateway.url}`, `  runtime:    ${runtimeLine()}`, `  config:     ${resolved.source}`, `  models:     ${models.join(', ')}`];
  if (collector) lines.push(`  collector:  ${collector.tracesUrl} (audit trail in ${resolved.config.dataDir})`);
  if (web) lines.push(`  console:    ${web.url}${web.adminKeyFile ? `  (admin key in ${web.adminKeyFile})` : ''}`);
  if (resolved.demoKey) {
    lines.push(
      `  demo key:   ${resolved.demoKey}  (also in ${resolved.demoKeyFile})`,
      '',
      '  Try it:',
      `    curl -s ${gateway.url}/v1/chat/completions -H "Authorization: Bearer $(cat ${resolved.demoKeyFile})" \\`,
      `      -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
      '    npx gatehouse report costs --by user',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

/** SIGTERM/SIGINT stop gracefully (proxy first, then the collector); SIGHUP reloads the prompt registry, the agent registry and the policies. */
function untilSignalled(gateway: Gateway, collector: RunningCollector | undefined, web: RunningConsole | undefined): Promise<void> {
  const reload = () => {
    const policies = gateway.enforcement.policies;
    // The registries first: a changed agent registry reloads the policies itself; the policies are reloaded in any case.
    void (async () => {
      await gateway.prompts?.reload();
      if (!policies) return;
      await gateway.enforcement.agents?.reload();
      await policies.reload();
    })().catch((error: unknown) => log.error('reload failed', { error }));
  };
  process.on('SIGHUP', reload);
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      log.info('stopping', { signal });
      process.off('SIGHUP', reload);
      Promise.resolve(web?.stop())
        .then(() => gateway.stop())
        .then(() => collector?.stop())
        .then(resolve, (error: unknown) => {
          log.error('stop failed', { error });
          resolve();
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** `Node 24.22.3`, and the heap flags it runs with (bin/runtimeFlags.mjs) when there are any. */
function runtimeLine(): string {
  const heap = process.execArgv.filter((flag) => /^--max[-_](semi|old)[-_]space[-_]size/.test(flag));
  return `Node ${process.versions.node}${heap.length > 0 ? ` (heap: ${heap.join(' ')})` : ''}`;
}
