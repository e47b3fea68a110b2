/**
 * Slow and idle connections time out within the configured limits: a client
 * that stalls its headers or its body gets 408 or a closed socket, an upstream
 * that never answers gives 504 upstream_timeout within the attempt timeouts, an
 * upstream that goes silent mid-stream ends the stream with an error event; the
 * process stays healthy after each.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicClient, expectHealthy, openaiClient, startTestGateway, waitFor, type TestGateway } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';

const HEADERS_TIMEOUT_MS = 300;
const BODY_TIMEOUT_MS = 300;
const ATTEMPT_TIMEOUT_MS = 300;
const KEEP_ALIVE_TIMEOUT_MS = 200;
const MAX_ATTEMPTS = 2;

/** Writes `text` on a raw connection and resolves with what the server answered before closing, and when. */
function stall(port: number, text: string): Promise<{ answer: string; afterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1', () => {
      if (text) socket.write(text);
    });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ answer, afterMs: Date.now() - started }));
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the gateway kept a stalled connection open for 5 s'));
    }, 5_000).unref();
  });
}

describe('timeouts', () => {
  let upstream: MockOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await startMockOpenAI();
    gw = await startTestGateway({
      providers: { openai: openaiProviderConfig(upstream) },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
      server: { headersTimeoutMs: HEADERS_TIMEOUT_MS, bodyTimeoutMs: BODY_TIMEOUT_MS, keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS },
      routing: { attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, maxAttempts: MAX_ATTEMPTS, maxRetryWaitMs: 0 },
    });
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

  it('closes a connection that never sends anything', async () => {
    const { answer, afterMs } = await stall(gw.port, '');
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect(afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 1_500);
  });

  it('closes an idle keep-alive connection after its timeout', async () => {
    const { answer, afterMs } = await stall(gw.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect(answer.startsWith('HTTP/1.1 200')).toBe(true);
    expect(afterMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 50);
    expect(afterMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 1_500);
  });

  it('closes a connection whose headers never finish', async () => {
    const { answer, afterMs } = await stall(gw.port, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: app');
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect(afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 1_500);
  });

  it('answers 408 or closes a request whose body stalls', async () => {
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${gw.keys['k-acme']}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"model":`;
    const { answer, afterMs } = await stall(gw.port, head);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect(afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + BODY_TIMEOUT_MS + 1_500);
    expect(upstream.count()).toBe(0);
    const span = await waitFor(() => gw.requestSpans().find((s) => s.attributes['gatehouse.error.code'] === 'request_timeout'));
    expect(span.attributes).toMatchObject({ 'http.response.status_code': 408, 'gatehouse.outcome': 'error' });
  });

  it('answers 504 upstream_timeout within the attempt timeouts when the upstream never answers', async () => {
    upstream.always({ kind: 'hang' });
    const started = Date.now();
    const error = await openaiClient(gw)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'anyone?' }] })
      .catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ status: 504, code: 'upstream_timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(ATTEMPT_TIMEOUT_MS);
    expect(elapsed).toBeLessThan(ATTEMPT_TIMEOUT_MS * MAX_ATTEMPTS + 1_000);
    expect(upstream.count()).toBe(MAX_ATTEMPTS);
    const span = gw.requestSpans().at(-1)!;
    expect(span.attributes).toMatchObject({ 'gatehouse.error.code': 'upstream_timeout', 'gatehouse.failover.reason': 'timeout', 'gatehouse.route.attempts': MAX_ATTEMPTS });
  });

  it('answers 504 in the Anthropic shape when the upstream never starts a stream', async () => {
    upstream.always({ kind: 'hang' });
    const error = await anthropicClient(gw)
      .messages.create({ model: 'gpt-4o-mini', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'anyone?' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 504, errorCode: 'upstream_timeout', type: 'timeout_error' });
  });

  it('ends a stream whose upstream goes silent with an error event', async () => {
    upstream.script({ kind: 'answer', chunkDelayMs: ATTEMPT_TIMEOUT_MS * 4 });
    const started = Date.now();
    const stream = await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const error = await (async () => {
      for await (const chunk of stream) void chunk;
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'upstream_error' });
    // The idle limit between chunks is undici's body timeout, which ticks at ~1 s resolution.
    expect(Date.now() - started).toBeLessThan(ATTEMPT_TIMEOUT_MS + 1_500);
    expect(gw.requestSpans().at(-1)?.attributes['gatehouse.outcome']).toBe('error');
  });
});
