/**
 * A test gateway with policy ON: the policies come from a PolicyFixture (the
 * committed Rego with the test's data), limits from the config the test passes.
 * The simulated provider `sim` serves gpt-4o-mini, claude-haiku-4-5 and
 * text-embedding-3-small; with `upstream`, gpt-4o-mini goes to that scripted
 * OpenAI-compatible server instead.
 */
import type { ConfigInput } from '../../proxy/config/schema.js';
import { startTestGateway, type TestGateway, type TestKey } from '../support/gateway.js';
import type { PolicyFixture } from '../support/policyFixture.js';
import type { ScriptedUpstream } from './scriptedUpstream.js';

export interface EnforcedGatewayOptions {
  fixture: PolicyFixture;
  keys: TestKey[];
  watch?: boolean;
  limits?: ConfigInput['limits'];
  prices?: ConfigInput['prices'];
  /** Simulated provider latency before the first byte. */
  latencyMs?: number;
  upstream?: ScriptedUpstream;
  captureContent?: boolean;
}

export function startEnforcedGateway(options: EnforcedGatewayOptions): Promise<TestGateway> {
  const { upstream } = options;
  const providers: ConfigInput['providers'] = { sim: { type: 'simulated', latencyMs: options.latencyMs ?? 0, tokensPerSecond: 0, outputTokens: 12 } };
  if (upstream) providers.mock = { type: 'openai-compatible', baseUrl: upstream.baseUrl, apiKey: upstream.apiKey };
  return startTestGateway(
    {
      providers,
      models: {
        'gpt-4o-mini': { targets: [{ provider: upstream ? 'mock' : 'sim', model: 'gpt-4o-mini' }] },
        'claude-haiku-4-5': { targets: [{ provider: 'sim', model: 'claude-haiku-4-5' }] },
        'text-embedding-3-small': { kind: 'embeddings', targets: [{ provider: 'sim', model: 'text-embedding-3-small' }] },
      },
      policy: { enabled: true, dir: options.fixture.dir, watch: options.watch ?? false },
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.prices ? { prices: options.prices } : {}),
      routing: { maxAttempts: 1 },
      telemetry: { captureContent: options.captureContent ?? false },
    },
    options.keys,
  );
}

/** The 50th percentile of a list of durations. */
export function p50(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}
