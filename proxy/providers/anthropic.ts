/**
 * Anthropic Messages API as an upstream: transport (base URL, headers) plus pure
 * request/response mapping and a stream decoder, applied by the generic HTTP
 * engine. No embeddings API.
 *
 * Request mapping (canonical → Anthropic):
 * - system messages (wherever they are) → top-level `system` (a string when it is
 *   one text, else text blocks; images in system messages are dropped);
 * - tool messages → `tool_result` blocks in a user message; consecutive tool
 *   messages and a following user message share ONE user message, with the
 *   tool_result blocks first, as Anthropic requires; consecutive same-role messages
 *   are merged; empty text parts and empty assistant turns are dropped, since
 *   Anthropic rejects empty text blocks;
 * - toolChoice required → any, {name} → tool, parallelToolCalls false →
 *   `disable_parallel_tool_use`; stop → stop_sequences; endUser → metadata.user_id;
 * - temperature is clamped to Anthropic's [0, 1] (OpenAI clients may send up to 2);
 * - max_tokens, which Anthropic requires, defaults to `defaultMaxTokens` (4096);
 * - `extra.fields` are merged only when `extra.wire === 'anthropic'`.
 */
import type { ChatRequest, ChatResponse, ContentPart, Message, StreamEvent, ToolCall } from '../canonical.js';
import { finishReasonOf } from '../wire/anthropic/stopReason.js';
import { toolInputOf } from '../wire/anthropic/toolInput.js';
import { reportsUsage, usageFromAnthropic } from '../wire/anthropic/usage.js';
import type { HttpProviderSpec, SseMessage, StreamDecoder } from './spec.js';
import { UpstreamFailure, type FailureReason } from './types.js';
import { maskKeys } from './keyMask.js';

export const ANTHROPIC_VERSION = '2023-06-01';
export const DEFAULT_MAX_TOKENS = 4096;

export interface AnthropicOptions {
  /** max_tokens sent when the request sets none (Anthropic requires it). Default 4096. */
  defaultMaxTokens?: number;
}

type Json = Record<string, unknown>;
type Block = Json;
interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: Block[];
  /** How many leading blocks are tool_result blocks (they must come first). */
  toolResults: number;
}

export function createAnthropicSpec(options: AnthropicOptions = {}): HttpProviderSpec {
  const defaultMaxTokens = options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS;
  return {
    kind: 'anthropic',
    system: 'anthropic',
    defaultBaseUrl: 'https://api.anthropic.com',
    chatPath: '/v1/messages',
    embeddingsPath: undefined,
    authHeaders(apiKey): Record<string, string> {
      const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
      if (apiKey !== undefined) headers['x-api-key'] = apiKey;
      return headers;
    },
    encodeChat: (request, model) => encodeChat(request, model, defaultMaxTokens),
    decodeChat,
    createStreamDecoder: () => new AnthropicStreamDecoder(),
    errorMessage,
  };
}

export const anthropicSpec: HttpProviderSpec = createAnthropicSpec();

function encodeChat(request: ChatRequest, model: string, defaultMaxTokens: number): Json {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  const last = request.messages.length - 1;
  request.messages.forEach((message, i) => {
    if (message.role === 'system') {
      for (const part of message.content) if (part.type === 'text' && part.text.length > 0) system.push(part.text);
      return;
    }
    const role: AnthropicMessage['role'] = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks = message.role === 'tool' ? [toolResultBlock(message)] : contentBlocks(message, i === last);
    if (blocks.length === 0) return;
    const previous = messages[messages.length - 1];
    const target: AnthropicMessage = previous?.role === role ? previous : { role, content: [], toolResults: 0 };
    if (target !== previous) messages.push(target);
    if (message.role === 'tool') target.content.splice(target.toolResults++, 0, ...blocks);
    else target.content.push(...blocks);
  });

  const body: Json = request.extra?.wire === 'anthropic' ? { ...request.extra.fields } : {};
  body.model = model;
  body.max_tokens = request.maxTokens ?? defaultMaxTokens;
  if (system.length === 1) body.system = system[0];
  else if (system.length > 1) body.system = system.map((text) => ({ type: 'text', text }));
  body.messages = messages.map((m) => ({ role: m.role, content: m.content }));
  if (request.stream) body.stream = true;
  if (request.temperature !== undefined) body.temperature = Math.min(1, Math.max(0, request.temperature));
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = request.stop;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) =>
      tool.description === undefined
        ? { name: tool.name, input_schema: tool.parameters }
        : { name: tool.name, description: tool.description, input_schema: tool.parameters },
    );
    const toolChoice = encodeToolChoice(request);
    if (toolChoice) body.tool_choice = toolChoice;
  }
  if (request.endUser !== undefined) body.metadata = { user_id: request.endUser };
  return body;
}

