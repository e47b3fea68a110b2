/**
 * The official `openai` SDK against a tiny server whose every byte comes from the
 * OpenAI wire's own decoders and encoders: proves the SDK accepts what we emit,
 * and that our decoder accepts what the SDK sends.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest, ChatResponse, StreamEvent } from '../../proxy/canonical.js';
import { asGatehouseError, GatehouseError } from '../../proxy/errors.js';
import { openaiWire } from '../../proxy/wire/openai/index.js';

const usage = { inputTokens: 11, outputTokens: 6, cachedInputTokens: 2, cacheWriteTokens: 0 };
const start: StreamEvent = { type: 'start', id: 'chatcmpl-sdk', model: 'upstream-model', created: 1_700_000_000 };

/** What the fake gateway answers, chosen by the requested model. */
function answer(request: ChatRequest): { response: ChatResponse; events: StreamEvent[]; failAfter?: GatehouseError } {
  if (request.model === 'deny') throw new GatehouseError('policy_denied', 'denied by policy');
  if (request.model === 'limited') throw new GatehouseError('rate_limited', 'slow down', { retryAfterSeconds: 1 });
  if (request.model === 'tools') {
    const toolCalls = [
      { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'call_2', name: 'get_time', arguments: '{"tz":"CET"}' },
    ];
    return {
      response: { id: 'chatcmpl-sdk', model: 'upstream-model', created: 1_700_000_000, content: [], toolCalls, finishReason: 'tool_calls', usage },
      events: [
        start,
        { type: 'tool_call_start', index: 0, id: 'call_1', name: 'get_weather' },
        { type: 'tool_call_delta', index: 0, arguments: '{"city":' },
        { type: 'tool_call_delta', index: 0, arguments: '"Paris"}' },
        { type: 'tool_call_start', index: 1, id: 'call_2', name: 'get_time' },
        { type: 'tool_call_delta', index: 1, arguments: '{"tz":' },
        { type: 'tool_call_delta', index: 1, arguments: '"CET"}' },
        { type: 'finish', reason: 'tool_calls' },
        { type: 'usage', usage },
      ],
    };
  }
  const text = 'Hello "world"\nbye';
  const result = {
    response: {
      id: 'chatcmpl-sdk',
      model: 'upstream-model',
      created: 1_700_000_000,
      content: [{ type: 'text' as const, text }],
      toolCalls: [],
      finishReason: 'stop' as const,
      usage,
    },
    events: [start, { type: 'text', text: 'Hello "wor' }, { type: 'text', text: 'ld"\nbye' }, { type: 'usage', usage }, { type: 'finish', reason: 'stop' }] as StreamEvent[],
  };
  if (request.model === 'cut') return { ...result, events: result.events.slice(0, 2), failAfter: new GatehouseError('upstream_error', 'upstream stream cut') };
  return result;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const seen: { chat: ChatRequest[] } = { chat: [] };

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    if (req.method === 'GET' && req.url === '/v1/models') {
      sendJson(res, 200, openaiWire.renderModels([{ id: 'fast', created: 1_700_000_000, ownedBy: 'gatehouse' }]));
      return;
    }
    if (req.method === 'POST' && req.url === '/v1/embeddings') {
      const request = openaiWire.decodeEmbeddings(await readJson(req));
      const vectors = request.input.map((_, i) => Float32Array.of(i + 0.5, -0.25, 1 / 3));
      sendJson(res, 200, openaiWire.encodeEmbeddings({ model: 'embed-upstream', vectors, usage: { inputTokens: 4 } }, request));
      return;
    }
    if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      const request = openaiWire.decodeChat(await readJson(req));
      seen.chat.push(request);
      const plan = answer(request);
      if (!request.stream) {
        sendJson(res, 200, openaiWire.encodeChat(plan.response));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const encoder = openaiWire.streamEncoder(request);
      for (const event of plan.events) res.write(encoder.event(event));
      res.end(plan.failAfter ? encoder.error(plan.failAfter) : encoder.end());
      return;
    }
    throw new GatehouseError('not_found', 'no such route');
  } catch (error) {
    const failure = asGatehouseError(error);
    const rendered = openaiWire.renderError(failure);
    const headers: Record<string, string> = failure.retryAfterSeconds ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
    sendJson(res, rendered.status, rendered.body, headers);
  }
}

