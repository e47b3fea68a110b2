/**
 * Starts a gateway in-process on port 0 with an in-memory span exporter, and
 * gives tests one key per principal they declare.
 */
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tracing } from '@opentelemetry/sdk-node';
import OpenAI from 'openai';
import { expect } from 'vitest';
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
  allowHeaders?: Array<'user' | 'feature' | 'agent'>;
  roles?: Array<'agents:admin' | 'approver'>;
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
  const tempDir = config.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'gatehouse-test-')) : undefined;
  const parsed = parseConfig({ dataDir: tempDir, policy: { enabled: false }, ...config, keys: keyConfigs });
  const spans = new tracing.InMemorySpanExporter();
  const gateway = await startGateway(parsed, {
    port: 0,
    env: {},
    ...options,
    spanProcessors: [new tracing.SimpleSpanProcessor(spans), ...(options.spanProcessors ?? [])],
  });
  const stopGateway = gateway.stop;
  return Object.assign(gateway, {
    spans,
    keys: secrets,
    /** Stops the gateway, then removes the temporary data dir it was given. */
    async stop() {
      await stopGateway();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
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

/** The official OpenAI SDK pointed at the gateway; SDK retries off, so every request is one gateway request. */
export function openaiClient(gw: TestGateway, keyId = 'k-acme', options: { headers?: Record<string, string> } = {}): OpenAI {
  return new OpenAI({ apiKey: gw.keys[keyId] ?? keyId, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 10_000, defaultHeaders: options.headers });
}

/** The official Anthropic SDK pointed at the gateway; SDK retries off. */
export function anthropicClient(gw: TestGateway, keyId = 'k-acme', options: { headers?: Record<string, string> } = {}): Anthropic {
  return new Anthropic({ apiKey: gw.keys[keyId] ?? keyId, baseURL: gw.url, maxRetries: 0, timeout: 10_000, defaultHeaders: options.headers });
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 3_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The request span with this `x-request-id`, once it has ended. */
export function spanOf(gw: TestGateway, requestId: string | null | undefined, timeoutMs = 3_000): Promise<tracing.ReadableSpan> {
  if (!requestId) throw new Error('the response has no x-request-id');
  return waitFor(() => gw.requestSpans().find((span) => span.attributes['gatehouse.request.id'] === requestId), timeoutMs, `span of ${requestId}`);
}

/** The attempt (child) spans of a request span, in attempt order. */
export function attemptSpans(gw: TestGateway, parent: tracing.ReadableSpan): tracing.ReadableSpan[] {
  return gw.spans
    .getFinishedSpans()
    .filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId)
    .sort((a, b) => Number(a.attributes['gatehouse.attempt.number']) - Number(b.attributes['gatehouse.attempt.number']));
}

/** The gateway still answers liveness and serves a normal chat request for `model`. */
export async function expectHealthy(gw: TestGateway, model: string, keyId = 'k-acme'): Promise<void> {
  const health = await fetch(`${gw.url}/healthz`);
  expect(health.status).toBe(200);
  const completion = await openaiClient(gw, keyId).chat.completions.create({ model, messages: [{ role: 'user', content: 'still there?' }] });
  expect(completion.choices[0]?.finish_reason).toBeDefined();
}