function encodeToolChoice(request: ChatRequest): Json | undefined {
  const choice = request.toolChoice;
  if (choice === 'none') return { type: 'none' };
  const out: Json | undefined =
    choice === undefined ? undefined
    : choice === 'auto' ? { type: 'auto' }
    : choice === 'required' ? { type: 'any' }
    : { type: 'tool', name: choice.name };
  if (request.parallelToolCalls !== false) return out;
  return { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
}

function partBlocks(parts: readonly ContentPart[], out: Block[]): Block[] {
  for (const part of parts) {
    if (part.type === 'text') {
      if (part.text.length > 0) out.push({ type: 'text', text: part.text });
    } else if (part.source.kind === 'url') {
      out.push({ type: 'image', source: { type: 'url', url: part.source.url } });
    } else {
      out.push({ type: 'image', source: { type: 'base64', media_type: part.source.mediaType, data: part.source.data } });
    }
  }
  return out;
}

function contentBlocks(message: Exclude<Message, { role: 'system' | 'tool' }>, isLast: boolean): Block[] {
  const blocks = partBlocks(message.content, []);
  if (message.role === 'assistant') {
    // A final assistant turn is a prefill: Anthropic rejects trailing whitespace there.
    const tail = blocks[blocks.length - 1];
    if (isLast && tail?.type === 'text') {
      const text = (tail.text as string).trimEnd();
      if (text.length > 0) tail.text = text;
      else blocks.pop();
    }
    for (const call of message.toolCalls ?? []) {
      blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInputOf(call.arguments) });
    }
  }
  return blocks;
}

function toolResultBlock(message: Extract<Message, { role: 'tool' }>): Block {
  const block: Block = { type: 'tool_result', tool_use_id: message.toolCallId };
  const parts = message.content;
  if (parts.length === 1 && parts[0]!.type === 'text') {
    if (parts[0]!.text.length > 0) block.content = parts[0]!.text;
  } else if (parts.length > 0) {
    block.content = partBlocks(parts, []);
  }
  if (message.isError) block.is_error = true;
  return block;
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badResponse(what: string): UpstreamFailure {
  return new UpstreamFailure('bad_response', `anthropic: ${what}`);
}

function decodeChat(body: unknown): ChatResponse {
  // A Message without usage is still an answer (and was paid for): it is never retried; the pipeline counts the tokens.
  if (!isJson(body) || !Array.isArray(body.content)) {
    throw badResponse('response is not a Message');
  }
  const content: ContentPart[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of body.content) {
    if (!isJson(block)) throw badResponse('content block is not an object');
    if (block.type === 'text') {
      if (typeof block.text !== 'string') throw badResponse('text block without text');
      content.push({ type: 'text', text: block.text });
    } else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') throw badResponse('tool_use block without id or name');
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
    }
    // thinking, redacted_thinking and server-tool blocks have no canonical home
  }
  const response: ChatResponse = {
    id: typeof body.id === 'string' ? body.id : '',
    model: typeof body.model === 'string' ? body.model : '',
    created: Math.floor(Date.now() / 1000),
    content,
    toolCalls,
    finishReason: finishReasonOf(body.stop_reason),
  };
  if (reportsUsage(body.usage)) response.usage = usageFromAnthropic(body.usage);
  if (typeof body.stop_sequence === 'string') response.stopSequence = body.stop_sequence;
  return response;
}

/** Masks anything shaped like an API key, in case an upstream message echoes one. */

function errorMessage(body: unknown): string | undefined {
  if (!isJson(body)) return undefined;
  const error = body.error;
  return isJson(error) && typeof error.message === 'string' ? maskKeys(error.message) : undefined;
}

const STREAM_FAILURES: ReadonlyMap<string, FailureReason> = new Map([
  ['overloaded_error', 'overloaded'],
  ['rate_limit_error', 'rate_limited'],
  ['api_error', 'server_error'],
]);

