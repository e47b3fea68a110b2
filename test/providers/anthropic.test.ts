import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../proxy/canonical.js';
import { anthropicSpec, createAnthropicSpec } from '../../proxy/providers/anthropic.js';
import { UpstreamFailure } from '../../proxy/providers/types.js';
import { anthropicWire } from '../../proxy/wire/anthropic/index.js';

function request(overrides: Partial<ChatRequest>): ChatRequest {
  return { model: 'alias', messages: [], stream: false, streamUsage: false, ...overrides };
}

describe('anthropic provider: transport', () => {
  it('describes the Messages endpoint and its headers', () => {
    expect(anthropicSpec.kind).toBe('anthropic');
    expect(anthropicSpec.system).toBe('anthropic');
    expect(anthropicSpec.defaultBaseUrl).toBe('https://api.anthropic.com');
    expect(anthropicSpec.chatPath).toBe('/v1/messages');
    expect(anthropicSpec.embeddingsPath).toBeUndefined();
    expect(anthropicSpec.authHeaders('sk-test')).toEqual({ 'x-api-key': 'sk-test', 'anthropic-version': '2023-06-01' });
    expect(anthropicSpec.authHeaders(undefined)).toEqual({ 'anthropic-version': '2023-06-01' });
  });
});

describe('anthropic provider: encodeChat', () => {
  it('hoists system, merges tool results with the following user text, maps options', () => {
    const body = anthropicSpec.encodeChat(
      request({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'be brief' }] },
          { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
          {
            role: 'assistant',
            content: [{ type: 'text', text: '' }],
            toolCalls: [
              { id: 'c1', name: 'weather', arguments: '{"city":"Paris"}' },
              { id: 'c2', name: 'weather', arguments: 'not json' },
            ],
          },
          { role: 'tool', toolCallId: 'c1', content: [{ type: 'text', text: '18C' }] },
          { role: 'tool', toolCallId: 'c2', content: [{ type: 'text', text: 'failed' }], isError: true },
          { role: 'user', content: [{ type: 'text', text: 'thanks' }] },
          { role: 'user', content: [{ type: 'image', source: { kind: 'url', url: 'https://example.com/x.png' } }] },
        ],
        stream: true,
        temperature: 1.6,
        topP: 0.5,
        stop: ['END'],
        tools: [{ name: 'weather', description: 'by city', parameters: { type: 'object' } }],
        toolChoice: 'required',
        parallelToolCalls: false,
        endUser: 'u-1',
        extra: { wire: 'openai', fields: { seed: 1 } },
      }),
      'claude-real',
    );
    expect(body).toEqual({
      model: 'claude-real',
      max_tokens: 4096,
      system: 'be brief',
      stream: true,
      temperature: 1,
      top_p: 0.5,
      stop_sequences: ['END'],
      tools: [{ name: 'weather', description: 'by city', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      metadata: { user_id: 'u-1' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'c1', name: 'weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'c2', name: 'weather', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'c1', content: '18C' },
            { type: 'tool_result', tool_use_id: 'c2', content: 'failed', is_error: true },
            { type: 'text', text: 'thanks' },
            { type: 'image', source: { type: 'url', url: 'https://example.com/x.png' } },
          ],
        },
      ],
    });
  });

  it('joins several system messages as text blocks and maps base64 images and tool choices', () => {
    const body = createAnthropicSpec({ defaultMaxTokens: 256 }).encodeChat(
      request({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'one' }] },
          { role: 'system', content: [{ type: 'text', text: 'two' }] },
          { role: 'user', content: [{ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAAA' } }] },
        ],
        tools: [{ name: 'f', parameters: {} }],
        toolChoice: { name: 'f' },
      }),
      'm',
    );
    expect(body.max_tokens).toBe(256);
    expect(body.system).toEqual([{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'f' });
    expect(body.tools).toEqual([{ name: 'f', input_schema: {} }]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
    ]);
    expect(body.stream).toBeUndefined();
  });

  it('merges extra fields only from the anthropic wire, never over core fields', () => {
    const body = anthropicSpec.encodeChat(
      request({
        maxTokens: 10,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }],
        extra: { wire: 'anthropic', fields: { top_k: 3, model: 'sneaky' } },
      }),
      'm',
    );
    expect(body.top_k).toBe(3);
    expect(body.model).toBe('m');
    expect(body.max_tokens).toBe(10);
  });

  it('round-trips a client Anthropic request through the canonical model', () => {
    const original = {
      model: 'claude-x',
      max_tokens: 300,
      system: 'sys',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'q' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: 'r' },
            { type: 'text', text: 'more' },
          ],
        },
      ],
      tools: [{ name: 'f', description: 'd', input_schema: { type: 'object' } }],
      tool_choice: { type: 'auto' },
      stop_sequences: ['S'],
      temperature: 0.3,
      top_k: 4,
      metadata: { user_id: 'u' },
    };
    expect(anthropicSpec.encodeChat(anthropicWire.decodeChat(original), 'claude-x')).toEqual(original);
  });
});

describe('anthropic provider: decodeChat', () => {
  it('decodes a Message with total input usage', () => {
    const response = anthropicSpec.decodeChat({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [
        { type: 'thinking', thinking: '...', signature: 's' },
        { type: 'text', text: 'Hi' },
        { type: 'tool_use', id: 'tu', name: 'f', input: { a: [1] } },
      ],
      stop_reason: 'stop_sequence',
      stop_sequence: 'END',
      usage: { input_tokens: 5, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 },
    });
    expect(response).toMatchObject({
      id: 'msg_1',
      model: 'claude-x',
      content: [{ type: 'text', text: 'Hi' }],
      toolCalls: [{ id: 'tu', name: 'f', arguments: '{"a":[1]}' }],
      finishReason: 'stop',
      stopSequence: 'END',
      usage: { inputTokens: 125, outputTokens: 7, cachedInputTokens: 100, cacheWriteTokens: 20 },
    });
    expect(typeof response.created).toBe('number');
  });

  it.each([
    ['end_turn', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
  ])('maps stop_reason %s to %s', (stopReason, finish) => {
    const response = anthropicSpec.decodeChat({ id: 'm', model: 'x', content: [], stop_reason: stopReason, usage: {} });
    expect(response.finishReason).toBe(finish);
  });

  it('decodes a Message without usage as an answer with no reported usage (never a retryable failure)', () => {
    const response = anthropicSpec.decodeChat({ id: 'm', model: 'x', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: null });
    expect(response.usage).toBeUndefined();
    expect(response.content).toEqual([{ type: 'text', text: 'hi' }]);
  });

  it.each([[null], ['text'], [{ content: 'x', usage: {} }], [{ content: [{ type: 'text' }], usage: {} }]])(
    'rejects %j as bad_response',
    (body) => {
      const error = (() => {
        try {
          anthropicSpec.decodeChat(body);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(UpstreamFailure);
      expect((error as UpstreamFailure).reason).toBe('bad_response');
      expect((error as UpstreamFailure).code).toBe('upstream_error');
    },
  );

  it('reads the upstream error message', () => {
    expect(anthropicSpec.errorMessage({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })).toBe('Overloaded');
    expect(anthropicSpec.errorMessage('nope')).toBeUndefined();
  });

  it('masks anything shaped like a key in upstream messages', () => {
    const message = anthropicSpec.errorMessage({ error: { type: 'authentication_error', message: 'bad key sk-ant-api03-abcdef123' } });
    expect(message).not.toContain('abcdef123');
    expect(message).toContain('[key]');
  });
});
