import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../../proxy/canonical.js';
import { GatehouseError } from '../../proxy/errors.js';
import { anthropicWire } from '../../proxy/wire/anthropic/index.js';

interface Sse {
  event: string | undefined;
  data: Record<string, unknown>;
}

const request: ChatRequest = { model: 'claude-x', messages: [], stream: true, streamUsage: false, maxTokens: 10 };

function parse(text: string): Sse[] {
  const out: Sse[] = [];
  const parser = createParser({ onEvent: (m) => out.push({ event: m.event, data: JSON.parse(m.data) }) });
  parser.feed(text);
  return out;
}

/** Encodes events one by one, returning the SSE text written after each, then end(). */
function encode(events: StreamEvent[]): { chunks: string[]; all: Sse[] } {
  const encoder = anthropicWire.streamEncoder(request);
  const chunks = events.map((event) => encoder.event(event));
  chunks.push(encoder.end());
  return { chunks, all: parse(chunks.join('')) };
}

const start: StreamEvent = { type: 'start', id: 'msg_1', model: 'claude-x', created: 1, inputTokens: 42 };
const usage: StreamEvent = {
  type: 'usage',
  usage: { inputTokens: 42, outputTokens: 7, cachedInputTokens: 10, cacheWriteTokens: 2 },
};

describe('anthropic wire: stream encoder', () => {
  it('writes the Messages event sequence for text then tool calls', () => {
    const { all } = encode([
      start,
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
      { type: 'tool_call_start', index: 0, id: 'tu_1', name: 'weather' },
      { type: 'tool_call_delta', index: 0, arguments: '{"city":' },
      { type: 'tool_call_delta', index: 0, arguments: '"Paris"}' },
      { type: 'tool_call_start', index: 1, id: 'tu_2', name: 'clock' },
      { type: 'tool_call_delta', index: 1, arguments: '{}' },
      { type: 'finish', reason: 'tool_calls' },
      usage,
    ]);
    expect(all.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const e of all) expect(e.data.type).toBe(e.event);
    const message = all[0]!.data.message as Record<string, unknown>;
    expect(message).toMatchObject({ id: 'msg_1', model: 'claude-x', role: 'assistant', content: [] });
    expect((message.usage as Record<string, unknown>).input_tokens).toBe(42);
    expect(all[1]!.data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(all[2]!.data).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } });
    expect(all[5]!.data).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'tu_1', name: 'weather', input: {} },
    });
    expect(all[6]!.data).toEqual({
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: '{"city":' },
    });
    expect(all[9]!.data.index).toBe(2);
    expect(all[12]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 30, output_tokens: 7, cache_read_input_tokens: 10, cache_creation_input_tokens: 2 },
    });
  });

  it('holds finish until usage arrives (OpenAI upstream order)', () => {
    const { chunks, all } = encode([start, { type: 'text', text: 'x' }, { type: 'finish', reason: 'stop', stopSequence: 'END' }, usage]);
    expect(chunks[2]).toBe('');
    expect(parse(chunks[3]!).map((e) => e.event)).toEqual(['content_block_stop', 'message_delta']);
    expect(parse(chunks[4]!).map((e) => e.event)).toEqual(['message_stop']);
    const delta = all.find((e) => e.event === 'message_delta')!.data;
    expect(delta.delta).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    expect((delta.usage as Record<string, unknown>).output_tokens).toBe(7);
  });

  it('writes message_delta at finish when usage came first', () => {
    const { chunks } = encode([start, { type: 'text', text: 'x' }, usage, { type: 'finish', reason: 'length' }]);
    expect(chunks[2]).toBe('');
    const delta = parse(chunks[3]!).find((e) => e.event === 'message_delta')!.data;
    expect((delta.delta as Record<string, unknown>).stop_reason).toBe('max_tokens');
    expect(parse(chunks[4]!).map((e) => e.event)).toEqual(['message_stop']);
  });

  it('flushes a held finish without usage at end()', () => {
    const { chunks } = encode([start, { type: 'text', text: 'x' }, { type: 'finish', reason: 'stop' }]);
    expect(parse(chunks[3]!).map((e) => e.event)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
  });

  it('starts the message from the request when no start event came', () => {
    const { all } = encode([{ type: 'text', text: 'x' }]);
    expect(all[0]!.event).toBe('message_start');
    expect((all[0]!.data.message as Record<string, unknown>).model).toBe('claude-x');
    expect(all.at(-1)!.event).toBe('message_stop');
  });

  it('sends a late delta of an earlier tool call to that call’s block', () => {
    const { all } = encode([
      start,
      { type: 'tool_call_start', index: 0, id: 'a', name: 'f' },
      { type: 'tool_call_start', index: 1, id: 'b', name: 'g' },
      { type: 'tool_call_delta', index: 0, arguments: '{}' },
    ]);
    const delta = all.find((e) => e.event === 'content_block_delta')!.data;
    expect(delta.index).toBe(0);
  });

  it('renders a mid-stream failure as an error event', () => {
    const encoder = anthropicWire.streamEncoder(request);
    encoder.event(start);
    const [event] = parse(encoder.error(new GatehouseError('upstream_unavailable', 'upstream went away')));
    expect(event!.event).toBe('error');
    expect(event!.data).toMatchObject({ type: 'error', error: { type: 'overloaded_error', code: 'upstream_unavailable' } });
  });
});
