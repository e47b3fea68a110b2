/**
 * Usage the provider did not report, counted by the gateway with the o200k
 * tokenizer (tokenCount.ts): the request's message text as input, the answer's
 * text and tool calls as output. Whatever the wire and mode, such usage is
 * flagged `usage_estimated`, and an answer is never retried for lacking it.
 */
import { textOf, type ChatRequest, type ToolCall, type Usage } from '../canonical.js';
import { tokenCounter } from '../tokenCount.js';

export interface ProducedAnswer {
  text: string;
  toolCalls: readonly ToolCall[];
}

/** Counted usage; `reportedInputTokens` (e.g. from a stream's start event) is kept when the provider gave it. */
export async function estimateChatUsage(request: ChatRequest, answer: ProducedAnswer, reportedInputTokens?: number): Promise<Usage> {
  const count = await tokenCounter();
  let produced = answer.text;
  for (const call of answer.toolCalls) produced += call.name + call.arguments;
  const inputTokens = reportedInputTokens ?? count(request.messages.map((m) => textOf(m.content)).join('\n'));
  return { inputTokens, outputTokens: count(produced), cachedInputTokens: 0, cacheWriteTokens: 0 };
}

/** Counted input tokens of an embeddings request. */
export async function estimateEmbeddingTokens(input: readonly string[]): Promise<number> {
  const count = await tokenCounter();
  let total = 0;
  for (const text of input) total += count(text);
  return total;
}
