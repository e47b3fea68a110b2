/**
 * The upstream OpenAI Chat Completions / Embeddings API as an HttpProviderSpec,
 * plus a factory for OpenAI-compatible servers (vLLM, Ollama, Azure OpenAI v1,
 * local mocks). Base URLs include the version prefix (`https://api.openai.com/v1`).
 * Every function is pure; only `authHeaders` sees the key, and error messages taken
 * from upstream bodies have anything that looks like a key masked.
 */
import {
  ZERO_USAGE,
  textOf,
  type ChatRequest,
  type ChatResponse,
  type ContentPart,
  type EmbeddingResponse,
  type FinishReason,
  type Message,
  type StreamEvent,
  type Usage,
} from '../canonical.js';
import type { HttpProviderSpec, SseMessage, StreamDecoder } from './spec.js';
import { UpstreamFailure, type FailureReason } from './types.js';
import { maskKeys } from './keyMask.js';

type Json = Record<string, unknown>;
type AuthStyle = 'bearer' | 'api-key';
type MaxTokensField = 'max_tokens' | 'max_completion_tokens';

export interface OpenAICompatibleOptions {
  /** `gen_ai.provider.name`; default `openai-compatible`. */
  system?: string;
  /** `bearer` (Authorization: Bearer) or `api-key` (Azure's `api-key` header); default bearer. */
  authStyle?: AuthStyle;
  /** Which field carries the output limit; default `max_tokens`, which older servers understand. */
  maxTokensField?: MaxTokensField;
}

export function openaiCompatibleSpec(options: OpenAICompatibleOptions = {}): HttpProviderSpec {
  const system = options.system ?? 'openai-compatible';
  return buildSpec('openai-compatible', system, undefined, options.authStyle ?? 'bearer', options.maxTokensField ?? 'max_tokens');
}

/** api.openai.com: `max_completion_tokens`, which reasoning models require. */
export const openaiSpec: HttpProviderSpec = buildSpec(
  'openai',
  'openai',
  'https://api.openai.com/v1',
  'bearer',
  'max_completion_tokens',
);

function buildSpec(
  kind: 'openai' | 'openai-compatible',
  system: string,
  defaultBaseUrl: string | undefined,
  authStyle: AuthStyle,
  maxTokensField: MaxTokensField,
): HttpProviderSpec {
  return {
    kind,
    system,
    defaultBaseUrl,
    chatPath: '/chat/completions',
    embeddingsPath: '/embeddings',
    authHeaders(apiKey): Record<string, string> {
      if (!apiKey) return {};
      return authStyle === 'api-key' ? { 'api-key': apiKey } : { authorization: `Bearer ${apiKey}` };
    },
    encodeChat: (request, model) => encodeChat(request, model, maxTokensField),
    decodeChat,
    createStreamDecoder: () => new OpenAIStreamDecoder(),
    encodeEmbeddings(request, model) {
      const body: Json = { model, input: request.input, encoding_format: 'float' };
      if (request.dimensions !== undefined) body.dimensions = request.dimensions;
      if (request.endUser !== undefined) body.user = request.endUser;
      return body;
    },
    decodeEmbeddings,
    errorMessage,
  };
}

// ---- request ----

function encodeChat(request: ChatRequest, model: string, maxTokensField: MaxTokensField): Json {
  const body: Json = request.extra?.wire === 'openai' ? { ...request.extra.fields } : {};
  body.model = model;
  body.messages = request.messages.map(encodeMessage);
  if (request.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  if (request.maxTokens !== undefined) body[maxTokensField] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => {
      const fn: Json = { name: tool.name };
      if (tool.description !== undefined) fn.description = tool.description;
      fn.parameters = tool.parameters;
      return { type: 'function', function: fn };
    });
    // OpenAI rejects parallel_tool_calls without tools.
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  }
  const choice = request.toolChoice;
  if (choice !== undefined) {
    body.tool_choice = typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
  }
  if (request.endUser !== undefined) body.user = request.endUser;
  return body;
}

function encodeMessage(message: Message): Json {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: encodeTextContent(message.content) };
    case 'user':
      return { role: 'user', content: encodeUserContent(message.content) };
    case 'assistant': {
      const content = textOf(message.content);
      const out: Json = { role: 'assistant', content: content.length > 0 ? content : null };
      if (message.toolCalls && message.toolCalls.length > 0) {
        out.tool_calls = message.toolCalls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        }));
      }
      return out;
    }
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: encodeTextContent(message.content) };
  }
}

