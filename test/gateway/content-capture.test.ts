/**
 * Message content on spans: off by default (no gen_ai.input/output messages, no
 * tool-call arguments), recorded in the GenAI conventions' shape when the config
 * opts in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiClient, spanOf, startTestGateway, type TestGateway } from '../support/gateway.js';
import { openaiProviderConfig, startMockOpenAI, type MockOpenAI } from '../support/mockOpenAI.js';
import { DEFAULT_WORDS } from '../support/mockUpstream.js';

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const CONTENT_ATTRIBUTES = ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.system_instructions'];

describe('content capture', () => {
  let upstream: MockOpenAI;
  let plain: TestGateway;
  let capturing: TestGateway;
  beforeAll(async () => {
    upstream = await startMockOpenAI();
    const config = {
      providers: { openai: openaiProviderConfig(upstream) },
      models: { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
    };
    [plain, capturing] = await Promise.all([startTestGateway(config), startTestGateway({ ...config, telemetry: { captureContent: true } })]);
  });
  afterAll(async () => {
    await Promise.all([plain.stop(), capturing.stop()]);
    await upstream.stop();
  });

  const ask = async (gw: TestGateway, tools: boolean) => {
    const { response } = await openaiClient(gw)
      .chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'system', content: 'secret system prompt' }, { role: 'user', content: 'my private question' }],
        ...(tools ? { tools: [weatherTool] } : {}),
      })
      .withResponse();
    return spanOf(gw, response.headers.get('x-request-id'));
  };

  it('records no message content by default', async () => {
    for (const tools of [false, true]) {
      const span = await ask(plain, tools);
      for (const name of CONTENT_ATTRIBUTES) expect(span.attributes[name]).toBeUndefined();
      const serialized = JSON.stringify({ attributes: span.attributes, events: span.events });
      expect(serialized).not.toContain('my private question');
      expect(serialized).not.toContain('secret system prompt');
      expect(serialized).not.toContain(DEFAULT_WORDS.join(' '));
      expect(serialized).not.toContain('Paris');
    }
    const span = plain.requestSpans().at(-1)!;
    expect(JSON.parse(String(span.attributes['gatehouse.tool_calls']))).toEqual([{ id: expect.any(String), name: 'get_weather' }]);
  });

  it('records prompts, answers and tool-call arguments when the config opts in', async () => {
    const text = await ask(capturing, false);
    expect(JSON.parse(String(text.attributes['gen_ai.system_instructions']))).toEqual([{ type: 'text', content: 'secret system prompt' }]);
    expect(JSON.parse(String(text.attributes['gen_ai.input.messages']))).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'my private question' }] }]);
    expect(JSON.parse(String(text.attributes['gen_ai.output.messages']))).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: DEFAULT_WORDS.join(' ') }], finish_reason: 'stop' },
    ]);
    const tool = await ask(capturing, true);
    const output = JSON.parse(String(tool.attributes['gen_ai.output.messages'])) as Array<{ parts: unknown[] }>;
    expect(output[0]?.parts).toEqual([{ type: 'tool_call', id: expect.any(String), name: 'get_weather', arguments: '{"city":"Paris"}' }]);
  });
});
