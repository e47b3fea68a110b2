/**
 * `gatehouse start` (proxy and, on the embedded default, the collector in one
 * process) and `gatehouse proxy` (the proxy alone, for replicas).
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.js';
import { startGateway, type Gateway } from '../gateway.js';
import { log } from '../log.js';
import { resolveConfig } from './configSource.js';

export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
    },
    strict: true,
  });
  let resolved;
  try {
    resolved = await resolveConfig(values.config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const { config } = resolved;
  const port = values.port !== undefined ? Number(values.port) : process.env.PORT ? Number(process.env.PORT) : undefined;
  const gateway = await startGateway(config, {
    ...(port !== undefined ? { port } : {}),
    ...(values.host ? { host: values.host } : {}),
  });
  announce(gateway, resolved.source, resolved.demoKey, resolved.demoKeyFile);
  await untilSignalled(gateway);
  return 0;
}

function announce(gateway: Gateway, source: string, demoKey: string | undefined, demoKeyFile: string | undefined): void {
  log.info('gatehouse started', {
    url: gateway.url,
    config: source,
    models: gateway.routes.aliases(),
    otlp: gateway.telemetry.otlpEnabled,
  });
  const lines = [
    '',
    `  Gatehouse is listening on ${gateway.url}`,
    `  config:  ${source}`,
    `  models:  ${gateway.routes.aliases().join(', ')}`,
  ];
  if (demoKey) {
    lines.push(
      `  demo key (also in ${demoKeyFile}):`,
      `    ${demoKey}`,
      '',
      '  Try it:',
      `    curl -s ${gateway.url}/v1/chat/completions -H "Authorization: Bearer $(cat ${demoKeyFile})" \\`,
      `      -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

function untilSignalled(gateway: Gateway): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      log.info('stopping', { signal });
      gateway.stop().then(resolve, (error: unknown) => {
        log.error('stop failed', { error });
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
