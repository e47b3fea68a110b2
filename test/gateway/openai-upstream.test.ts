/**
 * The OpenAI SDK through the gateway to an OpenAI upstream: chat, stream, tools
 * (and tool results sent back), embeddings, the model list, and what the gateway
 * sends upstream (provider key as Bearer, never the virtual key, include_usage).
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicClient, openaiClient, spanOf, startTestGateway, type TestGateway } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, vectorOf, type MockOpenAI } from '../support/mockOpenAI.js';
import { DEFAULT_WORDS } from '../support/mockUpstream.js';

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('OpenAI client → OpenAI upstream', () => {
  let upstream: MockOpenAI;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await startMockOpenAI();
    gw = await startTestGateway({
      providers: { openai: openaiProviderConfig(upstream) },
      models: {
        'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        'text-embedding-3-small': { kind: 'embeddings', targets: [{ provider: 'openai', model: 'text-embedding-3-small' }] },
      },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.reset();
  });

  it('answers a chat completion with the upstream text and usage, sending the provider key and never the virtual key', async () => {
    const { data, response } = await openaiClient(gw)
      .chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello' }] })
      .withResponse();
    expect(response.status).toBe(200);
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.content).toBe(DEFAULT_WORDS.join(' '));
    expect(data.choices[0]?.finish_reason).toBe('stop');
    const sent = upstream.last();
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe(`Bearer ${upstream.apiKey}`);
    expect(JSON.stringify(sent.headers)).not.toContain(gw.keys['k-acme']);
    expect(sent.body).toMatchObject({ model: 'gpt-4o-mini', max_completion_tokens: 50, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello' }] });
    expect(data.usage).toMatchObject({ completion_tokens: DEFAULT_WORDS.length, prompt_tokens: expect.any(Number) });

    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.response.id': data.id,
      'gen_ai.usage.input_tokens': data.usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': data.usage?.completion_tokens,
      'gatehouse.route.target': 'openai/gpt-4o-mini',
      'gatehouse.route.attempts': 1,
      'gatehouse.outcome': 'ok',
      'gatehouse.usage.estimated': false,
      'gatehouse.cost.price_known': true,
      'http.response.status_code': 200,
    });
  });

  it('streams text; asks the upstream for usage but strips the usage chunk the client did not ask for', async () => {
    const { data: stream, response } = await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    let text = '';
    let usageChunks = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usageChunks++;
      if (chunk.choices.length === 0) usageChunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(text).toBe(DEFAULT_WORDS.join(' '));
    expect(finish).toBe('stop');
    expect(usageChunks).toBe(0);
    expect(upstream.last().body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(DEFAULT_WORDS.length);
    expect(span.attributes['gatehouse.usage.estimated']).toBe(false);
    expect(span.attributes['gen_ai.request.stream']).toBe(true);
  });

  it('passes the usage chunk to a client that asked for include_usage', async () => {
    const stream = await openaiClient(gw).chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: DEFAULT_WORDS.length, prompt_tokens: expect.any(Number) });
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
    expect(chunks.filter((chunk) => chunk.usage).length).toBe(1);
  });

  it('returns a tool call, then sends the tool result back upstream and answers', async () => {
    const client = openaiClient(gw);
    const first = await client.chat.completions.create({ model: 'gpt-4o-mini', tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    expect(upstream.last().body.tools).toEqual([weatherTool]);

    const second = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21}' },
      ],
    });
    expect(second.choices[0]?.message.content).toBe(DEFAULT_WORDS.join(' '));
    expect(upstream.last().body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: call.function.arguments } }] },
      { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21}' },
    ]);
  });

  it('streams tool-call deltas that accumulate into the whole call', async () => {
    const { data: stream, response } = await openaiClient(gw)
      .chat.completions.create({ model: 'gpt-4o-mini', stream: true, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather?' }] })
      .withResponse();
    let id: string | undefined;
    let name: string | undefined;
    let args = '';
    let deltas = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        expect(call.index).toBe(0);
        id ??= call.id;
        name ??= call.function?.name;
        args += call.function?.arguments ?? '';
        deltas++;
      }
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(deltas).toBeGreaterThan(2);
    expect(id).toMatch(/^call_mock/);
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(finish).toBe('tool_calls');
    const span = await spanOf(gw, response.headers.get('x-request-id'));
    expect(span.attributes['gatehouse.tool_calls.count']).toBe(1);
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
  });

  it('serves embeddings as base64 (the SDK default) and as floats, asking the upstream for floats', async () => {
    const client = openaiClient(gw);
    const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
    expect(upstream.last().body).toMatchObject({ encoding_format: 'float', input: ['alpha', 'beta'], model: 'text-embedding-3-small' });
    expect(decoded.data.map((d) => d.embedding)).toEqual([vectorOf('alpha', 8), vectorOf('beta', 8)]);
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'gamma', encoding_format: 'float', dimensions: 4 });
    expect(floats.data[0]?.embedding).toEqual(vectorOf('gamma', 4));
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    const span = gw.requestSpans().at(-1)!;
    expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.usage.input_tokens': floats.usage.prompt_tokens, 'gatehouse.cost.price_known': true });
  });

  it('lists the models the key may use, on both wires', async () => {
    const openaiModels = [];
    for await (const model of openaiClient(gw).models.list()) openaiModels.push(model.id);
    expect(openaiModels.sort()).toEqual(['gpt-4o-mini', 'text-embedding-3-small']);
    const anthropicModels: Anthropic.ModelInfo[] = [];
    for await (const model of anthropicClient(gw).models.list()) anthropicModels.push(model);
    expect(anthropicModels.map((m) => m.id).sort()).toEqual(['gpt-4o-mini', 'text-embedding-3-small']);
    expect(anthropicModels[0]?.type).toBe('model');
    expect(upstream.count()).toBe(0);
  });
});
