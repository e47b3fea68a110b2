import { describe, expect, it } from 'vitest';
import type { ChatResponse } from '../../proxy/canonical.js';
import { GatehouseError } from '../../proxy/errors.js';
import { anthropicWire } from '../../proxy/wire/anthropic/index.js';

const response: ChatResponse = {
  id: 'msg_1',
  model: 'claude-x',
  created: 1_700_000_000,
  content: [{ type: 'text', text: 'Let me check.' }],
  toolCalls: [
    { id: 'tu_1', name: 'weather', arguments: '{"city":"Paris"}' },
    { id: 'tu_2', name: 'weather', arguments: '{"city":' },
  ],
  finishReason: 'tool_calls',
  usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 60, cacheWriteTokens: 30 },
};

describe('anthropic wire: encodeChat', () => {
  it('renders a Message with text then tool_use blocks and Anthropic usage', () => {
    const body = anthropicWire.encodeChat(response) as Record<string, unknown>;
    expect(body).toMatchObject({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x' });
    expect(body.content).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'tu_1', name: 'weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'tu_2', name: 'weather', input: {} },
    ]);
    expect(body.stop_reason).toBe('tool_use');
    expect(body.stop_sequence).toBeNull();
    // input_tokens excludes cache reads and writes: 100 - 60 - 30
    expect(body.usage).toEqual({
      input_tokens: 10,
      output_tokens: 20,
      cache_read_input_tokens: 60,
      cache_creation_input_tokens: 30,
    });
  });

  it.each([
    ['stop', undefined, 'end_turn', null],
    ['stop', 'END', 'stop_sequence', 'END'],
    ['length', undefined, 'max_tokens', null],
    ['content_filter', undefined, 'refusal', null],
    ['error', undefined, 'end_turn', null],
  ] as const)('maps finish %s (stop sequence %s) to %s', (finishReason, stopSequence, stopReason, sequence) => {
    const body = anthropicWire.encodeChat({
      ...response,
      toolCalls: [],
      finishReason,
      ...(stopSequence ? { stopSequence } : {}),
    }) as Record<string, unknown>;
    expect(body.stop_reason).toBe(stopReason);
    expect(body.stop_sequence).toBe(sequence);
  });
});

describe('anthropic wire: renderModels', () => {
  it('renders the model list page', () => {
    const page = anthropicWire.renderModels([
      { id: 'claude-a', created: 1_700_000_000, ownedBy: 'anthropic' },
      { id: 'gpt-b', created: 1_710_000_000, ownedBy: 'openai' },
    ]) as Record<string, unknown>;
    expect(page).toMatchObject({ has_more: false, first_id: 'claude-a', last_id: 'gpt-b' });
    const data = page.data as Array<Record<string, unknown>>;
    expect(data[0]).toMatchObject({ type: 'model', id: 'claude-a', display_name: 'claude-a' });
    expect(Date.parse(data[0]!.created_at as string)).toBe(1_700_000_000_000);
  });

  it('renders an empty list with null ids', () => {
    expect(anthropicWire.renderModels([])).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
  });
});

describe('anthropic wire: renderError', () => {
  it.each([
    [new GatehouseError('invalid_request', 'bad', { param: 'model' }), 400, 'invalid_request_error'],
    [new GatehouseError('invalid_api_key', 'no'), 401, 'authentication_error'],
    [new GatehouseError('policy_denied', 'no'), 403, 'permission_error'],
    [new GatehouseError('model_not_found', 'no'), 404, 'not_found_error'],
    [new GatehouseError('request_too_large', 'big'), 413, 'request_too_large'],
    [new GatehouseError('budget_exceeded', 'spent'), 429, 'rate_limit_error'],
    [new GatehouseError('upstream_unavailable', 'down'), 503, 'overloaded_error'],
    [new GatehouseError('upstream_timeout', 'slow'), 504, 'timeout_error'],
    [new GatehouseError('internal_error', 'oops'), 500, 'api_error'],
    [new GatehouseError('unsupported_media_type', 'xml'), 415, 'invalid_request_error'],
  ])('renders %s', (error, status, type) => {
    const rendered = anthropicWire.renderError(error);
    expect(rendered.status).toBe(status);
    expect(rendered.body).toEqual({
      type: 'error',
      error: { type, message: error.message, code: error.code, details: { error_code: error.code } },
    });
  });
});
