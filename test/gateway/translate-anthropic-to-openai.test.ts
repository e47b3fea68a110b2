/**
 * An Anthropic client routed to an OpenAI upstream: the translation of system
 * prompts, multi-part content, tools and tool results, stop reasons and usage,
 * both whole and streamed (including streamed tool calls).
 */
import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicClient, spanOf, startTestGateway, type TestGateway } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';
import { DEFAULT_WORDS } from '../support/mockUpstream.js';

const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('Anthropic client → OpenAI upstream', () => {
  let upstream: MockOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await startMockOpenAI();
    gw = await startTestGateway({
      providers: { openai: openaiProviderConfig(upstream) },
      models: { fast: { targets: [{ provider: 'openai', model: 'gpt-4.1-mini' }] } },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.reset();
  });

  it('sends the system prompt first and translates multi-part content', async () => {
    await anthropicClient(gw).messages.create({
      model: 'fast',
      max_tokens: 100,
      system: [
        { type: 'text', text: 'You are terse.' },
        { type: 'text', text: 'Answer in English.' },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PIXEL } },
          ],
        },
      ],
      stop_sequences: ['END'],
      metadata: { user_id: 'end-user-7' },
    });
    const sent = upstream.last().body;
    expect(sent).toMatchObject({ model: 'gpt-4.1-mini', max_completion_tokens: 100, stop: ['END'], user: 'end-user-7' });
    expect(sent.messages).toEqual([
      {
        role: 'system',
        content: [
          { type: 'text', text: 'You are terse.' },
          { type: 'text', text: 'Answer in English.' },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PIXEL}` } },
        ],
      },
    ]);
  });

  it('maps finish_reason length to max_tokens, and cached prompt tokens to cache_read_input_tokens', async () => {
    upstream.answerWith({ inputTokens: 40, cachedInputTokens: 15 });
    const message = await anthropicClient(gw).messages.create({ model: 'fast', max_tokens: 3, messages: [{ role: 'user', content: 'count' }] });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.content).toMatchObject([{ type: 'text', text: DEFAULT_WORDS.slice(0, 3).join(' ') }]);
    expect(message.usage).toMatchObject({ input_tokens: 25, cache_read_input_tokens: 15, output_tokens: 3 });
  });

  it('translates tools, tool_choice, the tool call and the tool_result sent back', async () => {
    const client = anthropicClient(gw);
    const first = await client.messages.create({
      model: 'fast',
      max_tokens: 100,
      tools: [weatherTool],
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    expect(upstream.last().body).toMatchObject({
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: weatherTool.input_schema } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(first.stop_reason).toBe('tool_use');
    const toolUse = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(toolUse).toMatchObject({ id: expect.stringMatching(/^call_mock/), name: 'get_weather', input: { city: 'Paris' } });

    const second = await client.messages.create({
      model: 'fast',
      max_tokens: 100,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse!.id, content: 'sunny, 21C' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(upstream.last().body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: toolUse!.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: toolUse!.id, content: 'sunny, 21C' },
    ]);
  });

  it('streams text with usage in message_delta, taken from the include_usage chunk it asked for', async () => {
    upstream.answerWith({ inputTokens: 20 });
    const message = await anthropicClient(gw).messages.stream({ model: 'fast', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    expect(upstream.last().body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(message.content[0]).toMatchObject({ type: 'text', text: DEFAULT_WORDS.join(' ') });
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: DEFAULT_WORDS.length });
  });

  it('streams a tool call as tool_use with input_json_delta', async () => {
    const stream = anthropicClient(gw).messages.stream({ model: 'fast', max_tokens: 100, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather?' }] });
    let jsonDeltas = 0;
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') jsonDeltas++;
    });
    const message = await stream.finalMessage();
    expect(jsonDeltas).toBeGreaterThan(1);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([{ type: 'tool_use', id: expect.stringMatching(/^call_mock/), name: 'get_weather', input: { city: 'Paris' } }]);
    const requestId = (await stream.withResponse()).response.headers.get('x-request-id');
    const span = await spanOf(gw, requestId);
    expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gatehouse.client.wire': 'anthropic', 'gatehouse.usage.estimated': false, 'gatehouse.tool_calls.count': 1 });
  });
});