/**
 * Decodes Anthropic's SSE events. Tool calls are numbered 0, 1, … in the order
 * their blocks start (not by content block index). Thinking blocks, pings,
 * content_block_stop and event types Anthropic may add later are ignored.
 * message_delta yields `finish` then `usage` (total input, with cache reads and
 * writes, from message_start and any later counters in message_delta).
 */
class AnthropicStreamDecoder implements StreamDecoder {
  done = false;
  /** Canonical tool-call index of each tool_use content block index. */
  private readonly toolIndexByBlock = new Map<number, number>();
  private usage: Json = {};

  decode(message: SseMessage): StreamEvent[] {
    if (message.event === 'ping') return [];
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch (cause) {
      throw new UpstreamFailure('bad_response', 'anthropic: stream event is not JSON', { cause });
    }
    if (!isJson(data)) throw badResponse('stream event is not an object');
    switch (data.type) {
      case 'content_block_delta':
        return this.delta(data);
      case 'content_block_start':
        return this.blockStart(data);
      case 'message_start':
        return this.messageStart(data);
      case 'message_delta':
        return this.messageDelta(data);
      case 'message_stop':
        this.done = true;
        return [];
      case 'error':
        throw streamError(data.error);
      default:
        return [];
    }
  }

  private delta(data: Json): StreamEvent[] {
    const delta = data.delta;
    if (!isJson(delta)) throw badResponse('content_block_delta without delta');
    if (delta.type === 'text_delta') {
      return typeof delta.text === 'string' && delta.text.length > 0 ? [{ type: 'text', text: delta.text }] : [];
    }
    if (delta.type === 'input_json_delta') {
      const index = this.toolIndexByBlock.get(data.index as number);
      const json = delta.partial_json;
      if (index === undefined || typeof json !== 'string' || json.length === 0) return [];
      return [{ type: 'tool_call_delta', index, arguments: json }];
    }
    return [];
  }

  private blockStart(data: Json): StreamEvent[] {
    const block = data.content_block;
    if (!isJson(block)) throw badResponse('content_block_start without content_block');
    if (block.type === 'text') {
      return typeof block.text === 'string' && block.text.length > 0 ? [{ type: 'text', text: block.text }] : [];
    }
    if (block.type !== 'tool_use') return [];
    if (typeof block.id !== 'string' || typeof block.name !== 'string' || typeof data.index !== 'number') {
      throw badResponse('tool_use block without id, name or index');
    }
    const index = this.toolIndexByBlock.size;
    this.toolIndexByBlock.set(data.index, index);
    return [{ type: 'tool_call_start', index, id: block.id, name: block.name }];
  }

  private messageStart(data: Json): StreamEvent[] {
    const message = data.message;
    if (!isJson(message)) throw badResponse('message_start without message');
    if (isJson(message.usage)) this.usage = { ...message.usage };
    const start: StreamEvent = {
      type: 'start',
      id: typeof message.id === 'string' ? message.id : '',
      model: typeof message.model === 'string' ? message.model : '',
      created: Math.floor(Date.now() / 1000),
    };
    if (typeof this.usage.input_tokens === 'number') start.inputTokens = usageFromAnthropic(this.usage).inputTokens;
    return [start];
  }

  private messageDelta(data: Json): StreamEvent[] {
    const delta = isJson(data.delta) ? data.delta : {};
    // message_start carries a placeholder output count; only message_delta's final count is the usage.
    const reported = isJson(data.usage) && typeof data.usage.output_tokens === 'number';
    if (isJson(data.usage)) {
      // Counters in message_delta are cumulative totals: present ones replace.
      for (const key in data.usage) if (data.usage[key] !== null) this.usage[key] = data.usage[key];
    }
    const finish: StreamEvent =
      typeof delta.stop_sequence === 'string'
        ? { type: 'finish', reason: finishReasonOf(delta.stop_reason), stopSequence: delta.stop_sequence }
        : { type: 'finish', reason: finishReasonOf(delta.stop_reason) };
    return reported && typeof this.usage.input_tokens === 'number' ? [finish, { type: 'usage', usage: usageFromAnthropic(this.usage) }] : [finish];
  }
}

function streamError(error: unknown): UpstreamFailure {
  const type = isJson(error) && typeof error.type === 'string' ? error.type : 'unknown';
  const detail = isJson(error) && typeof error.message === 'string' ? `: ${maskKeys(error.message)}` : '';
  return new UpstreamFailure(STREAM_FAILURES.get(type) ?? 'bad_response', `anthropic stream error ${type}${detail}`);
}
