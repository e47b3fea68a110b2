/**
 * Bad input gets a clear error in the caller's wire format with a stable code,
 * and the process stays healthy after each: malformed JSON and bad fields (400
 * naming the field), an oversized body (413), an unknown model (404 listing the
 * known aliases), a wrong content type (415), and an upstream answering garbage
 * or a truncated body (502).
 */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicClient, expectHealthy, openaiClient, startTestGateway, type TestGateway } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';

const MAX_BODY = 4_096;

describe('bad input', () => {
  let upstream: MockOpenAI;
  let gw: TestGateway;
  let key: string;
  beforeAll(async () => {
    upstream = await startMockOpenAI();
    gw = await startTestGateway({
      providers: { openai: openaiProviderConfig(upstream) },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }, 'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
      server: { maxBodyBytes: MAX_BODY },
      routing: { maxRetryWaitMs: 0 },
    });
    key = gw.keys['k-acme']!;
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.reset();
  });
  afterEach(async () => {
    upstream.reset();
    await expectHealthy(gw, 'gpt-4o-mini');
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { method: 'POST', body, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers } });

  it('answers malformed JSON with 400 invalid_request naming the body, in each wire', async () => {
    const openai = await post('/v1/chat/completions', '{"model": "gpt-4o-mini", "messages": [');
    expect(openai.status).toBe(400);
    expect(openai.headers.get('content-type')).toContain('application/json');
    expect((await openai.json()) as unknown).toMatchObject({ error: { code: 'invalid_request', type: 'invalid_request_error', param: 'body' } });
    const anthropic = await post('/v1/messages', '{"model":', { 'anthropic-version': '2023-06-01' });
    expect(anthropic.status).toBe(400);
    expect((await anthropic.json()) as unknown).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_request' } });
    expect(upstream.count()).toBe(0);
  });

  it('names the offending field of a well-formed but invalid request', async () => {
    const error = await openaiClient(gw)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 42 as unknown as string }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', param: 'messages[0].content' });
    const anthropicError = await anthropicClient(gw)
      .messages.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } as never)
      .catch((e: unknown) => e);
    expect(anthropicError).toMatchObject({ status: 400, errorCode: 'invalid_request' });
    expect(String((anthropicError as Error).message)).toContain('max_tokens');
  });

  it('answers a body over the limit with 413, declared or chunked', async () => {
    const big = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY * 3) }] });
    const declared = await post('/v1/chat/completions', big);
    expect(declared.status).toBe(413);
    expect((await declared.json()) as unknown).toMatchObject({ error: { code: 'request_too_large' } });

    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 6; i++) req.write(big.slice(i * 2_000, (i + 1) * 2_000));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ type: 'error', error: { type: 'request_too_large', code: 'request_too_large' } });
    expect(upstream.count()).toBe(0);
  });

  it('answers an unknown model with 404 listing the known aliases, in each wire', async () => {
    const error = await openaiClient(gw)
      .chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect((error as Error).message).toContain('gpt-4o-mini');
    expect((error as Error).message).toContain('gpt-4o');
    expect(gw.requestSpans().at(-1)?.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-9', 'gatehouse.error.code': 'model_not_found', 'http.response.status_code': 404 });
    expect(gw.requestSpans().at(-1)?.attributes['gatehouse.route.alias']).toBeUndefined();
    const anthropicError = await anthropicClient(gw)
      .messages.create({ model: 'claude-9', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(anthropicError).toMatchObject({ status: 404, errorCode: 'model_not_found', type: 'not_found_error' });
    expect((anthropicError as Error).message).toContain('gpt-4o-mini');
  });

  it('answers a wrong content type with 415', async () => {
    const response = await post('/v1/chat/completions', 'model=gpt-4o-mini', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(response.status).toBe(415);
    expect((await response.json()) as unknown).toMatchObject({ error: { code: 'unsupported_media_type' } });
    const anthropic = await post('/v1/messages', 'hello', { 'content-type': 'text/plain', 'anthropic-version': '2023-06-01' });
    expect(anthropic.status).toBe(415);
    expect((await anthropic.json()) as unknown).toMatchObject({ type: 'error', error: { code: 'unsupported_media_type' } });
  });

  it('answers an upstream that returns garbage with 502 upstream_error', async () => {
    upstream.always({ kind: 'garbage' });
    const error = await openaiClient(gw)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(gw.requestSpans().at(-1)?.attributes).toMatchObject({ 'gatehouse.error.code': 'upstream_error', 'gatehouse.failover.reason': 'bad_response' });
  });

  it('answers an upstream that cuts its JSON body with 502 upstream_error', async () => {
    upstream.always({ kind: 'cut', afterChunks: 0 });
    const error = await anthropicClient(gw)
      .messages.create({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, errorCode: 'upstream_error', type: 'api_error' });
  });

  it('answers unknown paths and wrong methods in the caller wire', async () => {
    const missing = await fetch(`${gw.url}/v1/nothing`, { headers: { authorization: `Bearer ${key}` } });
    expect(missing.status).toBe(404);
    expect((await missing.json()) as unknown).toMatchObject({ error: { code: 'not_found' } });
    const method = await fetch(`${gw.url}/v1/messages`, { headers: { 'x-api-key': key } });
    expect(method.status).toBe(405);
    expect((await method.json()) as unknown).toMatchObject({ type: 'error', error: { code: 'method_not_allowed' } });
  });
});
