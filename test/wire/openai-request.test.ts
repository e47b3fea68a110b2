import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../proxy/errors.js';
import { openaiWire } from '../../proxy/wire/openai/index.js';

const user = { role: 'user', content: 'hi' };

function base(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'gpt-4o-mini', messages: [user], ...extra };
}

function rejection(run: () => unknown): GatehouseError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError);
    return error as GatehouseError;
  }
  throw new Error('expected a GatehouseError');
}

describe('openai wire decodeChat: valid requests', () => {
  it('decodes a minimal request with defaults', () => {
    const request = openaiWire.decodeChat(base());
    expect(request).toEqual({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      stream: false,
      streamUsage: false,
    });
  });

  it('maps every canonical field', () => {
    const request = openaiWire.decodeChat(
      base({
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: 50,
        temperature: 0.3,
        top_p: 0.9,
        stop: 'END',
        parallel_tool_calls: false,
        user: 'end-user-1',
        n: 1,
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'd', parameters: { type: 'object' }, strict: true } }],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      }),
    );
    expect(request.stream).toBe(true);
    expect(request.streamUsage).toBe(true);
    expect(request.maxTokens).toBe(50);
    expect(request.temperature).toBe(0.3);
    expect(request.topP).toBe(0.9);
    expect(request.stop).toEqual(['END']);
    expect(request.parallelToolCalls).toBe(false);
    expect(request.endUser).toBe('end-user-1');
    expect(request.tools).toEqual([{ name: 'get_weather', description: 'd', parameters: { type: 'object' } }]);
    expect(request.toolChoice).toEqual({ name: 'get_weather' });
    expect(request.extra).toBeUndefined();
  });

  it('prefers max_completion_tokens and treats null as absent', () => {
    const request = openaiWire.decodeChat(base({ max_tokens: 10, max_completion_tokens: 20, temperature: null, stop: null }));
    expect(request.maxTokens).toBe(20);
    expect(request.temperature).toBeUndefined();
    expect(request.stop).toBeUndefined();
  });

  it('moves system and developer messages to the front as system, in order', () => {
    const request = openaiWire.decodeChat(
      base({
        messages: [
          { role: 'system', content: 'one' },
          { role: 'user', content: 'q' },
          { role: 'developer', content: [{ type: 'text', text: 'two' }] },
        ],
      }),
    );
    expect(request.messages.map((m) => m.role)).toEqual(['system', 'system', 'user']);
    expect(request.messages[1]).toEqual({ role: 'system', content: [{ type: 'text', text: 'two' }] });
  });

  it('decodes images, tool calls with null content and tool results', () => {
    const request = openaiWire.decodeChat(
      base({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            ],
          },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'result' },
        ],
      }),
    );
    expect(request.messages[0]!.content).toEqual([
      { type: 'text', text: 'look' },
      { type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } },
      { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } },
    ]);
    expect(request.messages[1]).toEqual({ role: 'assistant', content: [], toolCalls: [{ id: 'call_1', name: 'f', arguments: '{"a":1}' }] });
    expect(request.messages[2]).toEqual({ role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: 'result' }] });
  });

  it('puts known-safe fields without a canonical home into extra', () => {
    const request = openaiWire.decodeChat(
      base({ response_format: { type: 'json_object' }, seed: 7, logit_bias: { '50256': -100 }, reasoning_effort: 'low', metadata: null }),
    );
    expect(request.extra).toEqual({
      wire: 'openai',
      fields: { response_format: { type: 'json_object' }, seed: 7, logit_bias: { '50256': -100 }, reasoning_effort: 'low' },
    });
  });
});

