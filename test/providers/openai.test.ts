import { describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../../proxy/canonical.js';
import { openaiCompatibleSpec, openaiSpec } from '../../proxy/providers/openai.js';
import { UpstreamFailure } from '../../proxy/providers/types.js';
import { openaiWire } from '../../proxy/wire/openai/index.js';

function request(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return {
    model: 'alias',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'be brief' }] },
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    ],
    stream: false,
    streamUsage: false,
    ...overrides,
  };
}

function failure(run: () => unknown): UpstreamFailure {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UpstreamFailure);
    return error as UpstreamFailure;
  }
  throw new Error('expected an UpstreamFailure');
}

/** Decodes a list of chunk payloads (objects are stringified) with one decoder. */
function decodeAll(payloads: Array<unknown>): { events: StreamEvent[]; done: boolean } {
  const decoder = openaiSpec.createStreamDecoder();
  const events: StreamEvent[] = [];
  for (const payload of payloads) {
    events.push(...decoder.decode({ event: undefined, data: typeof payload === 'string' ? payload : JSON.stringify(payload) }));
  }
  return { events, done: decoder.done };
}

const head = { id: 'chatcmpl-7', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-2024' };
const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  ...head,
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  usage: null,
});

describe('openai provider spec: transport', () => {
  it('targets /v1 chat completions and embeddings with bearer auth', () => {
    expect(openaiSpec.defaultBaseUrl).toBe('https://api.openai.com/v1');
    expect(openaiSpec.chatPath).toBe('/chat/completions');
    expect(openaiSpec.embeddingsPath).toBe('/embeddings');
    expect(openaiSpec.authHeaders('k1')).toEqual({ authorization: 'Bearer k1' });
    expect(openaiSpec.authHeaders(undefined)).toEqual({});
  });

  it('builds compatible specs with api-key auth and a chosen max-tokens field', () => {
    const azure = openaiCompatibleSpec({ system: 'azure.ai.openai', authStyle: 'api-key', maxTokensField: 'max_completion_tokens' });
    expect(azure.kind).toBe('openai-compatible');
    expect(azure.system).toBe('azure.ai.openai');
    expect(azure.authHeaders('k2')).toEqual({ 'api-key': 'k2' });
    expect(azure.encodeChat(request({ maxTokens: 9 }), 'dep')).toMatchObject({ max_completion_tokens: 9 });
    expect(openaiCompatibleSpec().encodeChat(request({ maxTokens: 9 }), 'm')).toMatchObject({ max_tokens: 9 });
  });
});

describe('openai provider spec: encodeChat', () => {
  it('maps canonical messages, tools and options to an OpenAI body', () => {
    const body = openaiSpec.encodeChat(
      request({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'sys' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'see' },
              { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAAA' } },
            ],
          },
          { role: 'assistant', content: [], toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }] },
          { role: 'tool', toolCallId: 'c1', content: [{ type: 'text', text: 'ok' }] },
        ],
        maxTokens: 100,
        temperature: 0.5,
        topP: 0.8,
        stop: ['X'],
        tools: [{ name: 'f', description: 'does f', parameters: { type: 'object' } }],
        toolChoice: { name: 'f' },
        parallelToolCalls: false,
        endUser: 'u1',
      }),
      'gpt-4o',
    );
    expect(body).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'sys' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'see' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
      max_completion_tokens: 100,
      temperature: 0.5,
      top_p: 0.8,
      stop: ['X'],
      tools: [{ type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      parallel_tool_calls: false,
      user: 'u1',
    });
  });

  it('always asks for usage when streaming and leaves parallel_tool_calls out without tools', () => {
    const body = openaiSpec.encodeChat(request({ stream: true, streamUsage: false, parallelToolCalls: true }), 'm');
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(body).not.toHaveProperty('parallel_tool_calls');
  });

  it('merges extra fields only from the openai wire, canonical fields winning', () => {
    const extra = { response_format: { type: 'json_object' }, seed: 3, model: 'sneaky' };
    expect(openaiSpec.encodeChat(request({ extra: { wire: 'openai', fields: extra } }), 'm')).toMatchObject({
      response_format: { type: 'json_object' },
      seed: 3,
      model: 'm',
    });
    expect(openaiSpec.encodeChat(request({ extra: { wire: 'anthropic', fields: { top_k: 3 } } }), 'm')).not.toHaveProperty('top_k');
  });
});

