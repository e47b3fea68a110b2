/**
 * A mock of the OpenAI API (`/v1/chat/completions`, `/v1/embeddings`) that speaks
 * it as api.openai.com does: `Authorization: Bearer` auth, `chat.completion`
 * objects, `chat.completion.chunk` SSE with tool-call deltas and `data: [DONE]`,
 * and the usage chunk (`choices: []`) ONLY when the request asked for
 * `stream_options.include_usage` (every earlier chunk then carries `usage: null`).
 * Embeddings answer floats, or base64 little-endian float32 when asked.
 *
 * The model's answer: when tools are offered and the last message is the user's,
 * it calls the first tool (or the one `tool_choice` names) with every schema
 * property set to "Paris"; otherwise it says DEFAULT_WORDS, cut at max tokens.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { argumentPieces, DEFAULT_WORDS, MockUpstream, roughTokens, type MockAnswer, type MockDialect } from './mockUpstream.js';

type Json = Record<string, unknown>;

export interface MockOpenAI extends MockUpstream {
  /** The base URL a provider config uses: `<origin>/v1`. */
  readonly baseUrl: string;
}

export async function startMockOpenAI(apiKey = 'sk-mock-openai-provider-key-0123456789'): Promise<MockOpenAI> {
  const mock = await new MockUpstream(new OpenAIDialect(), apiKey).listen();
  return Object.defineProperty(mock, 'baseUrl', { get: () => `${mock.origin}/v1` }) as MockOpenAI;
}

const ERROR_TYPES: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
  500: { type: 'server_error', code: null },
  503: { type: 'server_error', code: 'overloaded' },
};

class OpenAIDialect implements MockDialect {
  private sequence = 0;
  private requestIds = 0;

  operation(path: string): 'chat' | 'embeddings' | undefined {
    if (path === '/v1/chat/completions') return 'chat';
    if (path === '/v1/embeddings') return 'embeddings';
    return undefined;
  }

  checkRequest(headers: IncomingHttpHeaders, apiKey: string) {
    if (headers.authorization === `Bearer ${apiKey}`) return undefined;
    return { status: 401, body: this.errorBody(401, 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.') };
  }

  errorBody(status: number, message: string): unknown {
    const known = ERROR_TYPES[status] ?? { type: status >= 500 ? 'server_error' : 'invalid_request_error', code: null };
    return { error: { message, type: known.type, param: null, code: known.code } };
  }

  responseHeaders(): Record<string, string> {
    return { 'x-request-id': `req_mock_${++this.requestIds}`, 'openai-processing-ms': '12' };
  }

  answerFor(body: Json): MockAnswer {
    const id = `chatcmpl-mock${++this.sequence}`;
    const model = String(body.model);
    const inputTokens = roughTokens(body.messages);
    const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
    const tool = toolToCall(body, messages.at(-1)?.role === 'user');
    if (tool) {
      const args = JSON.stringify(Object.fromEntries(Object.keys(propertiesOf(tool.parameters)).map((name) => [name, 'Paris'])));
      const call = { id: `call_mock${this.sequence}`, name: tool.name, arguments: args };
      return { id, model, words: [], toolCalls: [call], finish: 'tool_calls', inputTokens, outputTokens: argumentPieces(args).length + 1, cachedInputTokens: 0 };
    }
    const limit = Number(body.max_completion_tokens ?? body.max_tokens ?? Infinity);
    const words = DEFAULT_WORDS.slice(0, limit);
    return { id, model, words, toolCalls: [], finish: words.length < DEFAULT_WORDS.length ? 'length' : 'stop', inputTokens, outputTokens: words.length, cachedInputTokens: 0 };
  }

  chatBody(_body: Json, answer: MockAnswer): unknown {
    const text = textOf(answer);
    const message: Json = { role: 'assistant', content: text.length > 0 ? text : null, refusal: null, annotations: [] };
    if (answer.toolCalls.length > 0) {
      message.tool_calls = answer.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
    }
    return {
      id: answer.id,
      object: 'chat.completion',
      created: 1_750_000_000,
      model: answer.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: answer.finish }],
      ...(answer.omitUsage ? {} : { usage: usageOf(answer) }),
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
    };
  }

