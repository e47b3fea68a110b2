/**
 * The Anthropic SDK through the gateway to an Anthropic upstream: messages,
 * streams, tools (tool_use, input_json_delta, tool_result sent back), and what the
 * gateway sends upstream (x-api-key with the provider key, anthropic-version,
 * never the virtual key).
 */
import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicClient, spanOf, startTestGateway, type TestGateway } from '../support/gateway.js';
import { anthropicProviderConfig, startMockAnthropic, type MockAnthropic } from '../support/mockAnthropic.js';
import { DEFAULT_WORDS } from '../support/mockUpstream.js';

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('Anthropic client → Anthropic upstream', () => {
  let upstream: MockAnthropic;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await startMockAnthropic();
    gw = await startTestGateway({
      providers: { anthropic: anthropicProviderConfig(upstream) },
      models: { 'claude-haiku-4-5': { targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] } },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.reset();
  });

  it('answers a message, sending the provider key as x-api-key and never the virtual key', async () => {
    const { data: message, response } = await anthropicClient(gw)
      .messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();
    expect(message.type).toBe('message');
    expect(message.content).toEqual([{ type: 'text', text: DEFAULT_WORDS.join(' ') }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBe(DEFAULT_WORDS.length);
    const sent = upstream.last();
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(upstream.apiKey);
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers.authorization).toBeUndefined();
    expect(JSON.stringify(sent.headers)).not.toContain(gw.keys['k-acme']);
    expect(sent.body).toMatchObject({ model: 'claude-haiku-4-5', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] });
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gatehouse.client.wire': 'anthropic',
      'gen_ai.usage.input_tokens': message.usage.input_tokens,
      'gen_ai.usage.output_tokens': message.usage.output_tokens,
      'gen_ai.response.finish_reasons': ['stop'],
      'gatehouse.outcome': 'ok',
    });
  });

  it('streams a message with the full event sequence and the final usage', async () => {
    const stream = anthropicClient(gw).messages.stream({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const message = await stream.finalMessage();
    expect(message.content).toHaveLength(1);
    expect(message.content[0]).toMatchObject({ type: 'text', text: DEFAULT_WORDS.join(' ') });
    expect(types[0]).toBe('message_start');
    expect(types.at(-2)).toBe('message_delta');
    expect(types.at(-1)).toBe('message_stop');
    expect(message.usage.output_tokens).toBe(DEFAULT_WORDS.length);
    expect(upstream.last().body.stream).toBe(true);
    const span = gw.requestSpans().at(-1)!;
    expect(span.attributes['gatehouse.usage.estimated']).toBe(false);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(DEFAULT_WORDS.length);
  });

  it('returns tool_use, then sends the tool_result back upstream', async () => {
    const client = anthropicClient(gw);
    const first = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    expect(first.stop_reason).toBe('tool_use');
    const toolUse = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(toolUse).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    expect(upstream.last().body.tools).toEqual([weatherTool]);

    const second = await client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 64,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse!.id, content: '21 degrees' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(upstream.last().body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: toolUse!.id, name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse!.id, content: '21 degrees' }] },
    ]);
  });

  it('streams tool_use with input_json_delta that the SDK assembles', async () => {
    const stream = anthropicClient(gw).messages.stream({ model: 'claude-haiku-4-5', max_tokens: 64, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather?' }] });
    let jsonDeltas = 0;
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') jsonDeltas++;
    });
    const message = await stream.finalMessage();
    expect(jsonDeltas).toBeGreaterThan(1);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([{ type: 'tool_use', id: expect.stringMatching(/^toolu_mock/), name: 'get_weather', input: { city: 'Paris' } }]);
  });
});
