/**
 * Pre-call token estimate used to reserve tokens/min and token budgets (and to
 * hold a cost estimate) before the upstream call; settle() replaces it with the
 * provider's actual usage, so the estimate only decides how much capacity an
 * in-flight request holds.
 *
 * Why a character count and not a tokenizer: the hold is dominated by the expected
 * output (max tokens, or `defaultOutputTokens`), itself an upper bound, and a BPE
 * tokenizer on every request costs ~10 µs of CPU and ~30 MB of heap for its
 * tables. Measured against o200k_base (bench/analysis.md): English prose and
 * Markdown 0.97-1.0x, code 0.74x (a dense snippet) to 1.05x (a whole file),
 * JSON 0.88x, German 1.14x, Russian 1.16x,
 * Chinese and Japanese 1.2-1.3x; random base64 0.4x (an under-estimate that
 * settle corrects). Per text: ASCII characters / 4, characters of two-byte UTF-8
 * (Latin accents, Greek, Cyrillic, Hebrew, Arabic) / 3, every other UTF-16 unit
 * (CJK, emoji halves) 1. Exact counts, where no provider reports usage, come from
 * tokenCount.ts.
 *
 * Chat framing as OpenAI documents it: 3 tokens per message and 3 to prime the
 * reply; a flat 765 tokens per image (a 1024×1024 high-detail tile set).
 */
import type { ChatRequest, Message, ToolDefinition } from '../canonical.js';

const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING_TOKENS = 3;
const TOKENS_PER_IMAGE = 765;
const ASCII_CHARS_PER_TOKEN = 4;
const TWO_BYTE_CHARS_PER_TOKEN = 3;

export interface EstimateOptions {
  /** Output tokens to expect when the request sets no max tokens (default 1024). */
  defaultOutputTokens?: number;
}

/** Estimated tokens of one text (see the module comment for the rule and its accuracy). */
export function estimateTextTokens(text: string): number {
  let ascii = 0;
  let twoByte = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) ascii++;
    else if (unit < 0x800) twoByte++;
    else other++;
  }
  return Math.ceil(ascii / ASCII_CHARS_PER_TOKEN + twoByte / TWO_BYTE_CHARS_PER_TOKEN) + other;
}

function messageTokens(message: Message): number {
  let tokens = TOKENS_PER_MESSAGE;
  for (const part of message.content) tokens += part.type === 'text' ? estimateTextTokens(part.text) : TOKENS_PER_IMAGE;
  if (message.role === 'assistant' && message.toolCalls !== undefined) {
    for (const call of message.toolCalls) tokens += estimateTextTokens(call.name) + estimateTextTokens(call.arguments);
  }
  return tokens;
}

const toolTokenCache = new WeakMap<ToolDefinition, number>();

function toolTokens(tool: ToolDefinition): number {
  let tokens = toolTokenCache.get(tool);
  if (tokens === undefined) {
    tokens = estimateTextTokens(tool.name) + estimateTextTokens(tool.description ?? '') + estimateTextTokens(JSON.stringify(tool.parameters));
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
  if (typeof input === 'string') return estimateTextTokens(input) + output;
  let tokens = 0;
  let chat = false;
  for (const item of input) {
    if (typeof item === 'string') tokens += estimateTextTokens(item);
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
