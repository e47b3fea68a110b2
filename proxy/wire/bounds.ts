/**
 * The largest values a request may carry for fields that size the gateway's or
 * the provider's work. Beyond them the caller gets 400 `invalid_request` naming
 * the field, before any policy, limit or upstream work. docs/operations.md
 * ("Bounds on caller input") lists them.
 */
import { invalidRequest } from '../errors.js';

/** Messages in one chat request. */
export const MAX_MESSAGES = 10_000;
/** Tool definitions in one chat request (OpenAI's own limit). */
export const MAX_TOOLS = 128;
/** max_tokens / max_completion_tokens: beyond any current model's output. */
export const MAX_OUTPUT_TOKENS = 1_048_576;
/** Embeddings `dimensions`. */
export const MAX_EMBEDDING_DIMENSIONS = 8_192;

/** Throws 400 naming `path` when `list` has more than `max` items. */
export function boundLength(list: readonly unknown[], max: number, path: string): void {
  if (list.length > max) throw invalidRequest(path, `at most ${max} items (got ${list.length})`);
}

/** Throws 400 naming `path` when `value` is above `max`. */
export function boundNumber<T extends number | undefined>(value: T, max: number, path: string): T {
  if (value !== undefined && value > max) throw invalidRequest(path, `must be at most ${max}`);
  return value;
}
