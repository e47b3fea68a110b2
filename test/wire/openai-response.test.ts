import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { ChatRequest, ChatResponse, EmbeddingRequest, StreamEvent } from '../../proxy/canonical.js';
import { GatehouseError, type ErrorCode } from '../../proxy/errors.js';
import { openaiWire } from '../../proxy/wire/openai/index.js';

const usage = { inputTokens: 12, outputTokens: 5, cachedInputTokens: 4, cacheWriteTokens: 0 };

function response(overrides: Partial<ChatResponse> = {}): ChatResponse {
  return {
    id: 'chatcmpl-1',
    model: 'gpt-4o-mini-2024',
    created: 1_700_000_000,
    content: [{ type: 'text', text: 'Hello' }],
    toolCalls: [],
    finishReason: 'stop',
    usage,
    ...overrides,
  };
}

function request(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'gpt-4o-mini', messages: [], stream: true, streamUsage: false, ...overrides };
}

type Chunk = OpenAI.ChatCompletionChunk;

/** The JSON payloads of `data:` lines, `[DONE]` kept as a string. */
function frames(sse: string): unknown[] {
  return sse
    .split('\n\n')
    .filter((frame) => frame.length > 0)
    .map((frame) => {
      expect(frame.startsWith('data: ')).toBe(true);
      const data = frame.slice(6);
      return data === '[DONE]' ? data : JSON.parse(data);
    });
}

/** The chunks of a stream, without `[DONE]`. */
function chunks(sse: string): Chunk[] {
  return frames(sse).filter((frame): frame is Chunk => frame !== '[DONE]');
}

describe('openai wire encodeChat', () => {
  it('builds a chat.completion', () => {
    const body = openaiWire.encodeChat(response()) as OpenAI.ChatCompletion;
    expect(body).toMatchObject({ id: 'chatcmpl-1', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-4o-mini-2024' });
    expect(body.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: 'Hello', refusal: null }, logprobs: null, finish_reason: 'stop' },
    ]);
    expect(body.usage).toEqual({ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 } });
  });

  it('sends null content and tool_calls when the model only called tools', () => {
    const body = openaiWire.encodeChat(
      response({ content: [], toolCalls: [{ id: 'call_1', name: 'f', arguments: '{}' }], finishReason: 'tool_calls' }),
    ) as OpenAI.ChatCompletion;
    expect(body.choices[0]!.message.content).toBeNull();
    expect(body.choices[0]!.message.tool_calls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }]);
    expect(body.choices[0]!.finish_reason).toBe('tool_calls');
  });
});

describe('openai wire renderModels and renderError', () => {
  it('renders a model list', () => {
    expect(openaiWire.renderModels([{ id: 'fast', created: 1, ownedBy: 'gatehouse' }])).toEqual({
      object: 'list',
      data: [{ id: 'fast', object: 'model', created: 1, owned_by: 'gatehouse' }],
    });
  });

  const types: Array<[ErrorCode, number, string]> = [
    ['invalid_request', 400, 'invalid_request_error'],
    ['invalid_api_key', 401, 'authentication_error'],
    ['policy_denied', 403, 'permission_error'],
    ['model_not_found', 404, 'not_found_error'],
    ['rate_limited', 429, 'rate_limit_error'],
    ['budget_exceeded', 429, 'insufficient_quota'],
    ['upstream_unavailable', 503, 'server_error'],
  ];
  it.each(types)('renders %s with status %i and type %s', (code, status, type) => {
    const rendered = openaiWire.renderError(new GatehouseError(code, 'nope', { param: 'messages[0]' }));
    expect(rendered.status).toBe(status);
    expect(rendered.body).toEqual({ error: { message: 'nope', type, param: 'messages[0]', code } });
  });

  it('renders a missing param as null', () => {
    const rendered = openaiWire.renderError(new GatehouseError('internal_error', 'internal error'));
    expect((rendered.body as { error: { param: unknown } }).error.param).toBeNull();
  });
});

