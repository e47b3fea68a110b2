import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedGateway, type TestGateway } from '../support/gateway.js';

describe('gateway with the simulated provider', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startSimulatedGateway();
  });
  afterAll(() => gw.stop());

  it('answers an OpenAI chat completion and records the request span', async () => {
    const client = new OpenAI({ apiKey: gw.keys['k-acme'], baseURL: `${gw.url}/v1` });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
    expect(completion.choices[0]?.message.content).toMatch(/^the quick brown/);
    expect(completion.usage?.completion_tokens).toBe(12);
    const span = gw.requestSpans().at(-1)!;
    expect(span.attributes['gatehouse.tenant.id']).toBe('acme');
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(12);
  });

  it('streams an Anthropic message', async () => {
    const client = new Anthropic({ apiKey: gw.keys['k-acme'], baseURL: gw.url });
    const message = await client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect(message.usage.output_tokens).toBe(12);
  });
});
