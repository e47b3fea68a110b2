import type { ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, StreamEvent } from '../canonical.js';
import type { ProviderKind } from './types.js';

/** One server-sent event as the SSE parser hands it over. */
export interface SseMessage {
  event: string | undefined;
  data: string;
}

/**
 * Turns an upstream's SSE messages into canonical stream events. One decoder per
 * stream; it may keep state (tool-call indexes, usage so far). It throws an
 * UpstreamFailure('bad_response') on a message it cannot understand, and an
 * UpstreamFailure of the matching reason on an in-stream error event.
 */
export interface StreamDecoder {
  decode(message: SseMessage): StreamEvent[];
  /** True once the wire's end marker (`[DONE]`, `message_stop`) was seen. */
  readonly done: boolean;
}

/**
 * An HTTP provider as data plus pure functions; one generic engine
 * (httpProvider.ts) applies it. Transport (base URL, auth headers) is separate from
 * mapping (encode/decode). Every function here is pure and never sees the key
 * except `authHeaders`.
 */
export interface HttpProviderSpec {
  readonly kind: ProviderKind;
  /** `gen_ai.provider.name`. */
  readonly system: string;
  readonly defaultBaseUrl: string | undefined;
  readonly chatPath: string;
  readonly embeddingsPath: string | undefined;
  authHeaders(apiKey: string | undefined): Record<string, string>;
  encodeChat(request: ChatRequest, model: string): Record<string, unknown>;
  decodeChat(body: unknown): ChatResponse;
  createStreamDecoder(): StreamDecoder;
  encodeEmbeddings?(request: EmbeddingRequest, model: string): Record<string, unknown>;
  decodeEmbeddings?(body: unknown): EmbeddingResponse;
  /** The upstream's error message from an error body, for logs and the client, never a key. */
  errorMessage(body: unknown): string | undefined;
}
