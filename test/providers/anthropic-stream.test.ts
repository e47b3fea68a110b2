import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../../proxy/canonical.js';
import { anthropicSpec } from '../../proxy/providers/anthropic.js';
import type { SseMessage } from '../../proxy/providers/spec.js';
import { UpstreamFailure } from '../../proxy/providers/types.js';
import { anthropicWire } from '../../proxy/wire/anthropic/index.js';

function sse(event: string, data: unknown): SseMessage {
  return { event, data: JSON.stringify(data) };
}

function decodeAll(messages: SseMessage[]): { events: StreamEvent[]; done: boolean } {
  const decoder = anthropicSpec.createStreamDecoder();
  const events = messages.flatMap((m) => decoder.decode(m));
  return { events, done: decoder.done };
}

function parseSse(text: string): SseMessage[] {
  const out: SseMessage[] = [];
  createParser({ onEvent: (m) => out.push({ event: m.event, data: m.data }) }).feed(text);
  return out;
}

const upstream: SseMessage[] = [
  sse('message_start', {
    type: 'message_start',
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 10, cache_read_input_tokens: 200, cache_creation_input_tokens: 30, output_tokens: 1 },
    },
  }),
  sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }),
  sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
  sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } }),
  sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
  { event: 'ping', data: '{"type":"ping"}' },
  sse('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
  sse('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Two calls.' } }),
  sse('content_block_stop', { type: 'content_block_stop', index: 1 }),
  sse('content_block_start', {
    type: 'content_block_start',
    index: 2,
    content_block: { type: 'tool_use', id: 'tu_a', name: 'weather', input: {} },
  }),
  sse('content_block_delta', { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '' } }),
  sse('content_block_delta', { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city":"Oslo"}' } }),
  sse('content_block_stop', { type: 'content_block_stop', index: 2 }),
  sse('content_block_start', {
    type: 'content_block_start',
    index: 3,
    content_block: { type: 'tool_use', id: 'tu_b', name: 'clock', input: {} },
  }),
  sse('content_block_delta', { type: 'content_block_delta', index: 3, delta: { type: 'input_json_delta', partial_json: '{}' } }),
  sse('content_block_stop', { type: 'content_block_stop', index: 3 }),
  sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 42 } }),
  sse('message_stop', { type: 'message_stop' }),
];

describe('anthropic provider: stream decoder', () => {
  it('decodes text, numbers tool calls by ordinal, ignores thinking, and totals input usage', () => {
    const { events, done } = decodeAll(upstream);
    expect(done).toBe(true);
    expect(events).toEqual([
      { type: 'start', id: 'msg_1', model: 'claude-x', created: expect.any(Number), inputTokens: 240 },
      { type: 'text', text: 'Two calls.' },
      { type: 'tool_call_start', index: 0, id: 'tu_a', name: 'weather' },
      { type: 'tool_call_delta', index: 0, arguments: '{"city":"Oslo"}' },
      { type: 'tool_call_start', index: 1, id: 'tu_b', name: 'clock' },
      { type: 'tool_call_delta', index: 1, arguments: '{}' },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'usage', usage: { inputTokens: 240, outputTokens: 42, cachedInputTokens: 200, cacheWriteTokens: 30 } },
    ]);
  });

  it('takes cumulative counters from message_delta and reports the stop sequence', () => {
    const { events } = decodeAll([
      upstream[0]!,
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: 'stop_sequence', stop_sequence: 'END' },
        usage: { output_tokens: 3, input_tokens: 12, cache_read_input_tokens: null },
      }),
    ]);
    expect(events.slice(1)).toEqual([
      { type: 'finish', reason: 'stop', stopSequence: 'END' },
      { type: 'usage', usage: { inputTokens: 242, outputTokens: 3, cachedInputTokens: 200, cacheWriteTokens: 30 } },
    ]);
  });

  it.each([
    ['overloaded_error', 'overloaded', true],
    ['rate_limit_error', 'rate_limited', true],
    ['api_error', 'server_error', true],
    ['invalid_request_error', 'bad_response', true],
  ])('turns an %s event into UpstreamFailure(%s)', (type, reason, retryable) => {
    const decoder = anthropicSpec.createStreamDecoder();
    decoder.decode(upstream[0]!);
    const message = sse('error', { type: 'error', error: { type, message: 'Overloaded' } });
    let failure: unknown;
    try {
      decoder.decode(message);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(UpstreamFailure);
    expect((failure as UpstreamFailure).reason).toBe(reason);
    expect((failure as UpstreamFailure).retryable).toBe(retryable);
  });

  it('rejects data that is not JSON as bad_response', () => {
    const decoder = anthropicSpec.createStreamDecoder();
    expect(() => decoder.decode({ event: 'message_start', data: '{oops' })).toThrow(UpstreamFailure);
  });

  it('ignores event types it does not know', () => {
    const { events, done } = decodeAll([sse('future_event', { type: 'future_event', x: 1 })]);
    expect(events).toEqual([]);
    expect(done).toBe(false);
  });

  it('survives a round trip through the client stream encoder', () => {
    const { events } = decodeAll(upstream);
    const request: ChatRequest = { model: 'claude-x', messages: [], stream: true, streamUsage: false };
    const encoder = anthropicWire.streamEncoder(request);
    const text = events.map((e) => encoder.event(e)).join('') + encoder.end();
    const again = decodeAll(parseSse(text));
    expect(again.done).toBe(true);
    expect(again.events.slice(1)).toEqual(events.slice(1));
    // message_start carries the total (canonical) input until message_delta corrects the split
    expect(again.events[0]).toMatchObject({ type: 'start', id: 'msg_1', inputTokens: 240 });
  });
});