let server: Server;
let client: OpenAI;

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new OpenAI({ apiKey: 'test-virtual-key', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0, timeout: 10_000 });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('official openai SDK against the OpenAI wire', () => {
  it('parses a non-streamed completion', async () => {
    const completion = await client.chat.completions.create({
      model: 'text',
      messages: [
        { role: 'developer', content: 'be nice' },
        { role: 'user', content: 'hi' },
      ],
      max_completion_tokens: 20,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message.content).toBe('Hello "world"\nbye');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 6, total_tokens: 17, prompt_tokens_details: { cached_tokens: 2 } });
    expect(seen.chat.at(-1)!.maxTokens).toBe(20);
  });

  it('streams text and sends the usage chunk only when asked', async () => {
    const withUsage = await client.chat.completions.create({
      model: 'text',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let streamedUsage: OpenAI.CompletionUsage | null | undefined;
    const ids = new Set<string>();
    for await (const chunk of withUsage) {
      ids.add(chunk.id);
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) streamedUsage = chunk.usage;
    }
    expect(text).toBe('Hello "world"\nbye');
    expect(finish).toBe('stop');
    expect(ids).toEqual(new Set(['chatcmpl-sdk']));
    expect(streamedUsage?.total_tokens).toBe(17);

    const withoutUsage = await client.chat.completions.create({ model: 'text', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const chunks = [];
    for await (const chunk of withoutUsage) chunks.push(chunk);
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
  });

  it('accumulates streamed parallel tool calls with the stream helper', async () => {
    const stream = client.chat.completions.stream({
      model: 'tools',
      messages: [{ role: 'user', content: 'weather and time?' }],
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
        { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } } },
      ],
      stream_options: { include_usage: true },
    });
    const argumentsDone: string[] = [];
    stream.on('tool_calls.function.arguments.done', (event) => argumentsDone.push(`${event.name} ${event.arguments}`));
    const final = await stream.finalChatCompletion();
    const message = final.choices[0]!.message;
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(message.tool_calls?.map((call) => call.type === 'function' && [call.id, call.function.name, call.function.arguments])).toEqual([
      ['call_1', 'get_weather', '{"city":"Paris"}'],
      ['call_2', 'get_time', '{"tz":"CET"}'],
    ]);
    expect(argumentsDone).toEqual(['get_weather {"city":"Paris"}', 'get_time {"tz":"CET"}']);
    expect(final.usage?.total_tokens).toBe(17);
  });

  it('parses non-streamed tool calls', async () => {
    const completion = await client.chat.completions.create({
      model: 'tools',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather' } }, { type: 'function', function: { name: 'get_time' } }],
    });
    expect(completion.choices[0]!.message.content).toBeNull();
    expect(completion.choices[0]!.message.tool_calls).toHaveLength(2);
  });

  it('throws an APIError with our code when a stream fails midway', async () => {
    const stream = await client.chat.completions.create({ model: 'cut', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const received: string[] = [];
    const failure = await (async () => {
      try {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_error');
    expect(received.join('')).toBe('Hello "wor');
  });

  it('decodes base64 embeddings, the SDK default, and float on request', async () => {
    const base64 = await client.embeddings.create({ model: 'embed', input: ['a', 'b'] });
    expect(base64.object).toBe('list');
    expect(base64.data.map((item) => item.index)).toEqual([0, 1]);
    expect(base64.data[1]!.embedding).toEqual([1.5, -0.25, Math.fround(1 / 3)]);
    expect(base64.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    const float = await client.embeddings.create({ model: 'embed', input: 'a', encoding_format: 'float' });
    expect(float.data[0]!.embedding).toEqual([0.5, -0.25, Math.fround(1 / 3)]);
  });

  it('lists models', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models).toEqual([{ id: 'fast', object: 'model', created: 1_700_000_000, owned_by: 'gatehouse' }]);
  });

  it.each<[string, object, number, string, abstract new (...args: never[]) => Error]>([
    ['invalid request', { model: 'text', messages: [], temperature: 1 }, 400, 'invalid_request', OpenAI.BadRequestError],
    ['policy denial', { model: 'deny', messages: [{ role: 'user', content: 'x' }] }, 403, 'policy_denied', OpenAI.PermissionDeniedError],
    ['rate limit', { model: 'limited', messages: [{ role: 'user', content: 'x' }] }, 429, 'rate_limited', OpenAI.RateLimitError],
  ])('surfaces a %s as an SDK error with status and code', async (_name, body, status, code, type) => {
    const failure = await client.chat.completions
      .create(body as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(type);
    const apiError = failure as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(status);
    expect(apiError.code).toBe(code);
  });

  it('names the bad field in param', async () => {
    const failure = await client.chat.completions
      .create({ model: 'text', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] })
      .then(() => undefined, (error: unknown) => error);
    expect((failure as InstanceType<typeof OpenAI.APIError>).param).toBe('messages[0].content[0].type');
  });
});
