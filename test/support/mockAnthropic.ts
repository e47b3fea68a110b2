/**
 * A mock of the Anthropic Messages API (`POST /v1/messages`) as api.anthropic.com
 * speaks it: `x-api-key` + `anthropic-version` headers (401/400 otherwise),
 * `max_tokens` required, Message objects, and the full SSE event sequence:
 *
 *   message_start · ping · (content_block_start · content_block_delta* · content_block_stop)*
 *   · message_delta {stop_reason, usage} · message_stop
 *
 * with `text_delta` for text and `input_json_delta` (starting with an empty
 * `partial_json`, as Anthropic does) for tool_use blocks. Errors are
 * `{type:'error', error:{type, message}}` with a `request-id` header.
 *
 * The model's answer: when tools are offered and the last user turn is not only
 * tool results, it calls the first tool (or the one `tool_choice` names) with every
 * schema property set to "Paris"; otherwise it says DEFAULT_WORDS, cut at max_tokens.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { argumentPieces, DEFAULT_WORDS, MockUpstream, roughTokens, type MockAnswer, type MockDialect } from './mockUpstream.js';

type Json = Record<string, unknown>;

export type MockAnthropic = MockUpstream;

export function startMockAnthropic(apiKey = 'mock-anthropic-provider-key-0123456789'): Promise<MockAnthropic> {
  return new MockUpstream(new AnthropicDialect(), apiKey).listen();
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const STOP_REASONS: Record<MockAnswer['finish'], string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use' };

class AnthropicDialect implements MockDialect {
  private sequence = 0;
  private requestIds = 0;

  operation(path: string): 'chat' | undefined {
    return path === '/v1/messages' ? 'chat' : undefined;
  }

  checkRequest(headers: IncomingHttpHeaders, apiKey: string) {
    if (headers['x-api-key'] !== apiKey) return { status: 401, body: this.errorBody(401, 'invalid x-api-key') };
    if (!headers['anthropic-version']) return { status: 400, body: this.errorBody(400, 'anthropic-version: header is required') };
    return undefined;
  }

  errorBody(status: number, message: string): unknown {
    return { type: 'error', error: { type: ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message } };
  }

  responseHeaders(): Record<string, string> {
    return { 'request-id': `req_mock${++this.requestIds}`, 'anthropic-organization-id': 'org-mock' };
  }

  answerFor(body: Json): MockAnswer {
    const id = `msg_mock${++this.sequence}`;
    const model = String(body.model);
    const inputTokens = roughTokens([body.system, body.messages]);
    const tool = toolToCall(body);
    if (tool) {
      const args = JSON.stringify(Object.fromEntries(Object.keys(propertiesOf(tool.input_schema)).map((name) => [name, 'Paris'])));
      const call = { id: `toolu_mock${this.sequence}`, name: tool.name, arguments: args };
      return { id, model, words: [], toolCalls: [call], finish: 'tool_calls', inputTokens, outputTokens: argumentPieces(args).length + 1, cachedInputTokens: 0 };
    }
    const words = DEFAULT_WORDS.slice(0, Number(body.max_tokens ?? Infinity));
    return { id, model, words, toolCalls: [], finish: words.length < DEFAULT_WORDS.length ? 'length' : 'stop', inputTokens, outputTokens: words.length, cachedInputTokens: 0 };
  }

  chatBody(_body: Json, answer: MockAnswer): unknown {
    const content: Json[] = [];
    if (answer.words.length > 0) content.push({ type: 'text', text: answer.words.join(' ') });
    for (const call of answer.toolCalls) content.push({ type: 'tool_use', id: call.id, name: call.name, input: JSON.parse(call.arguments) as unknown });
    return {
      id: answer.id,
      type: 'message',
      role: 'assistant',
      model: answer.model,
      content,
      stop_reason: STOP_REASONS[answer.finish],
      stop_sequence: null,
      ...(answer.omitUsage ? {} : { usage: { ...inputUsage(answer), output_tokens: answer.outputTokens, service_tier: 'standard' } }),
    };
  }

  streamFrames(_body: Json, answer: MockAnswer): string[] {
    const frames: string[] = [];
    const event = (type: string, data: Json) => frames.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    event('message_start', {
      message: { id: answer.id, type: 'message', role: 'assistant', model: answer.model, content: [], stop_reason: null, stop_sequence: null, ...(answer.omitUsage ? {} : { usage: { ...inputUsage(answer), output_tokens: 1 } }) },
    });
    let index = 0;
    if (answer.words.length > 0) {
      event('content_block_start', { index, content_block: { type: 'text', text: '' } });
      event('ping', {});
      answer.words.forEach((word, i) => event('content_block_delta', { index, delta: { type: 'text_delta', text: i === 0 ? word : ` ${word}` } }));
      event('content_block_stop', { index });
      index++;
    } else {
      event('ping', {});
    }
    for (const call of answer.toolCalls) {
      event('content_block_start', { index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } });
      event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
      for (const piece of argumentPieces(call.arguments)) event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
      event('content_block_stop', { index });
      index++;
    }
    event('message_delta', { delta: { stop_reason: STOP_REASONS[answer.finish], stop_sequence: null }, ...(answer.omitUsage ? {} : { usage: { output_tokens: answer.outputTokens } }) });
    event('message_stop', {});
    return frames;
  }
}

function inputUsage(answer: MockAnswer): Json {
  return { input_tokens: answer.inputTokens - answer.cachedInputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: answer.cachedInputTokens };
}

function toolToCall(body: Json): { name: string; input_schema: unknown } | undefined {
  const tools = Array.isArray(body.tools) ? (body.tools as Array<{ name: string; input_schema: unknown }>) : [];
  const choice = body.tool_choice as Json | undefined;
  if (tools.length === 0 || choice?.type === 'none') return undefined;
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  const last = messages.at(-1);
  if (last?.role !== 'user') return undefined;
  const content = last.content;
  if (Array.isArray(content) && content.length > 0 && content.every((block: Json) => block.type === 'tool_result')) return undefined;
  return tools.find((tool) => choice?.type === 'tool' && tool.name === choice.name) ?? tools[0];
}

function propertiesOf(schema: unknown): Json {
  const properties = (schema as Json | undefined)?.properties;
  return typeof properties === 'object' && properties !== null ? (properties as Json) : {};
}

/** A gateway provider config pointing at the mock. */
export function anthropicProviderConfig(mock: MockAnthropic) {
  return { type: 'anthropic', baseUrl: mock.origin, apiKey: mock.apiKey } as const;
}
