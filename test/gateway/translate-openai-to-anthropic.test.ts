/**
 * An OpenAI client routed to an Anthropic upstream: the translation of system
 * prompts, multi-part content, tools and tool results, stop reasons and usage,
 * both whole and streamed (including streamed tool calls).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiClient, spanOf, startTestGateway, type TestGateway } from '../support/gateway.js';
import { anthropicProviderConfig, startMockAnthropic, type MockAnthropic } from '../support/mockAnthropic.js';
import { DEFAULT_WORDS } from '../support/mockUpstream.js';

const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('OpenAI client → Anthropic upstream', () => {
  let upstream: MockAnthropic;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await startMockAnthropic();
    gw = await startTestGateway({
      providers: { anthropic: anthropicProviderConfig(upstream) },
      models: { smart: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] } },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.reset();
  });

  it('moves system and developer messages to `system` and translates multi-part content', async () => {
    await openaiClient(gw).chat.completions.create({
      model: 'smart',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: 'Answer in English.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PIXEL}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
          ],
        },
      ],
    });
    const sent = upstream.last().body;
    expect(sent.system).toEqual([
      { type: 'text', text: 'You are terse.' },
      { type: 'text', text: 'Answer in English.' },
    ]);
    expect(sent.max_tokens).toBe(4096);
    expect(sent.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this picture?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PIXEL } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
        ],
      },
    ]);
  });

  it('maps max_tokens to finish_reason length, and usage with cache reads to prompt_tokens', async () => {
    upstream.answerWith({ inputTokens: 40, cachedInputTokens: 15 });
    const completion = await openaiClient(gw).chat.completions.create({ model: 'smart', max_tokens: 3, messages: [{ role: 'user', content: 'count' }] });
    expect(upstream.last().body.max_tokens).toBe(3);
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_WORDS.slice(0, 3).join(' '));
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 3, total_tokens: 43, prompt_tokens_details: { cached_tokens: 15 } });
  });

  it('translates tools, tool_choice, the tool call and the tool result sent back', async () => {
    const client = openaiClient(gw);
    const first = await client.chat.completions.create({ model: 'smart', tools: [weatherTool], tool_choice: 'required', messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    expect(upstream.last().body).toMatchObject({
      tools: [{ name: 'get_weather', description: 'Weather in a city', input_schema: weatherTool.function.parameters }],
      tool_choice: { type: 'any' },
    });
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    const call = first.choices[0]?.message.tool_calls?.[0];
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.id).toMatch(/^toolu_mock/);
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });

    const second = await client.chat.completions.create({
      model: 'smart',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'sunny, 21C' },
      ],
    });
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expect(upstream.last().body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: call.id, name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny, 21C' }] },
    ]);
  });

  it('streams text with the usage chunk built from message_delta when asked', async () => {
    upstream.answerWith({ inputTokens: 20 });
    const stream = await openaiClient(gw).chat.completions.create({ model: 'smart', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe(DEFAULT_WORDS.join(' '));
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: DEFAULT_WORDS.length });
  });

  it('streams a tool call as OpenAI tool-call deltas', async () => {
    const { data: stream, response } = await openaiClient(gw)
      .chat.completions.create({ model: 'smart', stream: true, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather?' }] })
      .withResponse();
    let args = '';
    let name: string | undefined;
    let id: string | undefined;
    let finish: string | null | undefined;
    let usageChunks = 0;
    for await (const chunk of stream) {
      if (chunk.usage || chunk.choices.length === 0) usageChunks++;
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        id ??= call.id;
        name ??= call.function?.name;
        args += call.function?.arguments ?? '';
      }
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(id).toMatch(/^toolu_mock/);
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(finish).toBe('tool_calls');
    expect(usageChunks).toBe(0);
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'gatehouse.client.wire': 'openai', 'gatehouse.usage.estimated': false, 'gatehouse.tool_calls.count': 1 });
  });
});
