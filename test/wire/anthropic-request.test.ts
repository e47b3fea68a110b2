import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../proxy/errors.js';
import { anthropicWire } from '../../proxy/wire/anthropic/index.js';

const base = { model: 'claude-x', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

function rejection(body: unknown): GatehouseError {
  try {
    anthropicWire.decodeChat(body);
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError);
    return error as GatehouseError;
  }
  throw new Error('expected decodeChat to throw');
}

describe('anthropic wire: decodeChat validation', () => {
  const cases: Array<[string, unknown, string]> = [
    ['body not an object', [], 'body'],
    ['model missing', { ...base, model: undefined }, 'model'],
    ['model not a string', { ...base, model: 7 }, 'model'],
    ['max_tokens missing', { ...base, max_tokens: undefined }, 'max_tokens'],
    ['max_tokens zero', { ...base, max_tokens: 0 }, 'max_tokens'],
    ['max_tokens fractional', { ...base, max_tokens: 1.5 }, 'max_tokens'],
    ['messages missing', { ...base, messages: undefined }, 'messages'],
    ['messages empty', { ...base, messages: [] }, 'messages'],
    ['bad role', { ...base, messages: [{ role: 'system', content: 'x' }] }, 'messages[0].role'],
    ['content not string or array', { ...base, messages: [{ role: 'user', content: 3 }] }, 'messages[0].content'],
    [
      'unknown block type',
      { ...base, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] },
      'messages[0].content[0].type',
    ],
    [
      'text block without text',
      { ...base, messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      'messages[0].content[0].text',
    ],
    [
      'image with bad media type',
      {
        ...base,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'AA' } }] }],
      },
      'messages[0].content[0].source.media_type',
    ],
    [
      'image with unknown source type',
      { ...base, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] },
      'messages[0].content[0].source.type',
    ],
    [
      'tool_result without tool_use_id',
      {
        ...base,
        messages: [
          { role: 'user', content: 'q' },
          { role: 'user', content: [{ type: 'tool_result', content: 'r' }] },
        ],
      },
      'messages[1].content[0].tool_use_id',
    ],
    [
      'tool_result with bad is_error',
      { ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', is_error: 'yes' }] }] },
      'messages[0].content[0].is_error',
    ],
    [
      'tool_result with a document block',
      {
        ...base,
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'document' }] }] }],
      },
      'messages[0].content[0].content[0].type',
    ],
    [
      'tool_use in a user message',
      { ...base, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'f', input: {} }] }] },
      'messages[0].content[0].type',
    ],
    [
      'tool_use input not an object',
      { ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'f', input: '{}' }] }] },
      'messages[0].content[0].input',
    ],
    ['system not text blocks', { ...base, system: [{ type: 'image' }] }, 'system[0].type'],
    ['tool without input_schema', { ...base, tools: [{ name: 'f' }] }, 'tools[0].input_schema'],
    ['server tool', { ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0].type'],
    ['tool_choice bad type', { ...base, tool_choice: { type: 'sometimes' } }, 'tool_choice.type'],
    ['tool_choice tool without name', { ...base, tool_choice: { type: 'tool' } }, 'tool_choice.name'],
    [
      'disable_parallel_tool_use not boolean',
      { ...base, tool_choice: { type: 'auto', disable_parallel_tool_use: 1 } },
      'tool_choice.disable_parallel_tool_use',
    ],
    ['temperature above 1', { ...base, temperature: 1.5 }, 'temperature'],
    ['top_p not a number', { ...base, top_p: 'high' }, 'top_p'],
    ['stop_sequences item not a string', { ...base, stop_sequences: ['a', 2] }, 'stop_sequences[1]'],
    ['stream not boolean', { ...base, stream: 'true' }, 'stream'],
    ['metadata.user_id not a string', { ...base, metadata: { user_id: 5 } }, 'metadata.user_id'],
  ];

  it.each(cases)('%s → invalid_request naming the field', (_name, body, param) => {
    const error = rejection(body);
    expect(error.code).toBe('invalid_request');
    expect(error.status).toBe(400);
    expect(error.param).toBe(param);
  });
});

describe('anthropic wire: decodeChat mapping', () => {
  it('maps the top-level fields', () => {
    const request = anthropicWire.decodeChat({
      ...base,
      system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }],
      temperature: 0.2,
      top_p: 0.9,
      stop_sequences: ['END'],
      stream: true,
      metadata: { user_id: 'u-1' },
    });
    expect(request.model).toBe('claude-x');
    expect(request.maxTokens).toBe(64);
    expect(request.stream).toBe(true);
    expect(request.streamUsage).toBe(false);
    expect(request.temperature).toBe(0.2);
    expect(request.topP).toBe(0.9);
    expect(request.stop).toEqual(['END']);
    expect(request.endUser).toBe('u-1');
    expect(request.extra).toBeUndefined();
    expect(request.messages).toEqual([
      { role: 'system', content: [{ type: 'text', text: 'be brief' }] },
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    ]);
  });

  it('keeps fields without a canonical home in extra, only when present', () => {
    const request = anthropicWire.decodeChat({ ...base, top_k: 5, thinking: { type: 'enabled', budget_tokens: 1024 } });
    expect(request.extra).toEqual({ wire: 'anthropic', fields: { top_k: 5, thinking: { type: 'enabled', budget_tokens: 1024 } } });
  });

  it('splits tool_result blocks into tool messages before the remaining user content', () => {
    const request = anthropicWire.decodeChat({
      ...base,
      messages: [
        { role: 'user', content: 'weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 's' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'tu_1', name: 'weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'tu_2', name: 'weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'tu_1', content: '18C' },
            { type: 'text', text: 'and be quick' },
            {
              type: 'tool_result',
              tool_use_id: 'tu_2',
              is_error: true,
              content: [{ type: 'text', text: 'timeout' }],
            },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
          ],
        },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [{ type: 'text', text: 'Checking.' }],
        toolCalls: [
          { id: 'tu_1', name: 'weather', arguments: '{"city":"Paris"}' },
          { id: 'tu_2', name: 'weather', arguments: '{"city":"Rome"}' },
        ],
      },
      { role: 'tool', toolCallId: 'tu_1', content: [{ type: 'text', text: '18C' }] },
      { role: 'tool', toolCallId: 'tu_2', content: [{ type: 'text', text: 'timeout' }], isError: true },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'and be quick' },
          { type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } },
        ],
      },
    ]);
  });

  it('maps base64 images, tools and tool_choice', () => {
    const request = anthropicWire.decodeChat({
      ...base,
      messages: [
        {
          role: 'user',
          content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0K' } }],
        },
      ],
      tools: [
        { name: 'weather', description: 'current weather', input_schema: { type: 'object', properties: {} } },
        { type: 'custom', name: 'clock', input_schema: { type: 'object' } },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    expect(request.messages[0]).toEqual({
      role: 'user',
      content: [{ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0K' } }],
    });
    expect(request.tools).toEqual([
      { name: 'weather', description: 'current weather', parameters: { type: 'object', properties: {} } },
      { name: 'clock', parameters: { type: 'object' } },
    ]);
    expect(request.toolChoice).toBe('required');
    expect(request.parallelToolCalls).toBe(false);
  });

  it.each([
    [{ type: 'auto' }, 'auto'],
    [{ type: 'none' }, 'none'],
    [{ type: 'tool', name: 'weather' }, { name: 'weather' }],
  ])('maps tool_choice %j', (choice, expected) => {
    const request = anthropicWire.decodeChat({ ...base, tool_choice: choice });
    expect(request.toolChoice).toEqual(expected);
    expect(request.parallelToolCalls).toBeUndefined();
  });
});