/** One text part as a string, several as text parts; images are left out (these roles take none). */
function encodeTextContent(parts: readonly ContentPart[]): string | Json[] {
  if (parts.length <= 1) return textOf(parts);
  const out: Json[] = [];
  for (const part of parts) if (part.type === 'text') out.push({ type: 'text', text: part.text });
  return out;
}

function encodeUserContent(parts: readonly ContentPart[]): string | Json[] {
  if (parts.length === 0) return '';
  if (parts.length === 1 && parts[0]!.type === 'text') return parts[0]!.text;
  return parts.map((part) => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    const source = part.source;
    const url = source.kind === 'url' ? source.url : `data:${source.mediaType};base64,${source.data}`;
    return { type: 'image_url', image_url: { url } };
  });
}

// ---- response ----

function badResponse(what: string): UpstreamFailure {
  return new UpstreamFailure('bad_response', `upstream response is not a chat completion: ${what}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finishReason(value: unknown): FinishReason {
  switch (value) {
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** The usage the provider reported, or undefined when it reported no prompt and completion counts. */
/** A token count as providers report it: a non-negative safe integer. */
function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function decodeUsage(value: unknown): Usage | undefined {
  if (!isObject(value) || !isCount(value.prompt_tokens) || !isCount(value.completion_tokens)) return undefined;
  const details = value.prompt_tokens_details;
  const cached = isObject(details) && typeof details.cached_tokens === 'number' ? details.cached_tokens : 0;
  return {
    inputTokens: value.prompt_tokens,
    outputTokens: value.completion_tokens,
    cachedInputTokens: isCount(cached) ? Math.min(cached, value.prompt_tokens) : 0,
    cacheWriteTokens: 0,
  };
}

function decodeChat(body: unknown): ChatResponse {
  if (!isObject(body)) throw badResponse('body is not an object');
  const choices = body.choices;
  if (!Array.isArray(choices) || choices.length === 0 || !isObject(choices[0])) throw badResponse('no choices');
  const choice = choices[0];
  const message = choice.message;
  if (!isObject(message)) throw badResponse('choices[0].message missing');
  const rawContent = message.content;
  if (rawContent !== undefined && rawContent !== null && typeof rawContent !== 'string') {
    throw badResponse('choices[0].message.content is not a string');
  }
  // A refusal is the only text the client will get, so it is passed on as content.
  const content = typeof rawContent === 'string' ? rawContent : typeof message.refusal === 'string' ? message.refusal : '';
  const toolCalls: ChatResponse['toolCalls'] = [];
  if (message.tool_calls !== undefined && message.tool_calls !== null) {
    if (!Array.isArray(message.tool_calls)) throw badResponse('tool_calls is not an array');
    for (const call of message.tool_calls) {
      const fn = isObject(call) ? call.function : undefined;
      if (!isObject(call) || typeof call.id !== 'string' || !isObject(fn) || typeof fn.name !== 'string') {
        throw badResponse('malformed tool call');
      }
      toolCalls.push({ id: call.id, name: fn.name, arguments: typeof fn.arguments === 'string' ? fn.arguments : '' });
    }
  }
  const response: ChatResponse = {
    id: typeof body.id === 'string' ? body.id : '',
    model: typeof body.model === 'string' ? body.model : '',
    created: typeof body.created === 'number' ? body.created : Math.floor(Date.now() / 1000),
    content: content.length > 0 ? [{ type: 'text', text: content }] : [],
    toolCalls,
    finishReason: finishReason(choice.finish_reason),
  };
  const usage = decodeUsage(body.usage);
  if (usage) response.usage = usage;
  return response;
}

// ---- stream ----

/** Why an in-stream `{error:{type, code}}` ended the stream. */
function reasonForStreamError(error: Json): FailureReason {
  const type = typeof error.type === 'string' ? error.type : '';
  const code = typeof error.code === 'string' ? error.code : '';
  if (type === 'rate_limit_error' || type === 'requests' || type === 'tokens') return 'rate_limited';
  if (code === 'rate_limit_exceeded' || type === 'insufficient_quota' || code === 'insufficient_quota') return 'rate_limited';
  if (type.includes('overloaded') || code.includes('overloaded')) return 'overloaded';
  if (type.includes('timeout') || code.includes('timeout')) return 'timeout';
  if (type === 'invalid_request_error') return 'client_error';
  return 'server_error';
}

class OpenAIStreamDecoder implements StreamDecoder {
  done = false;
  private started = false;
  /** Upstream tool-call index → the id it was started with and the canonical index. */
  private readonly calls = new Map<number, { id: string; index: number }>();

  decode(message: SseMessage): StreamEvent[] {
    const data = message.data;
    if (data === '[DONE]') {
      this.done = true;
      return [];
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch (cause) {
      throw new UpstreamFailure('bad_response', 'upstream stream chunk is not JSON', { cause });
    }
    if (!isObject(chunk)) throw new UpstreamFailure('bad_response', 'upstream stream chunk is not an object');
    if (chunk.error !== undefined && chunk.error !== null) {
      const error = isObject(chunk.error) ? chunk.error : {};
      const text = typeof error.message === 'string' ? maskKeys(error.message) : 'error event';
      throw new UpstreamFailure(reasonForStreamError(error), `upstream stream error: ${text}`);
    }
    const events: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      events.push({
        type: 'start',
        id: typeof chunk.id === 'string' ? chunk.id : '',
        model: typeof chunk.model === 'string' ? chunk.model : '',
        created: typeof chunk.created === 'number' ? chunk.created : Math.floor(Date.now() / 1000),
      });
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (isObject(choice)) this.decodeChoice(choice, events);
    const usage = decodeUsage(chunk.usage);
    if (usage) events.push({ type: 'usage', usage });
    return events;
  }

  private decodeChoice(choice: Json, events: StreamEvent[]): void {
    const delta = choice.delta;
    if (isObject(delta)) {
      const content =
        typeof delta.content === 'string' ? delta.content : typeof delta.refusal === 'string' ? delta.refusal : '';
      if (content.length > 0) events.push({ type: 'text', text: content });
      if (Array.isArray(delta.tool_calls)) {
        for (let i = 0; i < delta.tool_calls.length; i++) this.decodeToolCall(delta.tool_calls[i], i, events);
      }
    }
    const reason = choice.finish_reason;
    if (typeof reason === 'string') events.push({ type: 'finish', reason: finishReason(reason) });
  }

  private decodeToolCall(value: unknown, position: number, events: StreamEvent[]): void {
    if (!isObject(value)) throw new UpstreamFailure('bad_response', 'upstream tool call delta is not an object');
    const upstreamIndex = typeof value.index === 'number' ? value.index : position;
    const fn = isObject(value.function) ? value.function : undefined;
    const id = typeof value.id === 'string' && value.id.length > 0 ? value.id : undefined;
    let call = this.calls.get(upstreamIndex);
    // A new id at a known index is a new call (some compatible servers reuse index 0).
    if (call === undefined || (id !== undefined && id !== call.id)) {
      const name = fn?.name;
      if (typeof name !== 'string' || name.length === 0) {
        throw new UpstreamFailure('bad_response', 'upstream tool call started without a function name');
      }
      call = { id: id ?? `call_${this.calls.size}`, index: this.calls.size };
      this.calls.set(upstreamIndex, call);
      events.push({ type: 'tool_call_start', index: call.index, id: call.id, name });
    }
    const args = fn?.arguments;
    if (typeof args === 'string' && args.length > 0) {
      events.push({ type: 'tool_call_delta', index: call.index, arguments: args });
    }
  }
}

// ---- embeddings and errors ----

function decodeEmbeddings(body: unknown): EmbeddingResponse {
  if (!isObject(body) || !Array.isArray(body.data)) {
    throw new UpstreamFailure('bad_response', 'upstream response is not an embedding list');
  }
  const vectors: number[][] = new Array(body.data.length);
  for (let i = 0; i < body.data.length; i++) {
    const item: unknown = body.data[i];
    if (!isObject(item) || !Array.isArray(item.embedding)) {
      throw new UpstreamFailure('bad_response', 'upstream embedding is not a float array');
    }
    const at = typeof item.index === 'number' && item.index >= 0 && item.index < vectors.length ? item.index : i;
    vectors[at] = item.embedding as number[];
  }
  for (let i = 0; i < vectors.length; i++) {
    if (vectors[i] === undefined) throw new UpstreamFailure('bad_response', 'upstream embedding indexes are not 0..n-1');
  }
  const model = typeof body.model === 'string' ? body.model : '';
  return isObject(body.usage) && isCount(body.usage.prompt_tokens) ? { model, vectors, usage: { inputTokens: body.usage.prompt_tokens } } : { model, vectors };
}

/** Masks anything shaped like an API key (OpenAI echoes part of a wrong key in its 401 message). */

function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.length > 0 ? maskKeys(body.slice(0, 500)) : undefined;
  if (!isObject(body)) return undefined;
  const error = body.error;
  if (isObject(error) && typeof error.message === 'string') return maskKeys(error.message);
  if (typeof error === 'string') return maskKeys(error);
  if (typeof body.message === 'string') return maskKeys(body.message);
  return undefined;
}