  streamFrames(body: Json, answer: MockAnswer): string[] {
    const options = body.stream_options as Json | undefined;
    const includeUsage = options?.include_usage === true && !answer.omitUsage;
    const chunk = (choices: Json[], usage?: Json): string => {
      const out: Json = { id: answer.id, object: 'chat.completion.chunk', created: 1_750_000_000, model: answer.model, service_tier: 'default', system_fingerprint: 'fp_mock', choices };
      if (includeUsage) out.usage = usage ?? null;
      return `data: ${JSON.stringify(out)}\n\n`;
    };
    const delta = (value: Json, finish: string | null = null): Json[] => [{ index: 0, delta: value, logprobs: null, finish_reason: finish }];
    const frames = [chunk(delta({ role: 'assistant', content: '', refusal: null }))];
    answer.words.forEach((word, i) => frames.push(chunk(delta({ content: i === 0 ? word : ` ${word}` }))));
    answer.toolCalls.forEach((call, index) => {
      frames.push(chunk(delta({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] })));
      for (const piece of argumentPieces(call.arguments)) frames.push(chunk(delta({ tool_calls: [{ index, function: { arguments: piece } }] })));
    });
    frames.push(chunk(delta({}, answer.finish)));
    if (includeUsage) frames.push(chunk([], usageOf(answer)));
    frames.push('data: [DONE]\n\n');
    return frames;
  }

  embeddingsBody(body: Json): unknown {
    const inputs = typeof body.input === 'string' ? [body.input] : (body.input as string[]);
    const dimensions = typeof body.dimensions === 'number' ? body.dimensions : 8;
    const base64 = body.encoding_format === 'base64';
    const data = inputs.map((input, index) => {
      const vector = vectorOf(input, dimensions);
      const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    const tokens = inputs.reduce((sum, input) => sum + roughTokens(input), 0);
    return { object: 'list', data, model: String(body.model), usage: { prompt_tokens: tokens, total_tokens: tokens } };
  }
}

function toolToCall(body: Json, userSpokeLast: boolean): { name: string; parameters: unknown } | undefined {
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  if (tools.length === 0 || !userSpokeLast || body.tool_choice === 'none') return undefined;
  const functions = tools.map((tool) => tool.function as { name: string; parameters: unknown });
  const choice = body.tool_choice as Json | undefined;
  const wanted = typeof choice === 'object' && choice !== null ? (choice.function as Json | undefined)?.name : undefined;
  return functions.find((fn) => fn.name === wanted) ?? functions[0];
}

function propertiesOf(schema: unknown): Json {
  const properties = (schema as Json | undefined)?.properties;
  return typeof properties === 'object' && properties !== null ? (properties as Json) : {};
}

function textOf(answer: MockAnswer): string {
  return answer.words.join(' ');
}

function usageOf(answer: MockAnswer): Json {
  return {
    prompt_tokens: answer.inputTokens,
    completion_tokens: answer.outputTokens,
    total_tokens: answer.inputTokens + answer.outputTokens,
    prompt_tokens_details: { cached_tokens: answer.cachedInputTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** A deterministic unit-range vector for a text (float32-exact values). */
export function vectorOf(input: string, dimensions: number): number[] {
  let seed = 7;
  for (let i = 0; i < input.length; i++) seed = (Math.imul(seed, 31) + input.charCodeAt(i)) >>> 0;
  const vector: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    vector.push(Math.fround((seed % 2000) / 1000 - 1));
  }
  return vector;
}

/** A gateway provider config pointing at the mock (`openai`, or `openai-compatible` for any base URL). */
export function openaiProviderConfig(mock: MockOpenAI, type: 'openai' | 'openai-compatible' = 'openai') {
  return { type, baseUrl: mock.baseUrl, apiKey: mock.apiKey } as const;
}