describe('openai wire decodeChat: invalid requests name the field', () => {
  const cases: Array<[string, unknown, string]> = [
    ['body not an object', [], 'body'],
    ['missing model', { messages: [user] }, 'model'],
    ['model not a string', base({ model: 3 }), 'model'],
    ['missing messages', { model: 'm' }, 'messages'],
    ['empty messages', base({ messages: [] }), 'messages'],
    ['message not an object', base({ messages: [user, 'x'] }), 'messages[1]'],
    ['unknown role', base({ messages: [user, { role: 'function', content: 'x' }] }), 'messages[1].role'],
    ['missing role', base({ messages: [{ content: 'x' }] }), 'messages[0].role'],
    ['user content wrong type', base({ messages: [user, { role: 'user', content: 5 }] }), 'messages[1].content'],
    ['user content empty array', base({ messages: [{ role: 'user', content: [] }] }), 'messages[0].content'],
    ['user content missing', base({ messages: [{ role: 'user' }] }), 'messages[0].content'],
    [
      'unsupported part type',
      base({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'input_audio', input_audio: {} }] }] }),
      'messages[0].content[1].type',
    ],
    ['text part without text', base({ messages: [{ role: 'user', content: [{ type: 'text' }] }] }), 'messages[0].content[0].text'],
    ['image in system message', base({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x' } }] }] }), 'messages[0].content[0].type'],
    ['image url missing', base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }), 'messages[0].content[0].image_url.url'],
    ['image url bad scheme', base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }), 'messages[0].content[0].image_url.url'],
    ['image detail bad', base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x', detail: 'max' } }] }] }), 'messages[0].content[0].image_url.detail'],
    ['malformed data url', base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,abc' } }] }] }), 'messages[0].content[0].image_url.url'],
    ['assistant without content or tool calls', base({ messages: [user, { role: 'assistant', content: null }] }), 'messages[1].content'],
    ['tool call bad type', base({ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'x', function: { name: 'f', arguments: '' } }] }] }), 'messages[0].tool_calls[0].type'],
    ['tool call missing id', base({ messages: [{ role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '' } }] }] }), 'messages[0].tool_calls[0].id'],
    ['tool call missing name', base({ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { arguments: '' } }] }] }), 'messages[0].tool_calls[0].function.name'],
    ['tool call arguments not a string', base({ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: {} } }] }] }), 'messages[0].tool_calls[0].function.arguments'],
    ['tool message without tool_call_id', base({ messages: [{ role: 'tool', content: 'x' }] }), 'messages[0].tool_call_id'],
    ['tools not an array', base({ tools: {} }), 'tools'],
    ['tool of another type', base({ tools: [{ type: 'custom', custom: { name: 'x' } }] }), 'tools[0].type'],
    ['tool name invalid', base({ tools: [{ type: 'function', function: { name: 'has space' } }] }), 'tools[0].function.name'],
    ['tool name duplicate', base({ tools: [{ type: 'function', function: { name: 'a' } }, { type: 'function', function: { name: 'a' } }] }), 'tools[1].function.name'],
    ['tool parameters not an object', base({ tools: [{ type: 'function', function: { name: 'a', parameters: 'x' } }] }), 'tools[0].function.parameters'],
    ['tool_choice unknown string', base({ tool_choice: 'any' }), 'tool_choice'],
    ['tool_choice names a missing tool', base({ tools: [{ type: 'function', function: { name: 'a' } }], tool_choice: { type: 'function', function: { name: 'b' } } }), 'tool_choice.function.name'],
    ['tool_choice required without tools', base({ tool_choice: 'required' }), 'tool_choice'],
    ['n above 1', base({ n: 2 }), 'n'],
    ['temperature out of range', base({ temperature: 3 }), 'temperature'],
    ['top_p not a number', base({ top_p: '1' }), 'top_p'],
    ['max_tokens zero', base({ max_tokens: 0 }), 'max_tokens'],
    ['max_completion_tokens fractional', base({ max_completion_tokens: 1.5 }), 'max_completion_tokens'],
    ['stop too many', base({ stop: ['a', 'b', 'c', 'd', 'e'] }), 'stop'],
    ['stop item not a string', base({ stop: ['a', 1] }), 'stop[1]'],
    ['stream not a boolean', base({ stream: 'yes' }), 'stream'],
    ['stream_options.include_usage wrong type', base({ stream: true, stream_options: { include_usage: 1 } }), 'stream_options.include_usage'],
    ['user not a string', base({ user: 1 }), 'user'],
    ['deprecated functions', base({ functions: [] }), 'functions'],
    ['unknown field', base({ tempurature: 1 }), 'tempurature'],
  ];

  it.each(cases)('%s', (_name, body, param) => {
    const error = rejection(() => openaiWire.decodeChat(body));
    expect(error.code).toBe('invalid_request');
    expect(error.status).toBe(400);
    expect(error.param).toBe(param);
  });
});

describe('openai wire decodeEmbeddings', () => {
  it('decodes string and array inputs with float as default', () => {
    expect(openaiWire.decodeEmbeddings({ model: 'e', input: 'x' })).toEqual({ model: 'e', input: ['x'], encodingFormat: 'float' });
    expect(openaiWire.decodeEmbeddings({ model: 'e', input: ['a', 'b'], encoding_format: 'base64', dimensions: 8, user: 'u' })).toEqual({
      model: 'e',
      input: ['a', 'b'],
      encodingFormat: 'base64',
      dimensions: 8,
      endUser: 'u',
    });
  });

  const cases: Array<[string, unknown, string]> = [
    ['missing model', { input: 'x' }, 'model'],
    ['missing input', { model: 'e' }, 'input'],
    ['empty input', { model: 'e', input: '' }, 'input'],
    ['token array', { model: 'e', input: [1, 2, 3] }, 'input'],
    ['array of token arrays', { model: 'e', input: [[1, 2]] }, 'input'],
    ['non-string item', { model: 'e', input: ['a', {}] }, 'input[1]'],
    ['empty item', { model: 'e', input: ['a', ''] }, 'input[1]'],
    ['bad encoding_format', { model: 'e', input: 'x', encoding_format: 'int8' }, 'encoding_format'],
    ['bad dimensions', { model: 'e', input: 'x', dimensions: -1 }, 'dimensions'],
    ['unknown field', { model: 'e', input: 'x', foo: 1 }, 'foo'],
  ];
  it.each(cases)('rejects %s', (_name, body, param) => {
    const error = rejection(() => openaiWire.decodeEmbeddings(body));
    expect(error.code).toBe('invalid_request');
    expect(error.param).toBe(param);
  });
});
