/**
 * Encodes canonical answers in the Anthropic wire's own shapes: a Message object
 * for `POST /v1/messages` and the model list for `GET /v1/models`.
 */
import { ZERO_USAGE, type ChatResponse } from '../../canonical.js';
import type { ModelInfo } from '../types.js';
import { stopReasonOf } from './stopReason.js';
import { toolInputOf } from './toolInput.js';
import { usageToAnthropic } from './usage.js';

type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/**
 * A real Message object: text blocks in order, then one `tool_use` block per tool
 * call (its `input` parsed from `arguments`, `{}` when that is not a JSON object).
 * Image parts have no place in an assistant Message and are left out.
 */
export function encodeChat(response: ChatResponse): unknown {
  const content: ContentBlock[] = [];
  for (const part of response.content) if (part.type === 'text') content.push({ type: 'text', text: part.text });
  for (const call of response.toolCalls) {
    content.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInputOf(call.arguments) });
  }
  return {
    id: response.id,
    type: 'message',
    role: 'assistant',
    model: response.model,
    content,
    stop_reason: stopReasonOf(response.finishReason, response.stopSequence),
    stop_sequence: response.stopSequence ?? null,
    usage: usageToAnthropic(response.usage ?? ZERO_USAGE),
  };
}

/** Anthropic's `GET /v1/models` page: every model in one page, `created_at` as RFC 3339. */
export function renderModels(models: readonly ModelInfo[]): unknown {
  const data = models.map((model) => ({
    type: 'model',
    id: model.id,
    display_name: model.id,
    created_at: new Date(model.created * 1000).toISOString(),
  }));
  return {
    data,
    has_more: false,
    first_id: data.length > 0 ? data[0]!.id : null,
    last_id: data.length > 0 ? data[data.length - 1]!.id : null,
  };
}
