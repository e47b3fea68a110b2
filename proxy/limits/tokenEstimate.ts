/**
 * Pre-call token estimate used to reserve tokens/min and token budgets (and to
 * hold a cost estimate) before the upstream call; settle() replaces it with the
 * provider's actual usage, so the estimate only decides how much capacity an
 * in-flight request holds.
 *
 * Why character classes and not a tokenizer: the hold is dominated by the expected
 * output (max tokens, or `defaultOutputTokens`), itself an upper bound, and a BPE
 * tokenizer on every request costs ~10 µs of CPU and ~30 MB of heap for its
 * tables. Per text: ASCII letters / 4.5, digits / 2.5 (numbers split into short
 * groups), punctuation / 1.5, whitespace / 8; letters and digits past the 16th of
 * one unbroken run / 1.7 (base64, hex, keys: dense); two-byte UTF-8 characters
 * (Latin accents, Greek, Cyrillic, Hebrew, Arabic) / 3; every other UTF-16 unit
 * (CJK, emoji halves) 1. Against o200k_base (test/limits/tokenEstimate.test.ts,
 * bench/analysis.md): English and Markdown 0.97-0.99x, German 1.01x, code
 * 0.84-1.12x, JSON 0.94x, URLs 0.96x, hex 1.02x, Russian 1.18x, Chinese 1.24x,
 * random base64 0.56-0.79x, UUIDs 0.51-0.64x. The pipeline counts exactly (tokenCount.ts)
 * before refusing a request as larger than a tokens/min limit can ever hold.
 *
 * Chat framing as OpenAI documents it: 3 tokens per message and 3 to prime the
 * reply; a flat 765 tokens per image (a 1024×1024 high-detail tile set).
 */
import type { ChatRequest, Message, ToolDefinition } from '../canonical.js';

const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING_TOKENS = 3;
const TOKENS_PER_IMAGE = 765;
const LETTERS_PER_TOKEN = 4.5;
const DIGITS_PER_TOKEN = 2.5;
const PUNCTUATION_PER_TOKEN = 1.5;
const WHITESPACE_PER_TOKEN = 8;
const DENSE_RUN_START = 16;
const DENSE_CHARS_PER_TOKEN = 1.7;
const TWO_BYTE_CHARS_PER_TOKEN = 3;

export type TextCounter = (text: string) => number;

export interface EstimateOptions {
  /** Output tokens to expect when the request sets no max tokens (default 1024). */
  defaultOutputTokens?: number;
  /** Counts one text; default estimateTextTokens (pass an exact counter to count exactly). */
  countText?: TextCounter;
}

/** Estimated tokens of one text (see the module comment for the rule and its accuracy). */
export function estimateTextTokens(text: string): number {
  let letters = 0;
  let digits = 0;
  let punctuation = 0;
  let whitespace = 0;
  let dense = 0;
  let twoByte = 0;
  let other = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) {
      run = 0;
      if (unit < 0x800) twoByte++;
      else other++;
      continue;
    }
    const letter = (unit >= 0x41 && unit <= 0x5a) || (unit >= 0x61 && unit <= 0x7a);
    const digit = unit >= 0x30 && unit <= 0x39;
    if (letter || digit) {
      if (++run > DENSE_RUN_START) dense++;
      else if (letter) letters++;
      else digits++;
    } else {
      run = 0;
      if (unit === 0x20 || unit === 0x0a || unit === 0x09 || unit === 0x0d) whitespace++;
      else punctuation++;
    }
  }
  const ascii = letters / LETTERS_PER_TOKEN + digits / DIGITS_PER_TOKEN + punctuation / PUNCTUATION_PER_TOKEN + whitespace / WHITESPACE_PER_TOKEN + dense / DENSE_CHARS_PER_TOKEN;
  return Math.ceil(ascii + twoByte / TWO_BYTE_CHARS_PER_TOKEN) + other;
}

function messageTokens(message: Message, count: TextCounter): number {
  let tokens = TOKENS_PER_MESSAGE;
  for (const part of message.content) tokens += part.type === 'text' ? count(part.text) : TOKENS_PER_IMAGE;
  if (message.role === 'assistant' && message.toolCalls !== undefined) {
    for (const call of message.toolCalls) tokens += count(call.name) + count(call.arguments);
  }
  return tokens;
}

/** Estimates of tool definitions, which clients resend unchanged with every request. */
const toolEstimates = new WeakMap<ToolDefinition, number>();

function toolTokens(tool: ToolDefinition, count: TextCounter): number {
  const cached = count === estimateTextTokens ? toolEstimates.get(tool) : undefined;
  if (cached !== undefined) return cached;
  const tokens = count(tool.name) + count(tool.description ?? '') + count(JSON.stringify(tool.parameters));
  if (count === estimateTextTokens) toolEstimates.set(tool, tokens);
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
  const count = options.countText ?? estimateTextTokens;
  const output = maxTokens ?? options.defaultOutputTokens ?? 1024;
  if (typeof input === 'string') return count(input) + output;
  let tokens = 0;
  let chat = false;
  for (const item of input) {
    if (typeof item === 'string') tokens += count(item);
    else {
      tokens += messageTokens(item, count);
      chat = true;
    }
  }
  return tokens + (chat ? REPLY_PRIMING_TOKENS : 0) + output;
}

/** estimateTokens for a canonical chat request: messages, tool definitions and its max tokens. */
export function estimateRequestTokens(request: ChatRequest, options: EstimateOptions = {}): number {
  const count = options.countText ?? estimateTextTokens;
  let tokens = estimateTokens(request.messages, request.maxTokens, options);
  if (request.tools !== undefined) for (const tool of request.tools) tokens += toolTokens(tool, count);
  return tokens;
}
