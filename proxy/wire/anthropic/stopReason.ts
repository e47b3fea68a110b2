/**
 * Anthropic `stop_reason` ⇄ canonical FinishReason, shared by the client wire and
 * the upstream provider so both directions stay in one place.
 */
import type { FinishReason } from '../../canonical.js';

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

/**
 * An upstream `stop_reason` as a canonical finish reason. Unknown or null reasons
 * (new values Anthropic may add) count as `stop`; `model_context_window_exceeded`
 * counts as `length`.
 */
export function finishReasonOf(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** A canonical finish reason as Anthropic's `stop_reason`; `error` has no Anthropic word and reads `end_turn`. */
export function stopReasonOf(reason: FinishReason, stopSequence: string | undefined): AnthropicStopReason {
  switch (reason) {
    case 'stop':
      return stopSequence === undefined ? 'end_turn' : 'stop_sequence';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}