describe('openai provider spec: decodeChat', () => {
  const completion = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-2024',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 20, completion_tokens: 7, total_tokens: 27, prompt_tokens_details: { cached_tokens: 16 } },
  };

  it('decodes a completion with tool calls and cached tokens', () => {
    expect(openaiSpec.decodeChat(completion)).toEqual({
      id: 'chatcmpl-1',
      model: 'gpt-4o-2024',
      created: 1_700_000_000,
      content: [],
      toolCalls: [{ id: 'c1', name: 'f', arguments: '{"a":1}' }],
      finishReason: 'tool_calls',
      usage: { inputTokens: 20, outputTokens: 7, cachedInputTokens: 16, cacheWriteTokens: 0 },
    });
  });

  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['content_filter', 'content_filter'],
    ['function_call', 'tool_calls'],
  ])('maps finish_reason %s to %s', (upstream, canonical) => {
    const body = { ...completion, choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: upstream }] };
    expect(openaiSpec.decodeChat(body).finishReason).toBe(canonical);
  });

  it.each([
    ['not an object', 'oops'],
    ['no choices', { ...completion, choices: [] }],
    ['no message', { ...completion, choices: [{ index: 0 }] }],
    ['content not a string', { ...completion, choices: [{ index: 0, message: { content: 5 } }] }],
    ['malformed tool call', { ...completion, choices: [{ index: 0, message: { content: null, tool_calls: [{ id: 1 }] } }] }],
  ])('rejects a body that is %s as bad_response', (_name, body) => {
    const error = failure(() => openaiSpec.decodeChat(body));
    expect(error.reason).toBe('bad_response');
    expect(error.code).toBe('upstream_error');
    expect(error.retryable).toBe(true);
  });

  it('round-trips through the client wire encoder', () => {
    const canonical = openaiSpec.decodeChat(completion);
    expect(openaiSpec.decodeChat(openaiWire.encodeChat(canonical))).toEqual(canonical);
  });
});

describe('openai provider spec: stream decoder', () => {
  it('decodes text, finish, usage after finish and [DONE]', () => {
    const { events, done } = decodeAll([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({}, 'stop'),
      { ...head, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { cached_tokens: 1 } } },
      '[DONE]',
    ]);
    expect(done).toBe(true);
    expect(events).toEqual([
      { type: 'start', id: 'chatcmpl-7', model: 'gpt-4o-2024', created: 1_700_000_000 },
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { inputTokens: 3, outputTokens: 2, cachedInputTokens: 1, cacheWriteTokens: 0 } },
    ]);
  });

  it('decodes tool-call deltas split across chunks, including two parallel calls', () => {
    const { events } = decodeAll([
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"P"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]);
    expect(events.slice(1)).toEqual([
      { type: 'tool_call_start', index: 0, id: 'call_a', name: 'weather' },
      { type: 'tool_call_delta', index: 0, arguments: '{"ci' },
      { type: 'tool_call_delta', index: 0, arguments: 'ty":"P"}' },
      { type: 'tool_call_start', index: 1, id: 'call_b', name: 'time' },
      { type: 'tool_call_delta', index: 1, arguments: '{}' },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('treats a new id at a reused index as a new call', () => {
    const { events } = decodeAll([
      chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'b', function: { name: 'g', arguments: '{}' } }] }),
    ]);
    expect(events.filter((e) => e.type === 'tool_call_start')).toEqual([
      { type: 'tool_call_start', index: 0, id: 'a', name: 'f' },
      { type: 'tool_call_start', index: 1, id: 'b', name: 'g' },
    ]);
  });

  it('throws bad_response on unparseable JSON and on a tool call without a name', () => {
    expect(failure(() => decodeAll(['{not json'])).reason).toBe('bad_response');
    expect(failure(() => decodeAll([chunk({ tool_calls: [{ index: 0, id: 'x', function: { arguments: '{}' } }] })])).reason).toBe('bad_response');
  });

  it.each([
    [{ type: 'rate_limit_error', code: 'rate_limit_exceeded' }, 'rate_limited'],
    [{ type: 'server_error', code: null }, 'server_error'],
    [{ type: 'invalid_request_error', code: 'context_length_exceeded' }, 'client_error'],
    [{ type: 'overloaded_error' }, 'overloaded'],
  ])('turns an in-stream error %j into %s', (error, reason) => {
    const thrown = failure(() => decodeAll([chunk({ content: 'a' }), { error: { message: 'boom', ...error } }]));
    expect(thrown.reason).toBe(reason);
  });
});

