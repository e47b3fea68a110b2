/**
 * Pre-call token estimate used to reserve tokens/min and token budgets before the
 * upstream call; settle() replaces it with the provider's actual usage.
 *
 * Counts with gpt-tokenizer's o200k_base encoding (GPT-4o/4.1/5 family; for other
 * providers it is an estimate within a few percent). It counts without building
 * token arrays, treats special-token text in user content as plain text, and adds
 * the chat framing OpenAI documents (3 tokens per message, 3 to prime the reply),
 * a flat 765 tokens per image (a 1024×1024 high-detail tile set), and the expected
 * output: max tokens, or `defaultOutputTokens` when the request sets none.
 */
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatRequest, Message, ToolDefinition } from '../canonical.js';

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING_TOKENS = 3;
const TOKENS_PER_IMAGE = 765;

export interface EstimateOptions {
  /** Output tokens to expect when the request sets no max tokens (default 1024). */
  defaultOutputTokens?: number;
}

/** Tokens of one text, counted with o200k_base. */
export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : countTokens(text, PLAIN_TEXT);
}

function messageTokens(message: Message): number {
  let tokens = TOKENS_PER_MESSAGE;
  for (const part of message.content) tokens += part.type === 'text' ? countTextTokens(part.text) : TOKENS_PER_IMAGE;
  if (message.role === 'assistant' && message.toolCalls !== undefined) {
    for (const call of message.toolCalls) tokens += countTextTokens(call.name) + countTextTokens(call.arguments);
  }
  return tokens;
}

const toolTokenCache = new WeakMap<ToolDefinition, number>();

function toolTokens(tool: ToolDefinition): number {
  let tokens = toolTokenCache.get(tool);
  if (tokens === undefined) {
    tokens = countTextTokens(tool.name) + countTextTokens(tool.description ?? '') + countTextTokens(JSON.stringify(tool.parameters));
    toolTokenCache.set(tool, tokens);
  }
  return tokens;
}

/**
 * Input tokens of `input` plus expected output tokens. Strings (e.g. embedding
 * inputs) are counted without chat framing; pass `maxTokens` 0 when no output is generated.
 */
export function estimateTokens(
  input: string | readonly string[] | readonly Message[],
  maxTokens: number | undefined,
  options: EstimateOptions = {},
): number {
  const output = maxTokens ?? options.defaultOutputTokens ?? 1024;
  if (typeof input === 'string') return countTextTokens(input) + output;
  let tokens = 0;
  let chat = false;
  for (const item of input) {
    if (typeof item === 'string') tokens += countTextTokens(item);
    else {
      tokens += messageTokens(item);
      chat = true;
    }
  }
  return tokens + (chat ? REPLY_PRIMING_TOKENS : 0) + output;
}

/** estimateTokens for a canonical chat request: messages, tool definitions and its max tokens. */
export function estimateRequestTokens(request: ChatRequest, options: EstimateOptions = {}): number {
  let tokens = estimateTokens(request.messages, request.maxTokens, options);
  if (request.tools !== undefined) for (const tool of request.tools) tokens += toolTokens(tool);
  return tokens;
}
