/**
 * The official @anthropic-ai/sdk client, unchanged but for `baseURL`, against a
 * tiny server that answers with exactly what the Anthropic wire encodes.
 */
import Anthropic from '@anthropic-ai/sdk';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../../proxy/canonical.js';
import { GatehouseError, asGatehouseError } from '../../proxy/errors.js';
import { anthropicWire } from '../../proxy/wire/anthropic/index.js';

/** Streams per model name; the default one calls a tool with finish before usage, as OpenAI upstreams do. */
const STREAMS: Record<string, StreamEvent[]> = {
  default: [
    { type: 'start', id: 'msg_stream', model: 'claude-x', created: 1, inputTokens: 50 },
    { type: 'text', text: 'Checking ' },
    { type: 'text', text: 'the weather.' },
    { type: 'tool_call_start', index: 0, id: 'tu_1', name: 'weather' },
    { type: 'tool_call_delta', index: 0, arguments: '{"city":' },
    { type: 'tool_call_delta', index: 0, arguments: '"Paris"}' },
    { type: 'finish', reason: 'tool_calls' },
    { type: 'usage', usage: { inputTokens: 50, outputTokens: 12, cachedInputTokens: 20, cacheWriteTokens: 0 } },
  ],
};

let server: Server;
let client: Anthropic;
let lastRequest: ChatRequest | undefined;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url?.startsWith('/v1/models')) {
    send(res, 200, anthropicWire.renderModels([
      { id: 'claude-a', created: 1_700_000_000, ownedBy: 'anthropic' },
      { id: 'gpt-b', created: 1_710_000_000, ownedBy: 'openai' },
    ]));
    return;
  }
  const request = anthropicWire.decodeChat(await readJson(req));
  lastRequest = request;
  if (request.model === 'limited') {
    throw new GatehouseError('rate_limited', 'rate limit for user exceeded', { retryAfterSeconds: 3 });
  }
  if (!request.stream) {
    send(res, 200, anthropicWire.encodeChat({
      id: 'msg_1',
      model: request.model,
      created: 1,
      content: [{ type: 'text', text: 'Calling a tool.' }],
      toolCalls: [{ id: 'tu_9', name: 'weather', arguments: '{"city":"Rome"}' }],
      finishReason: 'tool_calls',
      usage: { inputTokens: 100, outputTokens: 9, cachedInputTokens: 40, cacheWriteTokens: 10 },
    }));
    return;
  }
  const encoder = anthropicWire.streamEncoder(request);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (request.model === 'breaks') {
    res.write(encoder.event({ type: 'start', id: 'msg_b', model: 'breaks', created: 1 }));
    res.write(encoder.event({ type: 'text', text: 'partial' }));
    res.end(encoder.error(new GatehouseError('upstream_unavailable', 'upstream stream was cut')));
    return;
  }
  for (const event of STREAMS.default!) res.write(encoder.event(event));
  res.end(encoder.end());
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const rendered = anthropicWire.renderError(asGatehouseError(error));
      send(res, rendered.status, rendered.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new Anthropic({ apiKey: 'test-key', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const tools = [{ name: 'weather', description: 'weather by city', input_schema: { type: 'object' as const, properties: {} } }];

describe('official Anthropic SDK against the Anthropic wire', () => {
  it('parses a non-streamed Message with a tool_use block', async () => {
    const message = await client.messages.create({
      model: 'claude-x',
      max_tokens: 100,
      system: 'be brief',
      messages: [{ role: 'user', content: 'weather in Rome?' }],
      tools,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      metadata: { user_id: 'u-7' },
    });
    expect(lastRequest).toMatchObject({ model: 'claude-x', maxTokens: 100, endUser: 'u-7', parallelToolCalls: false });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Calling a tool.' });
    expect(message.content[1]).toMatchObject({ type: 'tool_use', id: 'tu_9', name: 'weather', input: { city: 'Rome' } });
    expect(message.usage).toMatchObject({
      input_tokens: 50,
      output_tokens: 9,
      cache_read_input_tokens: 40,
      cache_creation_input_tokens: 10,
    });
  });

  it('accumulates a stream with a streamed tool_use into the final Message', async () => {
    const stream = client.messages.stream({
      model: 'claude-x',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools,
    });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const message = await stream.finalMessage();
    expect(text).toBe('Checking the weather.');
    expect(message.id).toBe('msg_stream');
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toHaveLength(2);
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Checking the weather.' });
    expect(message.content[1]).toMatchObject({ type: 'tool_use', id: 'tu_1', name: 'weather', input: { city: 'Paris' } });
    expect(message.usage).toMatchObject({ input_tokens: 30, output_tokens: 12, cache_read_input_tokens: 20 });
  });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      ids.push(model.id);
      expect(Number.isNaN(Date.parse(model.created_at))).toBe(false);
    }
    expect(ids).toEqual(['claude-a', 'gpt-b']);
  });

  it('surfaces a validation error with status, type and our code', async () => {
    const error = await client.messages
      .create({ model: 'claude-x', max_tokens: 0, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBe(400);
    expect(apiError.type).toBe('invalid_request_error');
    expect(apiError.errorCode).toBe('invalid_request');
    expect((apiError.error as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('surfaces a rate limit as RateLimitError with our code', async () => {
    const error = await client.messages
      .create({ model: 'limited', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBe(429);
    expect((apiError.error as { error: { code: string } }).error.code).toBe('rate_limited');
  });

  it('throws on an in-stream error event', async () => {
    const stream = client.messages.stream({ model: 'breaks', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.type).toBe('overloaded_error');
    expect((apiError.error as { error: { code: string } }).error.code).toBe('upstream_unavailable');
  });
});