describe('openai provider spec: embeddings and error messages', () => {
  it('always asks upstream for floats', () => {
    const body = openaiSpec.encodeEmbeddings!({ model: 'x', input: ['a'], encodingFormat: 'base64', dimensions: 64, endUser: 'u' }, 'text-embedding-3-small');
    expect(body).toEqual({ model: 'text-embedding-3-small', input: ['a'], encoding_format: 'float', dimensions: 64, user: 'u' });
  });

  it('decodes vectors in index order', () => {
    const decoded = openaiSpec.decodeEmbeddings!({
      object: 'list',
      data: [
        { object: 'embedding', index: 1, embedding: [2] },
        { object: 'embedding', index: 0, embedding: [1] },
      ],
      model: 'm',
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
    expect(decoded).toEqual({ model: 'm', vectors: [[1], [2]], usage: { inputTokens: 4 } });
    expect(failure(() => openaiSpec.decodeEmbeddings!({ data: [{ index: 0, embedding: 'AAAA' }] })).reason).toBe('bad_response');
    expect(failure(() => openaiSpec.decodeEmbeddings!({ data: [{ index: 0, embedding: [1] }, { index: 0, embedding: [2] }] })).reason).toBe(
      'bad_response',
    );
  });

  it('reads the error message and masks anything shaped like a key', () => {
    const message = openaiSpec.errorMessage({ error: { message: 'Incorrect API key provided: sk-proj-abc123***********xyz9. Find yours', type: 'invalid_request_error' } });
    expect(message).toBeDefined();
    expect(message).not.toContain('abc123');
    expect(openaiSpec.errorMessage({ message: 'plain' })).toBe('plain');
    expect(openaiSpec.errorMessage(42)).toBeUndefined();
  });
});

describe('openai client wire → provider round trip', () => {
  it('passes a decoded client request to an OpenAI upstream without loss', () => {
    const client = {
      model: 'alias',
      messages: [
        { role: 'developer', content: 'rules' },
        { role: 'system', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
        { role: 'user', content: [{ type: 'text', text: 'q' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'r' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
      tool_choice: 'auto',
      seed: 1,
      max_completion_tokens: 5,
      stream: true,
    };
    const body = openaiSpec.encodeChat(openaiWire.decodeChat(client), 'gpt-4o');
    expect(body).toEqual({
      ...client,
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'rules' }, ...client.messages.slice(1)],
      stream_options: { include_usage: true },
    });
  });
});

describe('openai client wire stream → provider stream decoder round trip', () => {
  it('decodes exactly the events the wire encoder was given', () => {
    const events: StreamEvent[] = [
      { type: 'start', id: 'chatcmpl-rt', model: 'm', created: 1_700_000_000 },
      { type: 'text', text: 'thinking "aloud"\n' },
      { type: 'tool_call_start', index: 0, id: 'call_x', name: 'lookup' },
      { type: 'tool_call_delta', index: 0, arguments: '{"q":' },
      { type: 'tool_call_delta', index: 0, arguments: '"a\\u00e9"}' },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'usage', usage: { inputTokens: 9, outputTokens: 4, cachedInputTokens: 0, cacheWriteTokens: 0 } },
    ];
    const encoder = openaiWire.streamEncoder(request({ stream: true, streamUsage: true }));
    const sse = events.map((event) => encoder.event(event)).join('') + encoder.end();
    const payloads = sse
      .split('\n\n')
      .filter((frame) => frame.length > 0)
      .map((frame) => frame.slice('data: '.length));
    const decoded = decodeAll(payloads);
    expect(decoded.done).toBe(true);
    expect(decoded.events).toEqual(events);
  });
});
