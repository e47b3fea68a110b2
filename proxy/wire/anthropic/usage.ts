/**
 * Anthropic usage ⇄ canonical Usage. Anthropic's `input_tokens` EXCLUDES cache
 * reads and cache writes; canonical `inputTokens` is the total input, with
 * `cachedInputTokens` (reads) and `cacheWriteTokens` (writes) as subsets of it.
 */
import type { Usage } from '../../canonical.js';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Whether an Anthropic `usage` object reports the counts (input and output tokens). */
export function reportsUsage(usage: unknown): usage is Record<string, unknown> {
  if (typeof usage !== 'object' || usage === null) return false;
  const u = usage as Record<string, unknown>;
  return typeof u.input_tokens === 'number' && typeof u.output_tokens === 'number';
}

/** Canonical usage from an Anthropic `usage` object; missing or null counters count as 0. */
export function usageFromAnthropic(usage: Record<string, unknown>): Usage {
  const cachedInputTokens = count(usage.cache_read_input_tokens);
  const cacheWriteTokens = count(usage.cache_creation_input_tokens);
  return {
    inputTokens: count(usage.input_tokens) + cachedInputTokens + cacheWriteTokens,
    outputTokens: count(usage.output_tokens),
    cachedInputTokens,
    cacheWriteTokens,
  };
}

/** Anthropic's usage counters for a canonical usage (input without cache reads and writes, never negative). */
export function usageToAnthropic(usage: Usage): AnthropicUsage {
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens),
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cachedInputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
  };
}
