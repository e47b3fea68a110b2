import type { ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, StreamEvent, WireName } from '../canonical.js';
import type { GatehouseError } from '../errors.js';

/**
 * Encodes canonical stream events into one client wire's SSE text. One encoder
 * per response. Each method returns the bytes to write ('' when nothing is due
 * yet, e.g. an Anthropic encoder holding `finish` until usage arrives).
 */
export interface StreamEncoder {
  event(event: StreamEvent): string;
  /** Ends a complete stream (flushes anything held back, then the wire's end marker). */
  end(): string;
  /** Ends a stream that failed after its first byte reached the client, with the wire's error event. */
  error(error: GatehouseError): string;
}

export interface RenderedError {
  status: number;
  body: unknown;
}

/** The model list in a wire's own shape. */
export interface ModelInfo {
  id: string;
  created: number;
  ownedBy: string;
}

/**
 * A client-facing wire: decodes what the client sent into the canonical model and
 * encodes the canonical answer back. Decoders validate and throw
 * GatehouseError('invalid_request') naming the field (`messages[1].content`).
 */
export interface ClientWire {
  readonly name: WireName;
  decodeChat(body: unknown): ChatRequest;
  encodeChat(response: ChatResponse): unknown;
  streamEncoder(request: ChatRequest): StreamEncoder;
  renderError(error: GatehouseError): RenderedError;
  renderModels(models: readonly ModelInfo[]): unknown;
}

/** The OpenAI wire also carries embeddings. */
export interface EmbeddingsWire {
  decodeEmbeddings(body: unknown): EmbeddingRequest;
  encodeEmbeddings(response: EmbeddingResponse, request: EmbeddingRequest): unknown;
}