describe('openai wire streamEncoder', () => {
  const start: StreamEvent = { type: 'start', id: 'chatcmpl-9', model: 'gpt-x', created: 1_700_000_001 };

  it('streams role, text, finish and [DONE] with stable id/created/model', () => {
    const encoder = openaiWire.streamEncoder(request());
    const out =
      encoder.event(start) +
      encoder.event({ type: 'text', text: 'Hel' }) +
      encoder.event({ type: 'text', text: 'lo "you"\n' }) +
      encoder.event({ type: 'finish', reason: 'stop' }) +
      encoder.event({ type: 'usage', usage }) +
      encoder.end();
    expect(frames(out).at(-1)).toBe('[DONE]');
    const objects = chunks(out);
    expect(objects).toHaveLength(4); // role, 2 texts, finish; usage swallowed
    for (const chunk of objects) {
      expect(chunk).toMatchObject({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1_700_000_001, model: 'gpt-x' });
    }
    expect(objects[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(objects[1]!.choices[0]!).toEqual({ index: 0, delta: { content: 'Hel' }, logprobs: null, finish_reason: null });
    expect(objects[2]!.choices[0]!.delta.content).toBe('lo "you"\n');
    expect(objects[3]!.choices[0]!).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
  });

  it('streams tool calls as start plus argument deltas', () => {
    const encoder = openaiWire.streamEncoder(request());
    const out =
      encoder.event(start) +
      encoder.event({ type: 'tool_call_start', index: 0, id: 'call_a', name: 'get_weather' }) +
      encoder.event({ type: 'tool_call_delta', index: 0, arguments: '{"city":' }) +
      encoder.event({ type: 'tool_call_delta', index: 0, arguments: '"Paris"}' }) +
      encoder.event({ type: 'finish', reason: 'tool_calls' });
    const objects = chunks(out);
    expect(objects[1]!.choices[0]!.delta.tool_calls).toEqual([
      { index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
    ]);
    expect(objects[2]!.choices[0]!.delta.tool_calls).toEqual([{ index: 0, function: { arguments: '{"city":' } }]);
    expect(objects[4]!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('sends a usage chunk with empty choices after finish when asked, whatever the event order', () => {
    const encoder = openaiWire.streamEncoder(request({ streamUsage: true }));
    const out =
      encoder.event(start) + encoder.event({ type: 'usage', usage }) + encoder.event({ type: 'finish', reason: 'length' }) + encoder.end();
    const objects = chunks(out);
    expect(frames(out).at(-1)).toBe('[DONE]');
    expect(objects.map((c) => c.choices.length)).toEqual([1, 1, 0]);
    expect(objects[1]!.choices[0]!.finish_reason).toBe('length');
    expect(objects[2]!.usage).toEqual({ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 } });
    expect(objects[2]!.id).toBe('chatcmpl-9');
  });

  it('flushes held usage on end when finish never came', () => {
    const encoder = openaiWire.streamEncoder(request({ streamUsage: true }));
    const out = encoder.event(start) + encoder.event({ type: 'usage', usage }) + encoder.end();
    expect(chunks(out)[1]!.usage?.total_tokens).toBe(17);
    expect(frames(out)).toHaveLength(3);
  });

  it('renders a mid-stream error as an error chunk and then stays silent', () => {
    const encoder = openaiWire.streamEncoder(request());
    encoder.event(start);
    const out = encoder.error(new GatehouseError('upstream_error', 'upstream stream cut'));
    expect(frames(out)).toEqual([{ error: { message: 'upstream stream cut', type: 'server_error', param: null, code: 'upstream_error' } }]);
    expect(encoder.event({ type: 'text', text: 'late' })).toBe('');
    expect(encoder.end()).toBe('');
  });

  it('opens the stream itself if a text event comes before start', () => {
    const encoder = openaiWire.streamEncoder(request({ model: 'alias' }));
    const objects = chunks(encoder.event({ type: 'text', text: 'x' }));
    expect(objects).toHaveLength(2);
    expect(objects[0]!.model).toBe('alias');
    expect(objects[1]!.id).toBe(objects[0]!.id);
  });
});

describe('openai wire encodeEmbeddings', () => {
  const req = (encodingFormat: 'float' | 'base64'): EmbeddingRequest => ({ model: 'e', input: ['a', 'b'], encodingFormat });

  it('encodes floats from Float32Array and number[] vectors', () => {
    const body = openaiWire.encodeEmbeddings(
      { model: 'text-embedding-3-small', vectors: [[0.5, -1], [0.25, 2]], usage: { inputTokens: 3 } },
      req('float'),
    );
    expect(body).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, -1] },
        { object: 'embedding', index: 1, embedding: [0.25, 2] },
      ],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
  });

  it('encodes base64 as little-endian float32 bytes', () => {
    const body = openaiWire.encodeEmbeddings({ model: 'e', vectors: [[1.5, -2]], usage: { inputTokens: 1 } }, req('base64')) as {
      data: Array<{ embedding: string }>;
    };
    const bytes = Buffer.from(body.data[0]!.embedding, 'base64');
    expect(bytes.length).toBe(8);
    expect([bytes.readFloatLE(0), bytes.readFloatLE(4)]).toEqual([1.5, -2]);
  });
});
