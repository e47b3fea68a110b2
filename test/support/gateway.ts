/**
 * Starts a gateway in-process on port 0 with an in-memory span exporter, and
 * gives tests one key per principal they declare.
 */
import { tracing } from '@opentelemetry/sdk-node';
import { parseConfig } from '../../proxy/config/load.js';
import type { ConfigInput } from '../../proxy/config/schema.js';
import { startGateway, type Gateway, type GatewayOptions } from '../../proxy/gateway.js';
import { hashKey } from '../../proxy/identity/keyHash.js';
import { SimulatedProvider } from '../../proxy/providers/simulated.js';

export interface TestKey {
  id: string;
  tenant: string;
  team?: string;
  user?: string;
  agent?: string;
  feature?: string;
  allowHeaders?: Array<'user' | 'feature'>;
  models?: string[];
}

export interface TestGateway extends Gateway {
  spans: tracing.InMemorySpanExporter;
  /** The secret of each test key by id. */
  keys: Record<string, string>;
  simulated(name?: string): SimulatedProvider;
  /** Finished spans named like a request span (`gatehouse.audit` set). */
  requestSpans(): tracing.ReadableSpan[];
}

export const DEFAULT_KEYS: TestKey[] = [{ id: 'k-acme', tenant: 'acme', team: 'research', user: 'alice', agent: 'helper', feature: 'chat', allowHeaders: ['user', 'feature'] }];

export async function startTestGateway(
  config: Partial<ConfigInput> & Pick<ConfigInput, 'providers' | 'models'>,
  keys: TestKey[] = DEFAULT_KEYS,
  options: GatewayOptions = {},
): Promise<TestGateway> {
  const secrets: Record<string, string> = {};
  const keyConfigs = keys.map((key) => {
    const secret = `test-${key.id}-${Math.random().toString(36).slice(2)}`;
    secrets[key.id] = secret;
    return { ...key, hash: hashKey(secret), allowHeaders: key.allowHeaders ?? [] };
  });
  const parsed = parseConfig({ dataDir: '/tmp/gatehouse-test', ...config, keys: keyConfigs });
  const spans = new tracing.InMemorySpanExporter();
  const gateway = await startGateway(parsed, {
    port: 0,
    env: {},
    ...options,
    spanProcessors: [new tracing.SimpleSpanProcessor(spans), ...(options.spanProcessors ?? [])],
  });
  return Object.assign(gateway, {
    spans,
    keys: secrets,
    simulated(name = 'sim') {
      const provider = gateway.providers.get(name);
      if (!(provider instanceof SimulatedProvider)) throw new Error(`provider ${name} is not simulated`);
      return provider;
    },
    requestSpans() {
      return spans.getFinishedSpans().filter((span) => span.attributes['gatehouse.audit'] === true);
    },
  });
}

/** A gateway with one simulated provider `sim` serving `gpt-4o-mini` and `text-embedding-3-small`. */
export function startSimulatedGateway(options: { latencyMs?: number; tokensPerSecond?: number; outputTokens?: number; captureContent?: boolean } = {}, keys?: TestKey[]): Promise<TestGateway> {
  return startTestGateway(
    {
      providers: { sim: { type: 'simulated', latencyMs: options.latencyMs ?? 0, tokensPerSecond: options.tokensPerSecond ?? 0, outputTokens: options.outputTokens ?? 12 } },
      models: {
        'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] },
        'claude-haiku-4-5': { targets: [{ provider: 'sim', model: 'claude-haiku-4-5' }] },
        'text-embedding-3-small': { kind: 'embeddings', targets: [{ provider: 'sim', model: 'text-embedding-3-small' }] },
      },
      telemetry: { captureContent: options.captureContent ?? false },
    },
    keys,
  );
}
