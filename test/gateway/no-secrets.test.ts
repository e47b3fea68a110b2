/**
 * No secret anywhere: after a mix of successes, streams, failovers and errors
 * (including upstream error messages that echo the provider key), neither the
 * virtual keys nor the provider keys appear in any finished span (attributes,
 * events, status, resource, links), in any error body or response header the
 * clients got, or in what was sent upstream (virtual keys).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicClient, openaiClient, startTestGateway, type TestGateway } from '../support/gateway.js';
import { anthropicProviderConfig, startMockAnthropic, type MockAnthropic } from '../support/mockAnthropic.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';

/** A provider key not shaped like `sk-…`, as Azure and many self-hosted servers issue. */
const PLAIN_PROVIDER_KEY = '9f2c4e1a7b3d5f6081a2b3c4d5e6f708';

describe('no secret anywhere', () => {
  let openai: MockOpenAI;
  let azure: MockOpenAI;
  let anthropic: MockAnthropic;
  let gw: TestGateway;
  const bodies: string[] = [];
  let secrets: string[];

  beforeAll(async () => {
    [openai, azure, anthropic] = await Promise.all([startMockOpenAI(), startMockOpenAI(PLAIN_PROVIDER_KEY), startMockAnthropic()]);
    gw = await startTestGateway({
      providers: { openai: openaiProviderConfig(openai), azure: openaiProviderConfig(azure, 'openai-compatible'), anthropic: anthropicProviderConfig(anthropic) },
      models: {
        chat: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'anthropic', model: 'claude-haiku-4-5' }] },
        azure: { targets: [{ provider: 'azure', model: 'gpt-4o-mini' }] },
        claude: { targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
      },
      telemetry: { captureContent: true },
      routing: { maxRetryWaitMs: 0 },
    });
    secrets = [...Object.values(gw.keys), openai.apiKey, azure.apiKey, anthropic.apiKey];
  });
  afterAll(async () => {
    await gw.stop();
    await Promise.all([openai.stop(), azure.stop(), anthropic.stop()]);
  });

  /** A raw request whose whole answer (status line, headers, body) is kept for the check. */
  async function raw(path: string, body: unknown, headers: Record<string, string>): Promise<number> {
    const response = await fetch(`${gw.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
    bodies.push(JSON.stringify([...response.headers]), await response.text());
    return response.status;
  }

  it('keeps every key out of spans, error bodies and upstream requests', async () => {
    const key = gw.keys['k-acme']!;
    const auth = { authorization: `Bearer ${key}` };
    const anthropicAuth = { 'x-api-key': key, 'anthropic-version': '2023-06-01' };
    const messages = [{ role: 'user', content: 'hello' }];

    expect(await raw('/v1/chat/completions', { model: 'chat', messages }, auth)).toBe(200);
    await anthropicClient(gw).messages.stream({ model: 'claude', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    const stream = await openaiClient(gw).chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const chunk of stream) bodies.push(JSON.stringify(chunk));

    // Upstream errors whose messages echo the provider key, as OpenAI's 401 does.
    openai.script({ kind: 'status', status: 429, retryAfter: '0', message: `Rate limit reached for key ${openai.apiKey}` });
    expect(await raw('/v1/chat/completions', { model: 'chat', messages }, auth)).toBe(200);
    openai.script({ kind: 'status', status: 400, message: `Invalid request for key ${openai.apiKey}` });
    expect(await raw('/v1/chat/completions', { model: 'chat', messages }, auth)).toBe(400);
    azure.script({ kind: 'status', status: 400, message: `Bad request with api-key ${PLAIN_PROVIDER_KEY}` });
    expect(await raw('/v1/chat/completions', { model: 'azure', messages }, auth)).toBe(400);
    anthropic.script({ kind: 'status', status: 400, message: `invalid x-api-key ${anthropic.apiKey}` });
    expect(await raw('/v1/messages', { model: 'claude', max_tokens: 10, messages }, anthropicAuth)).toBe(400);
    anthropic.script({ kind: 'cut', afterChunks: 4 });
    expect(await raw('/v1/messages', { model: 'claude', max_tokens: 10, stream: true, messages }, anthropicAuth)).toBe(200);

    // Client-side errors, including a wrong virtual key that must not be echoed either.
    const wrongKey = 'gh-wrong-virtual-key-0123456789abcdef';
    secrets.push(wrongKey);
    expect(await raw('/v1/chat/completions', { model: 'chat', messages }, { authorization: `Bearer ${wrongKey}` })).toBe(401);
    expect(await raw('/v1/messages', { model: 'claude', max_tokens: 10, messages }, { ...anthropicAuth, 'x-api-key': wrongKey })).toBe(401);
    expect(await raw('/v1/chat/completions', { model: 'nope', messages }, auth)).toBe(404);
    expect(await raw('/v1/chat/completions', { model: 'chat', messages: 'x' }, auth)).toBe(400);

    const spans = gw.spans.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(10);
    const serialized = JSON.stringify(
      spans.map((span) => ({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
        resource: span.resource.attributes,
        links: span.links,
        scope: span.instrumentationScope,
      })),
    );
    const clientVisible = bodies.join('\n');
    const upstreamHeaders = JSON.stringify([...openai.requests, ...azure.requests, ...anthropic.requests].map((r) => r.headers));
    const upstreamBodies = JSON.stringify([...openai.requests, ...azure.requests, ...anthropic.requests].map((r) => r.body));
    for (const secret of secrets) {
      expect(serialized).not.toContain(secret);
      expect(clientVisible).not.toContain(secret);
      expect(upstreamBodies).not.toContain(secret);
    }
    for (const virtualKey of [...Object.values(gw.keys), wrongKey]) expect(upstreamHeaders).not.toContain(virtualKey);
    // The content-capture spans did record content: the check above is not vacuous.
    expect(serialized).toContain('gen_ai.input.messages');
  });
});
