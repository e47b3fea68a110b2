/**
 * No single request can hurt the gateway (issue 9's findings, one test each):
 * numbers that size work are bounded, nesting and list lengths are bounded,
 * lone surrogates and invalid UTF-8 are a 400 in the caller's wire, and a
 * caller's malformed request never trips the breaker another tenant relies on.
 * After each case the gateway still serves a normal request.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { anthropicClient, expectHealthy, openaiClient, startTestGateway, type TestGateway } from '../support/gateway.js';

const KEYS = [
  { id: 'k-acme', tenant: 'acme', team: 'research', user: 'alice' },
  { id: 'k-globex', tenant: 'globex', team: 'ops', user: 'bob' },
];

describe('hostile input', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(
      {
        providers: { sim: { type: 'simulated', outputTokens: 8 } },
        models: {
          'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] },
          'text-embedding-3-small': { kind: 'embeddings', targets: [{ provider: 'sim', model: 'text-embedding-3-small' }] },
        },
        routing: { breaker: { failureThreshold: 2, cooldownMs: 30_000 } },
      },
      KEYS,
    );
  });
  afterAll(() => gw.stop());
  afterEach(async () => {
    await expectHealthy(gw, 'gpt-4o-mini', 'k-globex');
  });

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, {
      method: 'POST', body, headers: { authorization: `Bearer ${gw.keys['k-acme']}`, 'content-type': 'application/json', ...headers },
    });
  const openaiError = async (response: Response): Promise<{ status: number; code: unknown; param: unknown }> => {
    const body = (await response.json()) as { error: { code: unknown; param?: unknown } };
    return { status: response.status, code: body.error.code, param: body.error.param };
  };

  it('refuses embeddings dimensions that would size a huge allocation, at once, with 400 naming the field', async () => {
    for (const dimensions of [1_000_000_000, 100_000_000, 1e6]) {
      const started = Date.now();
      const response = await post('/v1/embeddings', JSON.stringify({ model: 'text-embedding-3-small', input: 'hi', dimensions }));
      expect(await openaiError(response)).toEqual({ status: 400, code: 'invalid_request', param: 'dimensions' });
      expect(Date.now() - started).toBeLessThan(1_000);
    }
    const ok = await openaiClient(gw).embeddings.create({ model: 'text-embedding-3-small', input: 'hi', dimensions: 256 });
    expect(ok.data[0]?.embedding).toHaveLength(256);
  });

  it('refuses an embeddings request whose inputs times dimensions exceed the simulated provider\'s bound, without failing over', async () => {
    const input = Array.from({ length: 2048 }, (_, i) => `text ${i}`);
    const response = await post('/v1/embeddings', JSON.stringify({ model: 'text-embedding-3-small', input, dimensions: 4096 }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('answers 200,000 characters with no space quickly and keeps answering others (no quadratic token count)', async () => {
    const started = Date.now();
    const slow = openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a'.repeat(200_000) }] });
    const health = await fetch(`${gw.url}/healthz`);
    expect(health.status).toBe(200);
    const answer = await slow;
    expect(answer.usage?.prompt_tokens).toBeGreaterThan(20_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses max_tokens beyond any model\'s reach in both wires', async () => {
    const openai = await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 1e12, messages: [{ role: 'user', content: 'hi' }] }));
    expect(await openaiError(openai)).toEqual({ status: 400, code: 'invalid_request', param: 'max_tokens' });
    const anthropic = await anthropicClient(gw).messages.create({ model: 'gpt-4o-mini', max_tokens: 1e12, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(anthropic).toMatchObject({ status: 400, errorCode: 'invalid_request' });
  });

  it('answers a lone surrogate with 400 invalid_request in each wire, never 503 policy_error', async () => {
    const text = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi \\ud800 there"}]}';
    const openai = await post('/v1/chat/completions', text);
    expect(await openaiError(openai)).toEqual({ status: 400, code: 'invalid_request', param: 'messages[0].content' });
    const anthropic = await post('/v1/messages', '{"model":"gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"x\\udc00"}]}', { 'anthropic-version': '2023-06-01' });
    expect(anthropic.status).toBe(400);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { code: 'invalid_request' } });
  });

  it('answers invalid UTF-8 with 400 invalid_request instead of accepting it silently', async () => {
    const bytes = Buffer.concat([Buffer.from('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]);
    const response = await post('/v1/chat/completions', bytes);
    expect(await openaiError(response)).toEqual({ status: 400, code: 'invalid_request', param: 'body' });
  });

  it('answers 10,000 levels of nesting in tools with 400, not 500', async () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`;
    const response = await post('/v1/chat/completions', body);
    expect(await openaiError(response)).toEqual({ status: 400, code: 'invalid_request', param: 'body' });
  });

  it('bounds the number of messages and tools', async () => {
    const messages = Array.from({ length: 10_001 }, () => ({ role: 'user', content: 'x' }));
    const many = await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini', messages }));
    expect(await openaiError(many)).toEqual({ status: 400, code: 'invalid_request', param: 'messages' });
    const tools = Array.from({ length: 129 }, (_, i) => ({ type: 'function', function: { name: `t${i}`, parameters: { type: 'object' } } }));
    const toolsResponse = await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], tools }));
    expect(await openaiError(toolsResponse)).toEqual({ status: 400, code: 'invalid_request', param: 'tools' });
  });

  it('one tenant\'s odd tool schemas never open the breaker for another tenant', async () => {
    const odd = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'call it' }], tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { x: null, y: 5, z: [] } } } }] };
    for (let i = 0; i < 4; i++) {
      const response = await post('/v1/chat/completions', JSON.stringify(odd));
      expect(response.status).toBeLessThan(500);
    }
    expect(gw.routes.resolve('gpt-4o-mini', 'chat').targets[0]!.breaker.state()).toBe('closed');
    const other = await openaiClient(gw, 'k-globex').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    expect(other.choices[0]?.message.content).toBeTruthy();
  });
});

describe('timeouts and parser errors answer in JSON', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      providers: { sim: { type: 'simulated' } },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
      server: { headersTimeoutMs: 1_000, bodyTimeoutMs: 600 },
    });
  });
  afterAll(() => gw.stop());

  /** Writes `raw` on a socket and reads until the server closes it (or `timeoutMs`). */
  function raw(text: string, timeoutMs = 5_000): Promise<{ response: string; ms: number }> {
    const url = new URL(gw.url);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write(text));
      let response = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => { response += chunk; });
      socket.on('error', reject);
      socket.on('close', () => resolve({ response, ms: Date.now() - started }));
      setTimeout(() => socket.destroy(), timeoutMs).unref();
    });
  }

  const bodyOf = (response: string): unknown => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

  it('a stalled chunked body gets 408 request_timeout in the wire\'s JSON at the configured time', async () => {
    const key = gw.keys['k-acme']!;
    const { response, ms } = await raw(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${key}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"mod\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(response)).toMatchObject({ type: 'error', error: { code: 'request_timeout' } });
    expect(ms).toBeGreaterThanOrEqual(500);
    expect(ms).toBeLessThan(2_500);
  });

  it('headers that are too large get 431 with a JSON body', async () => {
    const { response } = await raw(`GET /v1/models HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(response)).toMatchObject({ error: { code: 'request_header_too_large' } });
  });

  it('a malformed request line gets 400 with a JSON body', async () => {
    const { response } = await raw('NOT A REQUEST\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(response)).toMatchObject({ error: { code: 'invalid_request' } });
  });
});
