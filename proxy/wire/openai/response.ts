/** Canonical ChatResponse and model list → OpenAI `chat.completion` and model `list` objects. */
import { textOf, ZERO_USAGE, type ChatResponse, type FinishReason, type ToolCall, type Usage } from '../../canonical.js';
import type { ModelInfo } from '../types.js';

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** OpenAI has no `error` finish reason; a generation cut by an error reports `stop`. */
export function openaiFinishReason(reason: FinishReason): OpenAIFinishReason {
  return reason === 'error' ? 'stop' : reason;
}

export function openaiUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
  };
}

function openaiToolCalls(calls: readonly ToolCall[]): Record<string, unknown>[] {
  return calls.map((call) => ({
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  }));
}

export function encodeChat(response: ChatResponse): Record<string, unknown> {
  const content = textOf(response.content);
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: content.length > 0 ? content : null,
    refusal: null,
  };
  if (response.toolCalls.length > 0) message.tool_calls = openaiToolCalls(response.toolCalls);
  return {
    id: response.id,
    object: 'chat.completion',
    created: response.created,
    model: response.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: openaiFinishReason(response.finishReason) }],
    usage: openaiUsage(response.usage ?? ZERO_USAGE),
  };
}

export function renderModels(models: readonly ModelInfo[]): Record<string, unknown> {
  return {
    object: 'list',
    data: models.map((model) => ({ id: model.id, object: 'model', created: model.created, owned_by: model.ownedBy })),
  };
}
